//! [`GraphTrainConfig`]: everything that defines a graph run, saved as `config.json` beside its outputs.

use super::decoder_kind::DecoderKind;
use super::model::{LossKind, ModelKind};
use super::trainer::FitConfig;
use serde::{Deserialize, Serialize};
use vgae_data::edgelist::EdgeListOptions;
use vgae_data::SplitConfig;

/// Everything that defines a run; saved as `config.json` beside its outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphTrainConfig {
    /// Dataset name (or edge-list path) the run trains on.
    pub dataset: String,
    /// GAE or VGAE.
    pub model: ModelKind,
    /// Use node features (GAE / VGAE); false = featureless X = I (GAE* / VGAE*).
    pub features: bool,
    /// The reconstruction loss.
    pub loss: LossKind,
    /// Epochs to train up to.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Width of the first GCN layer.
    pub hidden: usize,
    /// Embedding size.
    pub latent: usize,
    /// Dropout on the hidden layer in training.
    pub dropout: f32,
    /// Seed of the run's host RNG (stream 0: the split; stream 1: init, noise, negatives).
    pub seed: u64,
    /// How the split is drawn from the seed.
    pub split: SplitConfig,
    /// Rows per block of the dense loss on non-CPU devices.
    pub block: usize,
    /// Write a checkpoint every N epochs into `<run>/checkpoints/` (0 = only the final one).
    #[serde(default)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
    /// The dataset file's absolute path when `dataset` is an edge list (so a checkpoint finds it from any
    /// directory); absent for named datasets and in older configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_path: Option<std::path::PathBuf>,
    /// How the edge list was read (header, delimiter, node-feature file); absent for named datasets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_list: Option<EdgeListOptions>,
    /// Also keep the checkpoint of the best-validation epoch as `<run>/best.safetensors`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_best: bool,
    /// Stop once validation AUC has not improved for this many epochs (0: never).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub patience: usize,
    /// The GCN's hidden widths, replacing `hidden` when given: empty is the linear model Z = ÂXW (Salha et
    /// al. 2020), several a deeper encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_layers: Option<Vec<usize>>,
    /// Regularise the embedding with a discriminator: ARGA for GAE, ARGVA for VGAE (Pan et al. 2018; PyG's
    /// discriminator settings: 64-64 ReLU, Adam 0.001, 5 steps per epoch).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adversarial: bool,
    /// Edge weights enter Â through weighted degrees (the reconstruction target stays binary).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weighted: bool,
    /// Edge weights scaled to [0, 1] are the training edges' reconstruction targets (independent of
    /// `weighted`, which puts them in Â).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft_targets: bool,
    /// A zero-initialised bias after every GCN convolution (PyG's `GCNConv`); the paper's has none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bias: bool,
    /// The edge decoder: the paper's inner product, or an asymmetric one for directed graphs.
    #[serde(default, skip_serializing_if = "is_default")]
    pub decoder: DecoderKind,
    /// λ of the gravity decoder (the paper's default 1).
    #[serde(default = "default_lambda", skip_serializing_if = "is_default_lambda")]
    pub gravity_lambda: f64,
    /// The gravity decoder scales positions to unit length.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gravity_normalize: bool,
}

fn is_default<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

fn default_lambda() -> f64 {
    1.0
}

fn is_default_lambda(x: &f64) -> bool {
    *x == default_lambda()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn default_keep_last() -> usize {
    3
}

impl Default for GraphTrainConfig {
    fn default() -> Self {
        GraphTrainConfig {
            dataset: "cora".into(),
            model: ModelKind::Vgae,
            features: true,
            loss: LossKind::Dense,
            epochs: 200,
            lr: 0.01,
            hidden: 32,
            latent: 16,
            dropout: 0.0,
            seed: 0,
            split: SplitConfig::default(),
            block: 1024,
            checkpoint_every: 0,
            keep_last: 3,
            dataset_path: None,
            edge_list: None,
            keep_best: false,
            patience: 0,
            hidden_layers: None,
            adversarial: false,
            weighted: false,
            soft_targets: false,
            bias: false,
            decoder: DecoderKind::InnerProduct,
            gravity_lambda: 1.0,
            gravity_normalize: false,
        }
    }
}

impl GraphTrainConfig {
    /// The row name: GAE, VGAE, ARGA or ARGVA, `Linear…` without a hidden layer, `…-32-32` for deeper
    /// encoders, `Gravity-` or `SourceTarget-` before an asymmetric decoder's, and `*` when featureless
    /// (the paper's GAE* / VGAE*).
    pub fn label(&self) -> String {
        format!("{}{}", self.decoder.label_prefix(), self.encoder_label())
    }

    fn encoder_label(&self) -> String {
        let base = match (self.model, self.adversarial) {
            (ModelKind::Gae, false) => "GAE",
            (ModelKind::Vgae, false) => "VGAE",
            (ModelKind::Gae, true) => "ARGA",
            (ModelKind::Vgae, true) => "ARGVA",
        };
        let base = match &self.hidden_layers {
            Some(h) if h.is_empty() => format!("Linear{base}"),
            Some(h) if h.as_slice() != [self.hidden] => {
                let w: Vec<String> = h.iter().map(|x| x.to_string()).collect();
                format!("{base}-{}", w.join("-"))
            }
            _ => base.to_string(),
        };
        if self.features {
            base
        } else {
            format!("{base}*")
        }
    }

    /// The configured decoder (with the gravity decoder's λ and normalisation).
    pub fn decoder(&self) -> super::decoder_kind::AnyDecoder {
        self.decoder
            .build(self.gravity_lambda, self.gravity_normalize)
    }

    /// The GCN's hidden widths: `hidden_layers`, or the one layer of `hidden`.
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.hidden_layers
            .clone()
            .unwrap_or_else(|| vec![self.hidden])
    }
}

impl GraphTrainConfig {
    /// The part of the config that says how to fit (epochs, loss, checkpoints).
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            epochs: self.epochs,
            loss: self.loss,
            block: self.block,
            checkpoint_every: self.checkpoint_every,
            keep_last: self.keep_last,
            label: self.label(),
            weighted: self.weighted,
            soft_targets: self.soft_targets,
        }
    }
}
