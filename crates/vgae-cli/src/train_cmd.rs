use crate::globals::Globals;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use vgae_core::graph::{
    run, train, GraphRunResult, GraphTrainConfig, GraphTrainer, LossKind, ModelKind,
};
use vgae_data::EdgeSplit;

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum ModelArg {
    /// Graph autoencoder.
    Gae,
    /// Variational graph autoencoder.
    Vgae,
}

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum FeaturesArg {
    /// Use the dataset's node features.
    Auto,
    /// Featureless (X = I): the paper's GAE* / VGAE*.
    None,
}

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum LossArg {
    /// Weighted BCE over all N² pairs, as the reference implementation.
    Dense,
    /// Training edges plus fresh uniform negatives each epoch (PyG style).
    Sampled,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::Gae => ModelKind::Gae,
            ModelArg::Vgae => ModelKind::Vgae,
        }
    }
}

impl From<LossArg> for LossKind {
    fn from(l: LossArg) -> Self {
        match l {
            LossArg::Dense => LossKind::Dense,
            LossArg::Sampled => LossKind::Sampled,
        }
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// cora, citeseer, pubmed, or the path of an edge-list file.
    #[arg(long, default_value = "cora")]
    pub dataset: String,
    #[arg(long, value_enum, default_value = "vgae")]
    pub model: ModelArg,
    #[arg(long, value_enum, default_value = "auto")]
    pub features: FeaturesArg,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Seed of the run's host RNG (split, init, noise, negatives).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    #[arg(long, default_value_t = 32)]
    pub hidden: usize,
    #[arg(long, default_value_t = 16)]
    pub latent: usize,
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f32,
    /// Use this split file (from `vgae split make`) instead of drawing one from the seed.
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Run directory (default: runs/<dataset>-<model>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write a checkpoint every N epochs into <run>/checkpoints (0: only the final one).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[arg(long, default_value_t = 3)]
    pub keep_last: usize,
    /// Print one JSON object with the final metrics instead of text.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
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
            ..GraphTrainConfig::default()
        }
    }
}

pub fn bar(len: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    pb
}

pub fn run(a: TrainArgs, g: &Globals) -> anyhow::Result<()> {
    let device = g.device()?;
    let graph = g.source().load_graph(&a.dataset)?;
    if let Some(n) = &graph.note {
        eprintln!("note: {n}");
    }
    let cfg = a.config();
    let split = match &a.split {
        Some(p) => EdgeSplit::load(p)?,
        None => train::make_split(&graph, &cfg)?,
    };
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "{}-{}-s{}",
            graph.name,
            cfg.label().to_lowercase().replace('*', "-x"),
            cfg.seed
        ))
    });
    let mut trainer = GraphTrainer::new(cfg, &graph, split, &device)?;
    let pb = bar(trainer.cfg.epochs as u64, a.json);
    pb.set_prefix(format!("{} {}", graph.name, trainer.cfg.label()));
    let res = run::run(&mut trainer, Some(&dir), |r| {
        pb.set_message(format!("loss {:.4} val AUC {:.4}", r.loss, r.val_auc));
        pb.inc(1);
    })?;
    pb.finish_and_clear();
    report(&res, &graph.name, &dir, a.json)
}

/// Prints a run's final metrics, as text or one JSON object.
pub fn report(
    res: &GraphRunResult,
    dataset: &str,
    dir: &std::path::Path,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let mut v = serde_json::to_value(res)?;
        v["run_dir"] = dir.display().to_string().into();
        println!("{v}");
    } else {
        println!(
            "{} on {} ({} epochs, {:.3} s/epoch, run dir {})",
            res.label,
            dataset,
            res.epochs,
            res.seconds_per_epoch,
            dir.display()
        );
        println!(
            "  last epoch {:>3}: val AUC {:.4} AP {:.4} | test AUC {:.4} AP {:.4}",
            res.epochs, res.val_auc, res.val_ap, res.test_auc, res.test_ap
        );
        println!(
            "  best val   {:>3}: val AUC {:.4} AP {:.4} | test AUC {:.4} AP {:.4}",
            res.best_epoch, res.best_val_auc, res.best_val_ap, res.best_test_auc, res.best_test_ap
        );
    }
    Ok(())
}
