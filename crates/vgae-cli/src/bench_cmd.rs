//! `vgae bench`: epoch times and peak memory, each configuration measured in its own child process so peak
//! resident memory belongs to that configuration alone.

use crate::globals::Globals;
use crate::train_cmd::LossArg;
use anyhow::Context;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;
use vgae_core::graph::{train::make_split, GraphTrainConfig, GraphTrainer, ModelKind};
use vgae_data::synth::{sbm, SbmConfig};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Planetoid datasets × losses (and the MNIST VAE): median epoch time, 200-epoch time, peak memory.
    Planetoid(PlanetoidArgs),
    /// Synthetic SBM graphs of growing size: epoch time and peak memory against nodes and edges (PNG + table).
    Scaling(ScalingArgs),
    /// One measurement (used by the others; prints one JSON line).
    #[command(hide = true)]
    One(OneArgs),
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
    #[arg(long, default_value = "runs/bench")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub dataset: String,
    pub loss: String,
    pub nodes: usize,
    pub edges: usize,
    pub setup_seconds: f64,
    pub median_epoch_seconds: f64,
    pub epochs_measured: usize,
    /// Median × 200 + setup, or the measured total with --full.
    pub run_200_seconds: f64,
    pub peak_rss_mb: Option<f64>,
}

/// Peak resident set size of this process (Linux: VmHWM).
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn one(a: OneArgs, g: &Globals) -> anyhow::Result<()> {
    let device = g.device()?;
    let t0 = Instant::now();
    let graph = match a.dataset.strip_prefix("synth:") {
        Some(spec) => {
            let mut it = spec.split(':');
            let nodes: usize = it
                .next()
                .unwrap_or("")
                .parse()
                .context("synth:NODES:DEGREE")?;
            let degree: f64 = it
                .next()
                .unwrap_or("10")
                .parse()
                .context("synth:NODES:DEGREE")?;
            sbm(
                &SbmConfig {
                    nodes,
                    degree,
                    ..Default::default()
                },
                &mut vgae_core::rng::RunRng::new(0),
            )
        }
        None => g.source().load_graph(&a.dataset)?,
    };
    let cfg = GraphTrainConfig {
        dataset: graph.name.clone(),
        model: ModelKind::Gae,
        features: !a.featureless && graph.features.is_some(),
        loss: a.loss.into(),
        epochs: a.warmup + a.epochs,
        ..GraphTrainConfig::default()
    };
    let split = make_split(&graph, &cfg)?;
    let mut t = GraphTrainer::new(cfg, &graph, split, &device)?;
    let setup = t0.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for e in 0..a.warmup + a.epochs {
        let s = Instant::now();
        t.train_epoch()?;
        if e >= a.warmup {
            times.push(s.elapsed().as_secs_f64());
        }
    }
    let total: f64 = times.iter().sum();
    let med = median(times.clone());
    let m = Measurement {
        dataset: graph.name.clone(),
        loss: format!("{:?}", a.loss).to_lowercase(),
        nodes: graph.num_nodes,
        edges: graph.edges.len(),
        setup_seconds: setup,
        median_epoch_seconds: med,
        epochs_measured: times.len(),
        run_200_seconds: if times.len() >= 200 {
            total + setup
        } else {
            med * 200.0 + setup
        },
        peak_rss_mb: peak_rss_mb(),
    };
    println!("{}", serde_json::to_string(&m)?);
    Ok(())
}

/// Runs `vgae bench one` (or any args) in a child process and parses its last stdout line.
fn child<T: for<'de> Deserialize<'de>>(args: &[String], g: &Globals) -> anyhow::Result<T> {
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

fn table(rows: &[Measurement]) -> String {
    let mut s = String::from(
        "| dataset | loss | nodes | edges | median epoch (s) | 200 epochs (s) | peak RSS (MB) |\n|---|---|---|---|---|---|---|\n",
    );
    for m in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.4} | {:.1} | {} |\n",
            m.dataset,
            m.loss,
            m.nodes,
            m.edges,
            m.median_epoch_seconds,
            m.run_200_seconds,
            m.peak_rss_mb.map_or("–".into(), |v| format!("{v:.0}"))
        ));
    }
    s
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {threads} threads")
}

