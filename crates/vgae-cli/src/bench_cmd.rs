//! `vgae bench`: epoch times and peak memory, each configuration measured in its own child process so peak
//! resident memory belongs to that configuration alone.

use crate::globals::Globals;
use crate::train_cmd::LossArg;
use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use vgae_core::experiments::bench::{
    self, BenchGraph, MeasureSpec, Measurement, MiniBatchBench, PlanetoidConfig, Runner,
    ScalingConfig,
};
use vgae_core::experiments::table1::loss_name;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Planetoid datasets × losses (and the MNIST VAE): median epoch time, 200-epoch time, peak memory.
    Planetoid(PlanetoidArgs),
    /// Synthetic SBM graphs of growing size: epoch time and peak memory against nodes and edges (PNG + table).
    Scaling(ScalingArgs),
    /// The fused dense-loss kernel on every SIMD path this CPU runs (AVX-512, AVX2, NEON, scalar), one
    /// thread, as ratios against scalar measured in the same run.
    Kernels(KernelsArgs),
    /// One measurement (used by the others; prints one JSON line).
    #[command(hide = true)]
    One(OneArgs),
}

#[derive(Args)]
pub struct KernelsArgs {
    /// Nodes of the embedding (Cora: 2708).
    #[arg(long, default_value_t = 2708)]
    pub nodes: usize,
    /// Embedding width (the paper's 16).
    #[arg(long, default_value_t = 16)]
    pub dim: usize,
    /// Calls per path; the fastest is reported.
    #[arg(long, default_value_t = 20)]
    pub reps: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PlanetoidArgs {
    #[arg(long, default_value = "cora,citeseer,pubmed", value_delimiter = ',')]
    pub datasets: Vec<String>,
    #[arg(long, default_value = "dense,sampled", value_delimiter = ',')]
    pub losses: Vec<String>,
    /// Measured epochs after warm-up.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Train the full 200 epochs instead of extrapolating the median.
    #[arg(long)]
    pub full: bool,
    /// Also time one MNIST VAE epoch (batch 100).
    #[arg(long)]
    pub vae: bool,
    #[arg(long, default_value = "runs/bench")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ScalingArgs {
    #[arg(
        long,
        default_value = "1000,10000,100000,1000000",
        value_delimiter = ','
    )]
    pub nodes: Vec<usize>,
    #[arg(long, default_value_t = 10.0)]
    pub degree: f64,
    /// Largest graph for the dense loss (its cost grows with nodes²).
    #[arg(long, default_value_t = 40_000)]
    pub dense_max: usize,
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Also time mini-batch training (`vgae minibatch`) on every graph up to --minibatch-max nodes.
    #[arg(long)]
    pub minibatch: bool,
    #[command(flatten)]
    pub mb: MiniBatchArgs,
    /// Largest graph for the mini-batch column.
    #[arg(long, default_value_t = 1_000_000)]
    pub minibatch_max: usize,
    #[arg(long, default_value = "runs/bench")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// The mini-batch column's settings (as `vgae minibatch` takes them).
#[derive(Args, Clone, Debug)]
pub struct MiniBatchArgs {
    /// Mini-batch column: positive edges per batch.
    #[arg(long, default_value_t = 65_536)]
    pub mb_batch_edges: usize,
    /// Mini-batch column: fan-outs, input layer first (0 = every neighbour).
    #[arg(long, value_delimiter = ',', default_value = "5,5")]
    pub mb_fanouts: Vec<usize>,
    /// Mini-batch column: a history of hidden rows for the last layer (needs --mb-fanouts F,0).
    #[arg(long)]
    pub mb_history: bool,
}

impl MiniBatchArgs {
    fn bench(&self) -> MiniBatchBench {
        MiniBatchBench {
            batch_edges: self.mb_batch_edges,
            fanouts: self.mb_fanouts.clone(),
            history: self.mb_history,
        }
    }
}

#[derive(Args, Clone)]
pub struct OneArgs {
    /// A dataset name, or synth:NODES:DEGREE for an SBM graph.
    #[arg(long)]
    pub dataset: String,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    #[arg(long)]
    pub featureless: bool,
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Time mini-batch epochs (the --mb-* settings) instead of full-batch ones.
    #[arg(long)]
    pub minibatch: bool,
    #[command(flatten)]
    pub mb: MiniBatchArgs,
}

fn one(a: OneArgs, g: &Globals) -> anyhow::Result<()> {
    let device = g.device()?;
    let spec = MeasureSpec {
        graph: a.dataset.parse()?,
        loss: a.loss.into(),
        featureless: a.featureless,
        warmup: a.warmup,
        epochs: a.epochs,
        minibatch: a.minibatch.then(|| a.mb.bench()),
    };
    let m = bench::measure(&spec, &g.source(), &device)?;
    println!("{}", serde_json::to_string(&m)?);
    Ok(())
}

/// Measures each configuration in a child process (`vgae bench one`, `vgae vae train`).
struct Children<'a>(&'a Globals);

impl Children<'_> {
    /// Runs `vgae <args>` with this process's globals and parses its last stdout line.
    fn run<T: for<'de> Deserialize<'de>>(&self, args: &[String]) -> anyhow::Result<T> {
        let g = self.0;
        let exe = std::env::current_exe()?;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(args).arg("--device").arg(g.device.to_string());
        if let Some(d) = &g.data_dir {
            cmd.arg("--data-dir").arg(d);
        }
        if let Some(t) = g.threads {
            cmd.arg("--threads").arg(t.to_string());
        }
        let out = cmd.stderr(std::process::Stdio::inherit()).output()?;
        anyhow::ensure!(
            out.status.success(),
            "benchmark child `{}` failed",
            args.join(" ")
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap_or("");
        serde_json::from_str(line).with_context(|| format!("benchmark child printed: {line}"))
    }
}

