//! `vgae train`'s flags. Every number is checked while the command line is parsed, before any data is read,
//! and the message gives the valid range; negative numbers parse (and are then refused by their range).

use super::edgelist_args::EdgeListArgs;
use super::{DecoderArg, FeaturesArg, LossArg, ModelArg, TaskArg};
use clap::Args;
use std::path::PathBuf;
use vgae_core::graph::GraphTrainConfig;
use vgae_data::SplitConfig;

/// A whole number in `lo..=hi`.
fn int_in(s: &str, lo: i64, hi: i64) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v as usize),
        Ok(v) => Err(format!(
            "{v} is out of range: expected a whole number in {lo}..={hi}"
        )),
        Err(_) => Err(format!(
            "'{s}' is not a whole number (expected {lo}..={hi})"
        )),
    }
}

/// A finite number inside an interval given as text for the message.
fn float_in(s: &str, ok: impl Fn(f64) -> bool, range: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && ok(v) => Ok(v),
        Ok(v) => Err(format!("{v} is out of range: expected a number in {range}")),
        Err(_) => Err(format!("'{s}' is not a number (expected {range})")),
    }
}

/// `--epochs`: 1..=1000000.
pub fn epochs(s: &str) -> Result<usize, String> {
    int_in(s, 1, 1_000_000)
}
fn hidden(s: &str) -> Result<usize, String> {
    int_in(s, 1, 8192)
}
fn latent(s: &str) -> Result<usize, String> {
    int_in(s, 1, 4096)
}
fn every(s: &str) -> Result<usize, String> {
    int_in(s, 0, 1_000_000)
}
fn keep(s: &str) -> Result<usize, String> {
    int_in(s, 1, 10_000)
}
fn lr(s: &str) -> Result<f64, String> {
    float_in(s, |v| v > 0.0 && v <= 1.0, "(0, 1]")
}
fn dropout(s: &str) -> Result<f32, String> {
    float_in(s, |v| (0.0..1.0).contains(&v), "[0, 1)").map(|v| v as f32)
}
fn frac(s: &str) -> Result<f64, String> {
    float_in(s, |v| v > 0.0 && v < 1.0, "(0, 1)")
}
fn lambda(s: &str) -> Result<f64, String> {
    float_in(s, |v| v > 0.0 && v <= 100.0, "(0, 100]")
}
fn seed(s: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| {
        format!(
            "'{s}' is not a seed: expected a whole number in 0..={}",
            u64::MAX
        )
    })
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// cora, citeseer, pubmed, or the path of an edge-list file.
    #[arg(long, default_value = "cora")]
    pub dataset: String,
    #[command(flatten)]
    pub edge_list: EdgeListArgs,
    #[arg(long, value_enum, default_value = "vgae")]
    pub model: ModelArg,
    /// auto: the dataset's node features, or X = I (with a notice) when it has none; none: X = I.
    #[arg(long, value_enum, default_value = "auto")]
    pub features: FeaturesArg,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    /// Epochs to train (1..=1000000).
    #[arg(long, default_value = "200", value_parser = epochs, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Seed of the run's host RNG (split, init, noise, negatives).
    #[arg(long, default_value = "0", value_parser = seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Adam's learning rate, in (0, 1].
    #[arg(long, default_value = "0.01", value_parser = lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Width of the hidden GCN layer (1..=8192).
    #[arg(long, default_value = "32", value_parser = hidden, allow_negative_numbers = true)]
    pub hidden: usize,
    /// Widths of the hidden GCN layers, replacing --hidden: a deeper encoder (e.g. 32,32); each 1..=8192.
    #[arg(long, value_delimiter = ',', value_parser = hidden, conflicts_with = "hidden")]
    pub layers: Option<Vec<usize>>,
    /// A zero-initialised bias after every GCN convolution, as PyTorch Geometric's GCNConv (the paper's
    /// encoder has none).
    #[arg(long)]
    pub bias: bool,
    /// Edge weights of the edge list enter Â through weighted degrees (the target stays binary).
    #[arg(long)]
    pub weighted: bool,
    /// Edge weights divided by the largest are the training edges' reconstruction targets (soft BCE
    /// targets; independent of --weighted).
    #[arg(long)]
    pub soft_targets: bool,
    /// The edge decoder; gravity and source-target are asymmetric, for directed graphs (--directed).
    #[arg(long, value_enum, default_value = "inner-product")]
    pub decoder: DecoderArg,
    /// λ of the gravity decoder, the weight of its distance term, in (0, 100].
    #[arg(long, default_value = "1", value_parser = lambda, allow_negative_numbers = true)]
    pub gravity_lambda: f64,
    /// The gravity decoder scales positions to unit length.
    #[arg(long)]
    pub gravity_normalize: bool,
    /// Directed graphs: the link-prediction task the split is drawn for (Salha et al. 2019, Section 4.1)
    /// [default: general].
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Embedding size (1..=4096).
    #[arg(long, default_value = "16", value_parser = latent, allow_negative_numbers = true)]
    pub latent: usize,
    /// Dropout on the hidden layer in training, in [0, 1).
    #[arg(long, default_value = "0", value_parser = dropout, allow_negative_numbers = true)]
    pub dropout: f32,
    /// Fraction of the edges held out for validation, in (0, 1), rounded down to whole edges [default: 0.05].
    #[arg(long, value_parser = frac, allow_negative_numbers = true)]
    pub val_frac: Option<f64>,
    /// Fraction of the edges held out for test, in (0, 1); val + test must stay below 1 [default: 0.1].
    #[arg(long, value_parser = frac, allow_negative_numbers = true)]
    pub test_frac: Option<f64>,
    /// Use this split file (from `vgae split make`) instead of drawing one from the seed.
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Run directory (default: runs/<dataset>-<model>-s<seed>, with -2, -3, ... added if it exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the run in an existing run directory (its checkpoints, metrics and results are deleted).
    #[arg(long)]
    pub overwrite: bool,
    /// Write a checkpoint every N epochs into <run>/checkpoints (0: only the final one).
    #[arg(long, default_value = "0", value_parser = every, allow_negative_numbers = true)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints (1..=10000).
    #[arg(long, default_value = "3", value_parser = keep, allow_negative_numbers = true)]
    pub keep_last: usize,
    /// Also keep the checkpoint of the best-validation epoch as <run>/best.safetensors (for eval / embed /
    /// score).
    #[arg(long)]
    pub keep_best: bool,
    /// Stop early once validation AUC has not improved for N epochs (0: train all --epochs).
    #[arg(long, default_value = "0", value_parser = every, allow_negative_numbers = true)]
    pub patience: usize,
    /// Without a terminal, print a progress line every N epochs (0: about ten lines per run).
    #[arg(long, default_value = "0", value_parser = every, allow_negative_numbers = true)]
    pub log_every: usize,
    /// Print one JSON object with the final metrics instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Held-out sets smaller than this get a warning: their AUC / AP move in steps of several points.
pub const SMALL_SET: usize = 20;

impl TrainArgs {
    /// The checks that involve two flags (each flag's own range is checked while parsing).
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !(self.model.linear() && self.layers.is_some()),
            "--layers does not apply to --model {:?}: the linear models have no hidden layer",
            self.model
        );
        let s = self.split_config();
        anyhow::ensure!(
            s.val_frac + s.test_frac < 1.0,
            "--val-frac {} + --test-frac {} = {}: the two must sum below 1 (some edges must stay for training)",
            s.val_frac,
            s.test_frac,
            s.val_frac + s.test_frac
        );
        anyhow::ensure!(
            self.task.is_none() || self.edge_list.directed,
            "--task is for directed graphs: read the edge list with --directed"
        );
        anyhow::ensure!(
            self.split.is_none() || (self.val_frac.is_none() && self.test_frac.is_none()),
            "--val-frac / --test-frac do not apply with --split (the split file fixes its own held-out sets)"
        );
        Ok(())
    }

    /// The fractions asked for (Kipf's 5 % / 10 % by default).
    pub fn split_config(&self) -> SplitConfig {
        let d = SplitConfig::default();
        SplitConfig {
            val_frac: self.val_frac.unwrap_or(d.val_frac),
            test_frac: self.test_frac.unwrap_or(d.test_frac),
            directed: self.task.map(Into::into),
            ..d
        }
    }

    pub fn config(&self) -> GraphTrainConfig {
        GraphTrainConfig {
            dataset: self.dataset.clone(),
            model: self.model.into(),
            features: matches!(self.features, FeaturesArg::Auto),
            loss: self.loss.into(),
            epochs: self.epochs,
            lr: self.lr,
            hidden: self.hidden,
            latent: self.latent,
            dropout: self.dropout,
            seed: self.seed,
            checkpoint_every: self.checkpoint_every,
            keep_last: self.keep_last,
            split: self.split_config(),
            keep_best: self.keep_best,
            patience: self.patience,
            adversarial: self.model.adversarial(),
            hidden_layers: match self.model.linear() {
                true => Some(Vec::new()),
                false => self.layers.clone(),
            },
            weighted: self.weighted,
            soft_targets: self.soft_targets,
            bias: self.bias,
            decoder: self.decoder.into(),
            gravity_lambda: self.gravity_lambda,
            gravity_normalize: self.gravity_normalize,
            ..GraphTrainConfig::default()
        }
    }
}