fn planetoid(a: PlanetoidArgs, g: &Globals) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.out)?;
    let mut rows: Vec<Measurement> = Vec::new();
    for ds in &a.datasets {
        for loss in &a.losses {
            let epochs = if a.full { 200 } else { a.epochs };
            let args: Vec<String> = [
                "bench",
                "one",
                "--dataset",
                ds,
                "--loss",
                loss,
                "--epochs",
                &epochs.to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let m: Measurement = child(&args, g)?;
            if !a.json {
                eprintln!("{ds} {loss}: {:.4} s/epoch", m.median_epoch_seconds);
            }
            rows.push(m);
        }
    }
    let mut vae = None;
    if a.vae {
        let dir = a.out.join("vae-epoch");
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
        .chain([dir.display().to_string()])
        .collect();
        let v: serde_json::Value = child(&args, g)?;
        vae = v["train_seconds"].as_f64();
    }
    let mut md = format!(
        "Machine: {}. GAE, median of {} epochs after 2 warm-up epochs.\n\n{}",
        machine(),
        a.epochs,
        table(&rows)
    );
    if let Some(s) = vae {
        md.push_str(&format!(
            "\nMNIST VAE (784-500-250-20, batch 100, Adagrad): one epoch {s:.2} s.\n"
        ));
    }
    std::fs::write(a.out.join("bench.md"), &md)?;
    std::fs::write(
        a.out.join("bench.json"),
        serde_json::to_string_pretty(
            &serde_json::json!({"machine": machine(), "rows": rows, "vae_epoch_seconds": vae}),
        )?,
    )?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({"rows": rows, "vae_epoch_seconds": vae}))?
        );
    } else {
        println!("{md}");
    }
    Ok(())
}

fn scaling(a: ScalingArgs, g: &Globals) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.out)?;
    let mut rows = Vec::new();
    for &n in &a.nodes {
        for loss in ["sampled", "dense"] {
            if loss == "dense" && n > a.dense_max {
                continue;
            }
            let args: Vec<String> = [
                "bench",
                "one",
                "--featureless",
                "--warmup",
                "1",
                "--dataset",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([
                format!("synth:{n}:{}", a.degree),
                "--loss".into(),
                loss.into(),
                "--epochs".into(),
                a.epochs.to_string(),
            ])
            .collect();
            let m: Measurement = child(&args, g)?;
            if !a.json {
                eprintln!(
                    "{n} nodes {loss}: {:.4} s/epoch, {:?} MB",
                    m.median_epoch_seconds, m.peak_rss_mb
                );
            }
            rows.push(m);
        }
    }
    let series = |loss: &str, f: fn(&Measurement) -> f64| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|m| m.loss == loss)
            .map(|m| ((m.edges as f64).log10(), f(m).log10()))
            .collect()
    };
    use vgae_core::plot::{charts, Panel};
    charts(
        &a.out.join("scaling.png"),
        &[
            Panel {
                title: "epoch time (GAE*, log-log)".into(),
                x_label: "log10 edges".into(),
                y_label: "log10 seconds / epoch".into(),
                series: vec![
                    (
                        "sampled".into(),
                        series("sampled", |m| m.median_epoch_seconds),
                    ),
                    ("dense".into(), series("dense", |m| m.median_epoch_seconds)),
                ],
                scatter: false,
            },
            Panel {
                title: "peak memory (log-log)".into(),
                x_label: "log10 edges".into(),
                y_label: "log10 MB".into(),
                series: vec![
                    (
                        "sampled".into(),
                        series("sampled", |m| m.peak_rss_mb.unwrap_or(f64::NAN)),
                    ),
                    (
                        "dense".into(),
                        series("dense", |m| m.peak_rss_mb.unwrap_or(f64::NAN)),
                    ),
                ],
                scatter: false,
            },
        ],
        520,
        400,
    )?;
    let md = format!(
        "Machine: {}. Featureless GAE on SBM graphs (average degree {}).\n\n{}",
        machine(),
        a.degree,
        table(&rows)
    );
    std::fs::write(a.out.join("scaling.md"), &md)?;
    std::fs::write(
        a.out.join("scaling.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
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
    }
}
