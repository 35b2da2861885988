//! `vgae vae train|sweep` and `vgae sample`: VAEs on MNIST, Fashion-MNIST and Frey Face.

use crate::globals::Globals;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use vgae_core::experiments::vae_presets::{self, VaeOverrides};
use vgae_core::vae::run;
use vgae_core::vae::train::{EpochMetrics, Progress, VaeData};
use vgae_core::vae::{Algorithm, Arch, OptimizerKind, TrainConfig, VaeConfig};

mod ckpt;
mod figure2;
pub use ckpt::{eval, resume};

#[derive(Subcommand)]
pub enum VaeCommand {
    /// Train a VAE; writes a run directory (config.json, metrics.jsonl, curves.png, samples.png,
    /// reconstructions.png, model.safetensors, result.json; manifold.png and latent_scatter.png for z = 2).
    Train(TrainArgs),
    /// The seed's experiment: one run per latent size, one PNG of all curves and a markdown table.
    Sweep(SweepArgs),
    /// Write a parameters-only copy of a checkpoint (no optimiser state: half the size; `vgae eval` and
    /// `vgae sample` work with it, `vgae resume` does not).
    Export(ExportArgs),
    /// Kingma & Welling's Figure 2: AEVB against wake-sleep, the lower bound per datapoint (train and test)
    /// against training samples evaluated, one panel per latent size; resumable.
    Figure2(figure2::Figure2Args),
}

#[derive(Args)]
pub struct ExportArgs {
    /// A VAE checkpoint or run directory.
    pub checkpoint: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Clone)]
pub struct CommonArgs {
    /// mnist, fashion-mnist or frey.
    #[arg(long, default_value = "mnist")]
    pub dataset: String,
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// lecture (784-500-250 ReLU, torch init) or paper (500 tanh units, N(0, 0.01²) init).
    #[arg(long, default_value = "lecture")]
    pub arch: Arch,
    /// Override the encoder's hidden sizes (comma-separated; the decoder mirrors them), e.g. 400,200.
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// bernoulli or gaussian (default: gaussian for frey, bernoulli otherwise).
    #[arg(long)]
    pub likelihood: Option<String>,
    /// adagrad or adam (default: adagrad, the seed's choice; adam for frey, whose Gaussian decoder Adagrad's
    /// large first steps destabilise).
    #[arg(long)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (default: 0.01 for adagrad, 0.001 for adam).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Dynamic binarisation: a fresh Bernoulli draw of the training pixels every epoch.
    #[arg(long)]
    pub binarize: bool,
    /// Importance samples for the IWAE log-likelihood bound after training (0 = skip).
    #[arg(long, default_value_t = 1000)]
    pub iwae_k: usize,
    /// Number of test images for the IWAE bound.
    #[arg(long, default_value_t = 1000)]
    pub iwae_n: usize,
    /// Train on the first N training images only (0 = all).
    #[arg(long, default_value_t = 0)]
    pub train_limit: usize,
    /// Run directory (default: runs/vae/<dataset>-z<z>-seed<seed>, or runs/vae/<dataset>-sweep).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write a checkpoint every N epochs into <run>/checkpoints (0: only the final one); a killed run then
    /// continues with `vgae resume <run>`.
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[arg(long, default_value_t = 3)]
    pub keep_last: usize,
    /// aevb (the reparameterised lower bound) or wake-sleep (Hinton et al. 1995; see `vgae vae figure2`).
    #[arg(long, default_value = "aevb")]
    pub algorithm: Algorithm,
    /// λ of a Gaussian prior on the parameters: λ θ is added to each minibatch's gradient (the paper's
    /// N(0, I) prior is batch-size / training-images).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Latent dimensions.
    #[arg(long, default_value_t = 20)]
    pub z: usize,
}

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Latent sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,3,5,10,20,200")]
    pub z: Vec<usize>,
}