/// Checks the held-out sets a split of `edges` edges will have: an empty one is an error naming its flag,
/// one under [`SMALL_SET`] pairs a warning (printed).
pub fn check_held_out(
    edges: usize,
    val: usize,
    test: usize,
    from_file: bool,
) -> anyhow::Result<()> {
    for (what, flag, n) in [
        ("validation", "--val-frac", val),
        ("test", "--test-frac", test),
    ] {
        let fix = if from_file {
            "make a split with larger fractions".to_string()
        } else {
            format!("raise {flag} or use a larger graph")
        };
        anyhow::ensure!(
            n > 0,
            "the {what} set is empty: the graph has {edges} edges and the split holds out 0 of them; {fix}"
        );
        if n < SMALL_SET {
            eprintln!(
                "warning: the {what} set has only {n} positive pairs (and as many negatives) of {edges} edges: \
                 its AUC / AP will be coarse and noisy; {fix} for a steadier estimate"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_in_the_messages() {
        assert!(epochs("0").unwrap_err().contains("1..=1000000"));
        assert!(hidden("-3").unwrap_err().contains("out of range"));
        assert!(lr("0").unwrap_err().contains("(0, 1]"));
        assert!(lr("1e9").is_err() && lr("nan").is_err());
        assert!(dropout("1.5").unwrap_err().contains("[0, 1)"));
        assert_eq!(dropout("0.5"), Ok(0.5));
        assert!(frac("x").unwrap_err().contains("not a number"));
        assert!(seed("-1").is_err());
    }
}
