//! `vgae vae figure2`: Kingma & Welling's Figure 2, AEVB against wake-sleep.

use crate::globals::Globals;
use clap::Args;
use std::path::PathBuf;
use vgae_core::experiments::figure2::{self, Figure2Config, Point};
use vgae_core::vae::{Algorithm, TrainConfig, VaeData};

#[derive(Args)]
pub struct Figure2Args {
    /// mnist or frey.
    #[arg(long, default_value = "mnist")]
    pub dataset: String,
    /// The x range: training samples evaluated per curve (rounded up to whole epochs; the paper goes to 1e8).
    #[arg(long, default_value_t = 1e6)]
    pub max_samples: f64,
    /// Latent sizes (default: the paper's, 3,5,10,20,200 for mnist and 2,5,10,20 for frey).
    #[arg(long, value_delimiter = ',')]
    pub latents: Option<Vec<usize>>,
    /// Hidden units of each network's hidden layer (default: 500 for mnist, 200 for frey).
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Adagrad step sizes the pilots try.
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.02,0.1")]
    pub lrs: Vec<f64>,
    /// Epochs of each pilot.
    #[arg(long, default_value_t = 1)]
    pub pilot_epochs: usize,
    /// Training and test images the bound is estimated on.
    #[arg(long, default_value_t = 10_000)]
    pub eval_images: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (default runs/vae/figure2-<dataset>); a killed run resumes from it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Figure2Args, g: &Globals) -> anyhow::Result<()> {
    let dataset = a.dataset.to_ascii_lowercase();
    let mut cfg = Figure2Config::paper(&dataset, 1)?;
    let dev = g.device()?;
    let ds = vgae_data::images::load(&g.source(), &dataset)?;
    let tc = TrainConfig {
        dataset: dataset.clone(),
        ..TrainConfig::default()
    };
    let data = VaeData::new(&ds, &tc, &dev)?;
    anyhow::ensure!(a.max_samples >= 1.0, "--max-samples must be at least 1");
    cfg.epochs = (a.max_samples / data.n_train as f64).ceil() as usize;
    anyhow::ensure!(
        a.pilot_epochs >= 1 && a.pilot_epochs <= cfg.epochs,
        "--pilot-epochs must be between 1 and the run's {} epochs",
        cfg.epochs
    );
    cfg.latents = a.latents.unwrap_or(cfg.latents);
    cfg.hidden = a.hidden.unwrap_or(cfg.hidden);
    anyhow::ensure!(
        !cfg.latents.is_empty() && !cfg.latents.contains(&0),
        "--latents needs positive sizes"
    );
    anyhow::ensure!(
        !a.lrs.is_empty() && a.lrs.iter().all(|l| *l > 0.0),
        "--lrs needs positive step sizes"
    );
    (cfg.lrs, cfg.pilot_epochs, cfg.eval_images, cfg.seed) =
        (a.lrs, a.pilot_epochs, a.eval_images, a.seed);
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("runs/vae/figure2-{dataset}")));
    eprintln!(
        "{dataset}: {} training and {} test images; {} epochs ({} samples) per curve, latents {:?}, into {}",
        data.n_train,
        data.n_test,
        cfg.epochs,
        cfg.epochs * data.n_train,
        cfg.latents,
        out.display()
    );
    let quiet = g.quiet;
    let points = figure2::run(&cfg, &data, &out, |p| {
        if !quiet {
            eprintln!("{}", line(p));
        }
    })?;
    println!("| N_z | AEVB train | AEVB test | wake-sleep train | wake-sleep test | step sizes (AEVB / WS) |");
    println!("|---|---|---|---|---|---|");
    for &z in &cfg.latents {
        let last = |a: Algorithm| {
            points
                .iter()
                .rfind(|p| !p.pilot && p.z == z && p.algorithm == a)
        };
        if let (Some(ae), Some(ws)) = (last(Algorithm::Aevb), last(Algorithm::WakeSleep)) {
            println!(
                "| {z} | {:.2} | {:.2} | {:.2} | {:.2} | {} / {} |",
                ae.train_bound, ae.test_bound, ws.train_bound, ws.test_bound, ae.lr, ws.lr
            );
        }
    }
    println!("wrote {}", out.join("figure2.png").display());
    Ok(())
}

fn line(p: &Point) -> String {
    let algo = if p.algorithm == Algorithm::Aevb {
        "AEVB"
    } else {
        "wake-sleep"
    };
    format!(
        "{}{algo} z={} lr={} epoch {} ({:.1e} samples): train L {:.2}, test L {:.2} ({:.0} s)",
        if p.pilot { "pilot " } else { "" },
        p.z,
        p.lr,
        p.epoch,
        p.samples as f64,
        p.train_bound,
        p.test_bound,
        p.seconds
    )
}
