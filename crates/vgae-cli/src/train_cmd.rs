//! `vgae train`: one GAE / VGAE run on a named dataset or the user's edge list.

pub mod args;
pub mod edgelist_args;
pub mod progress;
pub mod run_dir;

pub use args::TrainArgs;

use crate::globals::Globals;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use vgae_core::graph::{train, DecoderKind, GraphRunResult, GraphTrainer, LossKind, ModelKind};
use vgae_data::{DirectedTask, EdgeSplit, Graph};

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum ModelArg {
    /// Graph autoencoder.
    Gae,
    /// Variational graph autoencoder.
    Vgae,
    /// GAE regularised by a discriminator (Pan et al. 2018).
    Arga,
    /// VGAE regularised by a discriminator (Pan et al. 2018).
    Argva,
    /// GAE with the linear encoder Z = ÂXW (Salha et al. 2020).
    LinearGae,
    /// VGAE with linear mean and log-std heads (Salha et al. 2020).
    LinearVgae,
}

impl ModelArg {
    /// Whether the model has a discriminator.
    pub fn adversarial(self) -> bool {
        matches!(self, ModelArg::Arga | ModelArg::Argva)
    }

    /// Whether the encoder has no hidden layer.
    pub fn linear(self) -> bool {
        matches!(self, ModelArg::LinearGae | ModelArg::LinearVgae)
    }
}

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum DecoderArg {
    /// z_i · z_j, symmetric (the paper's).
    InnerProduct,
    /// s_i · t_j on the embedding's two halves (directed graphs).
    SourceTarget,
    /// m_j − λ log(‖x_i − x_j‖² + 0.01), the last coordinate being the mass (directed graphs).
    Gravity,
}

