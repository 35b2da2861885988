//! The two non-neural baselines of Kipf & Welling (2016), Table 1: spectral clustering (SC) and DeepWalk
//! (DW). Both embed the nodes of the **training** graph of an [`EdgeSplit`] and score held-out pairs by the
//! dot product of embeddings (SC through a sigmoid, which ranks the same), with the metrics the GAE / VGAE
//! rows use. A baseline run on seed `s` uses the split of seed `s` (drawn by
//! [`crate::graph::train::make_split`] from `RunRng::stream(s, 0)`), and its own draws come from
//! `RunRng::stream(s, 2)` (SC: Lanczos start vectors) or `RunRng::stream(s, 3)` (DW: walks, init,
//! negatives).

pub mod deepwalk;
pub mod lanczos;
pub mod spectral;

pub use deepwalk::{deepwalk_embedding, DeepWalkConfig, DeepWalkInfo};
pub use spectral::{spectral_embedding, SpectralConfig, SpectralInfo};

use crate::graph::GraphRunResult;
use crate::metrics::{average_precision, link_scores, roc_auc, LinkScores};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use vgae_data::{EdgeSplit, Graph};

/// `RunRng` stream of the spectral baseline.
pub const SC_STREAM: u64 = 2;
/// `RunRng` stream of DeepWalk.
pub const DW_STREAM: u64 = 3;

/// Node embeddings, row-major `[n, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// Number of nodes (rows).
    pub n: usize,
    /// Embedding dimension (columns).
    pub dim: usize,
    /// The `n · dim` values, node by node.
    pub data: Vec<f32>,
}

impl Embedding {
    /// An all-zero `[n, dim]` embedding.
    pub fn zeros(n: usize, dim: usize) -> Self {
        Embedding {
            n,
            dim,
            data: vec![0.0; n * dim],
        }
    }

    /// Node `i`'s vector `z_i`, `[dim]`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// `z_i · z_j`, accumulated in f64.
    pub fn dot(&self, i: u32, j: u32) -> f64 {
        self.row(i as usize)
            .iter()
            .zip(self.row(j as usize))
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum()
    }

    /// [`Embedding::dot`] of every `[i, j]` pair, in order.
    pub fn dots(&self, pairs: &[[u32; 2]]) -> Vec<f64> {
        pairs.iter().map(|&[i, j]| self.dot(i, j)).collect()
    }
}

/// Which baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineKind {
    /// Spectral clustering embedding; score `sigmoid(z_i · z_j)`.
    Sc,
    /// DeepWalk; score `z_i · z_j`.
    Dw,
}

impl BaselineKind {
    /// The paper's row name.
    pub fn label(self) -> &'static str {
        match self {
            BaselineKind::Sc => "SC",
            BaselineKind::Dw => "DW",
        }
    }

    /// AUC / AP of the pairs under this baseline's link score.
    pub fn scores(self, emb: &Embedding, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> LinkScores {
        let (p, n) = (emb.dots(pos), emb.dots(neg));
        match self {
            BaselineKind::Sc => {
                let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<_>>();
                link_scores(&f(p), &f(n))
            }
            BaselineKind::Dw => LinkScores {
                auc: roc_auc(&p, &n).unwrap_or(f64::NAN),
                ap: average_precision(&p, &n).unwrap_or(f64::NAN),
            },
        }
    }
}

/// Settings of both baselines (each run uses the one of its kind).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BaselineConfig {
    /// Settings of spectral clustering ([`BaselineKind::Sc`]).
    pub spectral: SpectralConfig,
    /// Settings of DeepWalk ([`BaselineKind::Dw`]).
    pub deepwalk: DeepWalkConfig,
}

/// Diagnostics of one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum BaselineInfo {
    /// Of a spectral clustering run: the eigensolver's report.
    Spectral(SpectralInfo),
    /// Of a DeepWalk run: walk and SGD statistics.
    DeepWalk(DeepWalkInfo),
}

/// One baseline run: the embedding and its validation / test scores.
#[derive(Debug, Clone)]
pub struct BaselineRun {
    /// Which baseline ran.
    pub kind: BaselineKind,
    /// The run's seed: the split's and (through [`SC_STREAM`] / [`DW_STREAM`]) the baseline's own draws.
    pub seed: u64,
    /// The embedding of every node, learnt from the training edges only.
    pub embedding: Embedding,
    /// AUC / AP on the validation pairs.
    pub val: LinkScores,
    /// AUC / AP on the test pairs (the numbers of the paper's Table 1).
    pub test: LinkScores,
    /// Wall-clock time of the embedding, in seconds (scoring excluded).
    pub seconds: f64,
    /// Diagnostics of the embedding.
    pub info: BaselineInfo,
}

impl BaselineRun {
    /// The per-run record in the same shape as a GAE / VGAE run (no epochs: `epochs` 0 for SC, the SGD
    /// passes for DW; "best" = final, as there is no validation-based selection).
    pub fn result(&self) -> GraphRunResult {
        let epochs = match &self.info {
            BaselineInfo::Spectral(_) => 0,
            BaselineInfo::DeepWalk(i) => i.epochs,
        };
        GraphRunResult {
            label: self.kind.label().into(),
            epochs,
            val_auc: self.val.auc,
            val_ap: self.val.ap,
            test_auc: self.test.auc,
            test_ap: self.test.ap,
            best_epoch: epochs,
            best_val_auc: self.val.auc,
            best_val_ap: self.val.ap,
            best_test_auc: self.test.auc,
            best_test_ap: self.test.ap,
            train_seconds: self.seconds,
            seconds_per_epoch: self.seconds,
        }
    }
}

/// Embeds the training graph of `split` (audited against `graph` first) with the baseline `kind` and
/// scores the validation and test pairs.
pub fn run(
    kind: BaselineKind,
    graph: &Graph,
    split: &EdgeSplit,
    cfg: &BaselineConfig,
    seed: u64,
) -> Result<BaselineRun> {
    split
        .audit(graph)
        .map_err(|v| Error::msg(format!("split does not fit dataset '{}': {v}", graph.name)))?;
    let t = Instant::now();
    let (embedding, info) = match kind {
        BaselineKind::Sc => {
            let (e, i) =
                spectral_embedding(graph.num_nodes, &split.train_pos, &cfg.spectral, seed)?;
            (e, BaselineInfo::Spectral(i))
        }
        BaselineKind::Dw => {
            let (e, i) =
                deepwalk_embedding(graph.num_nodes, &split.train_pos, &cfg.deepwalk, seed)?;
            (e, BaselineInfo::DeepWalk(i))
        }
    };
    let seconds = t.elapsed().as_secs_f64();
    let val = kind.scores(&embedding, &split.val_pos, &split.val_neg);
    let test = kind.scores(&embedding, &split.test_pos, &split.test_neg);
    if !test.auc.is_finite() || !test.ap.is_finite() {
        return Err(Error::msg(format!(
            "{} on '{}': test AUC/AP is not finite (empty test set?)",
            kind.label(),
            graph.name
        )));
    }
    Ok(BaselineRun {
        kind,
        seed,
        embedding,
        val,
        test,
        seconds,
        info,
    })
}
