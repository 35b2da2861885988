//! `vgae minibatch`: GAE* (X = I) trained on edge mini-batches over neighbour-sampled receptive fields, for
//! graphs whose full-batch run does not fit in memory.

use crate::globals::Globals;
use crate::train_cmd::{args::epochs, edgelist_args::EdgeListArgs, load_dataset};
use clap::Args;
use std::path::PathBuf;
use vgae_core::graph::minibatch::run::{read_run, run, MiniBatchRun, SPLIT_FILE};
use vgae_core::graph::minibatch::MiniBatchConfig;
use vgae_core::rng::RunRng;
use vgae_core::rundir::RunDir;
use vgae_data::synth::{sbm, SbmConfig};
use vgae_data::{EdgeSplit, Graph};

#[derive(Args, Debug)]
pub struct MiniBatchArgs {
    /// cora, citeseer, pubmed, an edge-list file, or sbm:NODES[:DEGREE] (a seeded block model, 10 blocks).
    #[arg(long, default_value = "cora")]
    pub dataset: String,
    #[command(flatten)]
    pub edge_list: EdgeListArgs,
    /// Positive training edges per batch (each batch also draws as many negative pairs).
    #[arg(long, default_value_t = 65_536)]
    pub batch_edges: usize,
    /// Neighbours sampled per node for each GCN layer, input layer first; 0 = every neighbour (exact).
    #[arg(long, value_delimiter = ',', default_value = "10,10")]
    pub fanouts: Vec<usize>,
    /// The last layer reads out-of-batch neighbours' hidden rows from a stored history (GNNAutoScale):
    /// a one-hop receptive field; needs one hidden layer and --fanouts F,0.
    #[arg(long)]
    pub history: bool,
    /// Hidden layer widths, comma-separated (the paper: 32).
    #[arg(long, value_delimiter = ',', default_value = "32")]
    pub hidden: Vec<usize>,
    /// Embedding size.
    #[arg(long, default_value_t = 16)]
    pub latent: usize,
    /// Passes over the training edges.
    #[arg(long, default_value_t = 20, value_parser = epochs)]
    pub epochs: usize,
    /// Adam learning rate (table and dense weights).
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Validation scoring (a full exact forward) every this many epochs and after the last; 0: last only.
    #[arg(long, default_value_t = 1)]
    pub eval_every: usize,
    /// Also checkpoint every this many batches inside an epoch (0: at epoch ends only).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Seed of the split (stream 0), the SBM graph and training (stream 1).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory.
    #[arg(long, default_value = "runs/minibatch")]
    pub out: PathBuf,
    /// Continue the run in this directory from its latest checkpoint (its other settings are used).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Print the result as one JSON line on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `sbm:NODES[:DEGREE]`, or `None` for any other dataset name.
fn parse_sbm(dataset: &str) -> anyhow::Result<Option<SbmConfig>> {
    let Some(rest) = dataset.strip_prefix("sbm:") else {
        return Ok(None);
    };
    let mut parts = rest.split(':');
    let nodes: usize = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|&n| (2..=u32::MAX as usize).contains(&n))
        .ok_or_else(|| {
            anyhow::anyhow!("--dataset {dataset}: expected sbm:NODES[:DEGREE], NODES ≥ 2")
        })?;
    let degree = match parts.next() {
        None => 10.0,
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d > 0.0)
            .ok_or_else(|| {
                anyhow::anyhow!("--dataset {dataset}: DEGREE must be a positive number")
            })?,
    };
    Ok(Some(SbmConfig {
        nodes,
        degree,
        ..SbmConfig::default()
    }))
}

fn graph(g: &Globals, a: &MiniBatchArgs, dataset: &str, seed: u64) -> anyhow::Result<Graph> {
    match parse_sbm(dataset)? {
        Some(cfg) => Ok(sbm(&cfg, &mut RunRng::stream(seed, 0).0)),
        None => Ok(load_dataset(g, dataset, &a.edge_list)?.0),
    }
}

pub fn run_cmd(a: MiniBatchArgs, g: &Globals) -> anyhow::Result<()> {
    // Ranks of an `mpirun -np N` launch (one process otherwise): rank 0 alone prints and writes the run.
    if vgae_mpi::launcher_world_size().is_none() {
        if let Some(l) = vgae_nccl::Launch::from_env()?.filter(|l| l.world_size > 1) {
            anyhow::bail!(
                "WORLD_SIZE={}: `vgae minibatch` runs its ranks under mpirun (CPU ranks); one process per GPU \
                 (NCCL) is for `vgae train --loss dense`",
                l.world_size
            );
        }
    }
    let comm = vgae_mpi::collective_from_env()?;
    let (rank, ranks) = (comm.rank(), comm.size());
    let (spec, rd, resume) = match &a.resume {
        Some(dir) => {
            let rd = RunDir::create(dir)?;
            (read_run(&rd)?, rd, true)
        }
        None => {
            let config = MiniBatchConfig {
                batch_edges: a.batch_edges,
                fanouts: a.fanouts.clone(),
                hidden: a.hidden.clone(),
                latent: a.latent,
                epochs: a.epochs,
                lr: a.lr,
                eval_every: a.eval_every,
                history: a.history,
            };
            config.validate()?;
            let spec = MiniBatchRun {
                config,
                dataset: a.dataset.clone(),
                seed: a.seed,
                checkpoint_every: a.checkpoint_every,
            };
            (spec, RunDir::create(&a.out)?, false)
        }
    };
    let graph = graph(g, &a, &spec.dataset, spec.seed)?;
    anyhow::ensure!(
        !graph.directed,
        "--dataset {}: mini-batch training is for undirected graphs",
        spec.dataset
    );
    if graph.features.is_some() && rank == 0 {
        g.note("mini-batch training is featureless (GAE*, X = I): the node features are not used");
    }
    let split = match resume {
        true => EdgeSplit::load(&rd.join(SPLIT_FILE))?,
        false => {
            let mut rng = RunRng::stream(spec.seed, 0);
            EdgeSplit::new(&graph, &Default::default(), spec.seed, &mut rng.0)?
        }
    };
    if rank == 0 {
        g.note(&format!(
            "{}: {} nodes, {} training edges, batches of {} edges on {ranks} rank(s), fan-outs {:?}, \
             run dir {}",
            graph.name,
            graph.num_nodes,
            split.train_pos.len(),
            spec.config.batch_edges,
            spec.config.fanouts,
            rd.path().display()
        ));
    }
    let quiet = g.quiet || rank != 0;
    let result = run(
        graph.num_nodes,
        &split,
        &spec,
        &rd,
        resume,
        comm,
        &mut |r| {
            if !quiet {
                eprintln!(
                    "epoch {}: loss {:.4} val AUC {:.4} AP {:.4} ({:.2} s)",
                    r.epoch, r.loss, r.val_auc, r.val_ap, r.seconds
                );
            }
        },
    )?;
    if rank != 0 {
        return Ok(());
    }
    if a.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!(
            "GAE* mini-batch on {}: test AUC {:.4} AP {:.4}, {:.2} s per epoch (median), run dir {}",
            spec.dataset,
            result.test_auc,
            result.test_ap,
            result.epoch_seconds,
            rd.path().display()
        );
    }
    Ok(())
}