impl From<DecoderArg> for DecoderKind {
    fn from(d: DecoderArg) -> Self {
        match d {
            DecoderArg::InnerProduct => DecoderKind::InnerProduct,
            DecoderArg::SourceTarget => DecoderKind::SourceTarget,
            DecoderArg::Gravity => DecoderKind::Gravity,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, Debug)]
pub enum TaskArg {
    /// Random held-out arcs against random ordered non-arcs.
    General,
    /// Held-out unidirectional arcs against their reverses.
    Biased,
    /// One direction of each pair linked both ways against reversed unidirectional arcs.
    Bidirectional,
}

impl From<TaskArg> for DirectedTask {
    fn from(t: TaskArg) -> Self {
        match t {
            TaskArg::General => DirectedTask::General,
            TaskArg::Biased => DirectedTask::Biased,
            TaskArg::Bidirectional => DirectedTask::Bidirectional,
        }
    }
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
            ModelArg::Gae | ModelArg::Arga | ModelArg::LinearGae => ModelKind::Gae,
            ModelArg::Vgae | ModelArg::Argva | ModelArg::LinearVgae => ModelKind::Vgae,
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

pub fn bar(len: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// Loads the dataset `train` names: a known name, or an edge-list file read as `el` says (its decisions and
/// the ignored weights told on stderr). Returns the graph and, for a file, its absolute path.
pub fn load_dataset(
    g: &Globals,
    dataset: &str,
    el: &edgelist_args::EdgeListArgs,
) -> anyhow::Result<(Graph, Option<PathBuf>)> {
    let lower = dataset.to_ascii_lowercase();
    anyhow::ensure!(
        !vgae_data::images::NAMES.contains(&lower.as_str()),
        "'{dataset}' is an image dataset: train a VAE on it with `vgae vae train --dataset {lower}`"
    );
    let path = Path::new(dataset);
    if vgae_data::source::GRAPH_DATASETS.contains(&lower.as_str()) || !path.is_file() {
        let graph = g.source().load_graph(dataset)?;
        anyhow::ensure!(
            !el.given(),
            "--header / --delimiter / --node-features / --directed apply to edge-list files, not to '{dataset}'"
        );
        return Ok((graph, None));
    }
    let (graph, format) = vgae_data::edgelist::load_with_format(path, &el.options())?;
    if let Some(w) = &format.weight_column {
        g.note(&format!(
            "{}: edge weights (column '{w}') are kept with the graph; without --weighted Â is built from \
             0/1 edges, and without --soft-targets the reconstruction targets are 0/1",
            path.display()
        ));
    }
    Ok((graph, Some(std::path::absolute(path)?)))
}

pub fn run(a: TrainArgs, g: &Globals) -> anyhow::Result<()> {
    a.validate()?;
    let (graph, abs_path) = load_dataset(g, &a.dataset, &a.edge_list)?;
    if let Some(n) = &graph.note {
        g.note(n);
    }
    let mut cfg = a.config();
    if abs_path.is_some() {
        cfg.dataset_path = abs_path;
        cfg.edge_list = Some(a.edge_list.options());
    }
    if cfg.features && graph.features.is_none() {
        g.note(&format!(
            "{} has no node features: training {}* on X = I (as --features none)",
            graph.name,
            cfg.label()
        ));
        cfg.features = false;
    }
    let split = match &a.split {
        Some(p) => EdgeSplit::load(p)?,
        // A directed task holds out a share of its own pool (unidirectional arcs, pairs linked both
        // ways): counted once the split is made.
        None if graph.directed => {
            let s = train::make_split(&graph, &cfg)?;
            args::check_held_out(graph.edges.len(), s.val_pos.len(), s.test_pos.len(), false)?;
            s
        }
        None => {
            let e = graph.edges.len() as f64;
            let (v, t) = (cfg.split.val_frac, cfg.split.test_frac);
            args::check_held_out(graph.edges.len(), (e * v) as usize, (e * t) as usize, false)?;
            train::make_split(&graph, &cfg)?
        }
    };
    if a.split.is_some() {
        args::check_held_out(
            graph.edges.len(),
            split.val_pos.len(),
            split.test_pos.len(),
            true,
        )?;
    }
    let default = PathBuf::from("runs").join(format!(
        "{}-{}-s{}",
        graph.name,
        cfg.label().to_lowercase().replace('*', "-x"),
        cfg.seed
    ));
    // Ranks of an `mpirun -np N` (or one-process-per-GPU) launch split the exact dense loss; every rank
    // takes the same steps, and rank 0 alone chooses, writes and reports the run directory.
    let (comm, device) = crate::ranks::ranks_and_device(g)?;
    let lead = comm.rank() == 0;
    let dir = match lead {
        true => run_dir::choose(a.out.as_deref(), default, a.overwrite, g.quiet)?,
        false => a.out.clone().unwrap_or(default),
    };
    let mut trainer =
        crate::ranks::join_ranks(GraphTrainer::new(cfg, &graph, split, &device)?, comm)?;
    let mode = progress::mode(g.quiet || a.json || !lead, trainer.cfg.epochs, a.log_every);
    let prefix = format!("{} {}", graph.name, trainer.cfg.label());
    let mut pb = progress::Progress::new(mode, prefix, 0, trainer.cfg.epochs);
    let res = trainer.run(lead.then_some(dir.as_path()), |r| pb.epoch(r));
    pb.finish();
    if !lead {
        return crate::ranks::follower_end(res);
    }
    if let (Some(e), Some(b)) = (trainer.stopped_early(), trainer.best.as_ref()) {
        g.note(&format!(
            "stopped early at epoch {e}: validation AUC has not improved for {} epochs (best at epoch {})",
            trainer.cfg.patience, b.0
        ));
    }
    report(&res?, &graph.name, &dir, a.json)
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
        // The machine the timing belongs to.
        v["cpu"] = vgae_core::experiments::bench::proc::cpu_model().into();
        v["simd"] = vgae_core::simd::SimdPath::selected().name().into();
        println!("{v}");
    } else {
        let epochs = match res.epochs {
            1 => "1 epoch".to_string(),
            n => format!("{n} epochs"),
        };
        println!(
            "{} on {} ({epochs}, {}, run dir {})",
            res.label,
            dataset,
            progress::per_epoch(res.seconds_per_epoch),
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