#[derive(Args)]
pub struct SampleArgs {
    /// A VAE checkpoint (e.g. model.safetensors of a run directory, or the run directory itself).
    pub checkpoint: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Columns of the grid.
    #[arg(long, default_value_t = 8)]
    pub cols: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value = "samples.png")]
    pub out: PathBuf,
}

/// Candle 0.11 runs large element-wise ops on a spin-barrier thread pool; on a small, shared CPU the
/// spinning costs far more than it saves (measured on the 2-core dev box: 20-28 ms per MNIST step with
/// `CANDLE_NUM_THREADS=1` against 120-180 ms with 2). Matmuls keep their own threads (`RAYON_NUM_THREADS`).
/// Set before the first Candle op; an explicit `CANDLE_NUM_THREADS` wins.
fn inline_elementwise() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

pub fn run(c: VaeCommand, g: &Globals) -> anyhow::Result<()> {
    inline_elementwise();
    match c {
        VaeCommand::Train(a) => train(a, g),
        VaeCommand::Sweep(a) => sweep(a, g),
        VaeCommand::Export(a) => ckpt::export(a, g),
        VaeCommand::Figure2(a) => figure2::run(a, g),
    }
}

/// A progress bar per epoch with the running −ELBO, and a line per finished epoch on stderr.
struct Bar {
    bar: Option<ProgressBar>,
    label: String,
}

/// A bar of `len` steps drawn with `template`.
fn bar(len: usize, template: &str) -> ProgressBar {
    let b = ProgressBar::new(len as u64);
    b.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
}

impl Progress for Bar {
    fn epoch_start(&mut self, epoch: usize, steps: usize) {
        let b = bar(steps, "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})");
        b.set_prefix(format!("{}epoch {epoch}", self.label));
        self.bar = Some(b);
    }
    fn run_start(&mut self, z: usize) {
        self.label = format!("z={z} ");
    }
    fn step(&mut self, step: usize, running: f64) {
        if let Some(b) = &self.bar {
            b.set_position(step as u64);
            b.set_message(format!("-ELBO {running:.2}"));
        }
    }
    fn epoch_end(&mut self, m: &EpochMetrics) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        eprintln!(
            "{}epoch {:>3}  train -ELBO {:8.3}  test -ELBO {:8.3} (recon {:.3}, KL {:.3})  {:.2} s",
            self.label,
            m.epoch,
            m.train_neg_elbo,
            m.test_neg_elbo,
            m.test_recon,
            m.test_kl,
            m.seconds
        );
    }
    fn iwae(&mut self, done: usize, total: usize) {
        let b = self.bar.get_or_insert_with(|| {
            let b = bar(total, "{prefix} [{bar:30}] {pos}/{len} images ({elapsed})");
            b.set_prefix(format!("{}IWAE bound", self.label));
            if !std::io::stderr().is_terminal() {
                eprintln!("{}IWAE bound on {total} test images ...", self.label);
            }
            b
        });
        b.set_position(done as u64);
        if done >= total {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
        }
    }
}

impl CommonArgs {
    /// The run's choices for the library's per-dataset defaults ([`vae_presets::preset`]).
    fn overrides(&self) -> anyhow::Result<VaeOverrides> {
        Ok(VaeOverrides {
            arch: self.arch,
            hidden: self.hidden.clone(),
            likelihood: self
                .likelihood
                .as_deref()
                .map(vae_presets::parse_likelihood)
                .transpose()?,
            optimizer: self.optimizer,
            lr: self.lr,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
            binarize: self.binarize,
            iwae_k: self.iwae_k,
            iwae_n: self.iwae_n,
            train_limit: self.train_limit,
            checkpoint_every: self.checkpoint_every,
            keep_last: self.keep_last,
            algorithm: self.algorithm,
            weight_decay: self.weight_decay,
        })
    }
}