/// `vgae bench one` arguments for a measurement.
fn one_args(s: &MeasureSpec) -> Vec<String> {
    let mut v = vec!["bench".to_string(), "one".into()];
    if s.featureless {
        v.push("--featureless".into());
    }
    if s.featureless || s.warmup != 2 {
        v.extend(["--warmup".into(), s.warmup.to_string()]);
    }
    v.extend([
        "--dataset".into(),
        s.graph.to_string(),
        "--loss".into(),
        loss_name(s.loss),
        "--epochs".into(),
        s.epochs.to_string(),
    ]);
    if let Some(mb) = &s.minibatch {
        let fanouts: Vec<String> = mb.fanouts.iter().map(|f| f.to_string()).collect();
        v.extend([
            "--minibatch".into(),
            "--mb-batch-edges".into(),
            mb.batch_edges.to_string(),
            "--mb-fanouts".into(),
            fanouts.join(","),
        ]);
        if mb.history {
            v.push("--mb-history".into());
        }
    }
    v
}

impl Runner for Children<'_> {
    type Error = anyhow::Error;

    fn measure(&mut self, spec: &MeasureSpec) -> anyhow::Result<Measurement> {
        self.run(&one_args(spec))
    }

    fn vae_epoch(&mut self, out: &Path) -> anyhow::Result<Option<f64>> {
        let args: Vec<String> = [
            "vae",
            "train",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--iwae-k",
            "0",
            "--json",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect();
        let v: serde_json::Value = self.run(&args)?;
        Ok(v["train_seconds"].as_f64())
    }
}

fn planetoid(a: PlanetoidArgs, g: &Globals) -> anyhow::Result<()> {
    let cfg = PlanetoidConfig {
        datasets: a.datasets.clone(),
        losses: a
            .losses
            .iter()
            .map(|l| bench::parse_loss(l))
            .collect::<Result<_, _>>()?,
        epochs: a.epochs,
        full: a.full,
        vae_dir: a.vae.then(|| a.out.join("vae-epoch")),
    };
    std::fs::create_dir_all(&a.out)?;
    let r = bench::planetoid(&cfg, &mut Children(g), &mut |s, m| {
        if !a.json {
            eprintln!(
                "{} {}: {:.4} s/epoch",
                s.graph,
                loss_name(s.loss),
                m.median_epoch_seconds
            );
        }
    })?;
    let md = r.markdown();
    std::fs::write(a.out.join("bench.md"), &md)?;
    std::fs::write(
        a.out.join("bench.json"),
        serde_json::to_string_pretty(&r.json())?,
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&r.summary_json())?);
    } else {
        println!("{md}");
    }
    Ok(())
}

fn scaling(a: ScalingArgs, g: &Globals) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.out)?;
    let cfg = ScalingConfig {
        nodes: a.nodes.clone(),
        degree: a.degree,
        dense_max: a.dense_max,
        epochs: a.epochs,
        minibatch: a.minibatch.then(|| a.mb.bench()),
        minibatch_max: a.minibatch_max,
    };
    let r = bench::scaling(&cfg, &mut Children(g), &mut |s, m| {
        if let (false, BenchGraph::Synth { nodes, .. }) = (a.json, &s.graph) {
            eprintln!(
                "{nodes} nodes {}: {:.4} s/epoch, {:?} MB",
                m.loss, m.median_epoch_seconds, m.peak_rss_mb
            );
        }
    })?;
    r.plot(&a.out.join("scaling.png"))?;
    let md = r.markdown();
    std::fs::write(a.out.join("scaling.md"), &md)?;
    std::fs::write(
        a.out.join("scaling.json"),
        serde_json::to_string_pretty(&r.rows)?,
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&r.rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}

pub fn run(cmd: BenchCommand, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Planetoid(a) => planetoid(a, g),
        BenchCommand::Scaling(a) => scaling(a, g),
        BenchCommand::One(a) => one(a, g),
        BenchCommand::Kernels(a) => kernels(a),
    }
}

fn kernels(a: KernelsArgs) -> anyhow::Result<()> {
    use vgae_core::experiments::bench::proc::cpu_model;
    use vgae_core::simd::SimdPath;
    anyhow::ensure!(
        a.nodes > 0 && a.dim > 0,
        "--nodes and --dim must be at least 1"
    );
    let t = vgae_core::experiments::bench::kernels::dense_kernel_paths(a.nodes, a.dim, a.reps, 0)?;
    let cpu = cpu_model();
    if a.json {
        let v = serde_json::json!({"cpu": cpu, "selected": SimdPath::selected(), "nodes": a.nodes,
            "dim": a.dim, "paths": t});
        println!("{v}");
        return Ok(());
    }
    println!(
        "dense-loss kernel, {} x {}, one thread, fastest of {} calls; CPU {cpu}; selected path {}",
        a.nodes,
        a.dim,
        a.reps,
        SimdPath::selected().name()
    );
    println!("| path | ms per call | × scalar |\n|---|---|---|");
    for k in t {
        println!(
            "| {} | {:.2} | {:.1} |",
            k.path.name(),
            1e3 * k.min_seconds,
            k.speedup_over_scalar
        );
    }
    Ok(())
}