/// The run's configs (the dataset's presets with the flags) and its data, loaded on the chosen device.
fn prepare(
    c: &CommonArgs,
    z: usize,
    g: &Globals,
) -> anyhow::Result<(VaeConfig, TrainConfig, VaeData)> {
    let (mut v, t) = vae_presets::preset(&c.dataset, z, &c.overrides()?)?;
    let dev = g.device()?;
    let (data, origin) = vae_presets::load(&g.source(), &mut v, &t, &dev)?;
    eprintln!(
        "{}: {} training and {} test images of {}x{} from {}",
        data.name, data.n_train, data.n_test, data.height, data.width, origin
    );
    Ok((v, t, data))
}

fn train(a: TrainArgs, g: &Globals) -> anyhow::Result<()> {
    let c = &a.common;
    let (v, t, data) = prepare(c, a.z, g)?;
    let out = c
        .out
        .clone()
        .unwrap_or_else(|| vae_presets::default_run_dir(&v, &t));
    let mut bar = Bar {
        bar: None,
        label: String::new(),
    };
    let s = run::train_run(&v, &t, &data, Some(&out), &mut bar)
        .with_context(|| format!("training into {}", out.display()))?;
    report(&s, &out, c.json);
    Ok(())
}

fn report(s: &run::RunSummary, out: &std::path::Path, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "dataset": s.dataset, "z": s.z, "epochs": s.epochs, "test_neg_elbo": s.test_neg_elbo,
                "train_neg_elbo": s.train_neg_elbo, "iwae_nll": s.iwae_nll, "iwae_k": s.iwae_k,
                "iwae_images": s.iwae_images, "train_seconds": s.train_seconds, "epoch_seconds": s.epoch_seconds,
                "out": out,
            })
        );
    } else {
        println!("run directory     {}", out.display());
        println!(
            "test -ELBO        {:.4} nats per image after {}",
            s.test_neg_elbo,
            vgae_core::experiments::table1::count(s.epochs as u64, "epoch")
        );
        if let (Some(nll), Some(k), Some(n)) = (s.iwae_nll, s.iwae_k, s.iwae_images) {
            println!("IWAE -log p(x)    {nll:.3} nats (k = {k}, first {n} test images)");
        }
        println!(
            "training time     {:.1} s ({:.2} s per epoch)",
            s.train_seconds,
            s.train_seconds / s.epochs.max(1) as f64
        );
    }
}

fn sweep(a: SweepArgs, g: &Globals) -> anyhow::Result<()> {
    let c = &a.common;
    vae_presets::check_latents(&a.z)?;
    let (v, t, data) = prepare(c, a.z[0], g)?;
    let out = c
        .out
        .clone()
        .unwrap_or_else(|| vae_presets::default_sweep_dir(&t));
    let mut bar = Bar {
        bar: None,
        label: String::new(),
    };
    let s = run::sweep(&v, &t, &a.z, &data, &out, &mut bar)?;
    let table = run::sweep_table(&s);
    if c.json {
        let rows: Vec<_> = s
            .iter()
            .map(|e| serde_json::json!({"z": e.z, "train_neg_elbo": e.summary.train_neg_elbo, "test_neg_elbo": e.summary.test_neg_elbo, "iwae_nll": e.summary.iwae_nll, "train_seconds": e.summary.train_seconds}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"dataset": t.dataset, "epochs": t.epochs, "runs": rows, "out": out})
        );
    } else {
        println!("{table}");
        println!("curves: {}", out.join("sweep.png").display());
    }
    Ok(())
}

pub fn sample(a: SampleArgs, g: &Globals) -> anyhow::Result<()> {
    inline_elementwise();
    let dev = g.device()?;
    anyhow::ensure!(a.n > 0, "--n must be positive");
    run::sample_checkpoint(
        &crate::hub_cmd::resolve(&a.checkpoint)?,
        a.n,
        a.seed,
        a.cols,
        &a.out,
        &dev,
    )?;
    println!("{} samples written to {}", a.n, a.out.display());
    Ok(())
}
