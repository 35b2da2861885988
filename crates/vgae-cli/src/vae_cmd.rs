//! `vgae vae train|sweep` and `vgae sample`: VAEs on MNIST, Fashion-MNIST and Frey Face.

use crate::globals::Globals;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use vgae_core::vae::run;
use vgae_core::vae::train::{Checkpoint, EpochMetrics, Progress, Trainer, VaeData};
use vgae_core::vae::{Arch, Likelihood, OptimizerKind, TrainConfig, VaeConfig};

#[derive(Subcommand)]
pub enum VaeCommand {
    /// Train a VAE; writes a run directory (config.json, metrics.jsonl, curve.png, samples.png,
    /// reconstructions.png, checkpoint.safetensors, summary.json; manifold.png and latent_scatter.png for z = 2).
    Train(TrainArgs),
    /// The seed's experiment: one run per latent size, one PNG of all curves and a markdown table.
    Sweep(SweepArgs),
    /// Write a parameters-only copy of a checkpoint (no optimiser state: half the size; `vgae eval` and
    /// `vgae sample` work with it, `vgae resume` does not).
    Export(ExportArgs),
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
    /// A VAE checkpoint (e.g. checkpoint.safetensors of a run directory, or the run directory itself).
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
        VaeCommand::Export(a) => export(a, g),
    }
}

fn configs(
    c: &CommonArgs,
    z: usize,
    height: usize,
    width: usize,
) -> anyhow::Result<(VaeConfig, TrainConfig)> {
    let dataset = c.dataset.to_ascii_lowercase();
    let likelihood = match c.likelihood.as_deref() {
        Some("bernoulli") => Likelihood::Bernoulli,
        Some("gaussian") => Likelihood::Gaussian,
        Some(o) => anyhow::bail!("--likelihood {o}: expected bernoulli or gaussian"),
        None if dataset == "frey" => Likelihood::Gaussian,
        None => Likelihood::Bernoulli,
    };
    let mut v = VaeConfig::new(c.arch, height, width, z, likelihood);
    if let Some(h) = &c.hidden {
        anyhow::ensure!(
            !h.is_empty() && h.iter().all(|&x| x > 0),
            "--hidden needs positive sizes"
        );
        v.hidden = h.clone();
    }
    let optimizer = c.optimizer.unwrap_or(if dataset == "frey" {
        OptimizerKind::Adam
    } else {
        OptimizerKind::Adagrad
    });
    let t = TrainConfig {
        dataset,
        epochs: c.epochs,
        batch_size: c.batch_size,
        lr: c.lr.unwrap_or(match optimizer {
            OptimizerKind::Adagrad => 0.01,
            OptimizerKind::Adam => 1e-3,
        }),
        optimizer,
        seed: c.seed,
        binarize: c.binarize,
        iwae_k: c.iwae_k,
        iwae_n: c.iwae_n,
        train_limit: c.train_limit,
        checkpoint_every: c.checkpoint_every,
        keep_last: c.keep_last,
        ..TrainConfig::default()
    };
    anyhow::ensure!(t.batch_size > 0, "--batch-size must be positive");
    Ok((v, t))
}

fn load_data(
    c: &CommonArgs,
    g: &Globals,
    t: &TrainConfig,
) -> anyhow::Result<(VaeData, candle_core::Device)> {
    let dev = g.device()?;
    let ds = vgae_data::images::load(&g.source(), &c.dataset)?;
    let data = VaeData::new(&ds, t, &dev)?;
    eprintln!(
        "{}: {} training and {} test images of {}x{} from {}",
        ds.name, data.n_train, data.n_test, ds.height, ds.width, ds.origin
    );
    Ok((data, dev))
}

/// A progress bar per epoch with the running −ELBO, and a line per finished epoch on stderr.
struct Bar {
    bar: Option<ProgressBar>,
    label: String,
}

impl Progress for Bar {
    fn epoch_start(&mut self, epoch: usize, steps: usize) {
        let b = ProgressBar::new(steps as u64);
        b.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
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
}

/// The run's configs and data, with the model's image size taken from the data actually loaded.
fn prepare(
    c: &CommonArgs,
    z: usize,
    g: &Globals,
) -> anyhow::Result<(VaeConfig, TrainConfig, VaeData)> {
    let (h, w) = if c.dataset.eq_ignore_ascii_case("frey") {
        (28, 20)
    } else {
        (28, 28)
    };
    let (v, t) = configs(c, z, h, w)?;
    let (data, _dev) = load_data(c, g, &t)?;
    let v = VaeConfig {
        input_dim: data.height * data.width,
        height: data.height,
        width: data.width,
        ..v
    };
    Ok((v, t, data))
}

fn train(a: TrainArgs, g: &Globals) -> anyhow::Result<()> {
    let c = &a.common;
    let (v, t, data) = prepare(c, a.z, g)?;
    let out = c.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("runs/vae/{}-z{}-seed{}", t.dataset, v.z, t.seed))
    });
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
            "test -ELBO        {:.4} nats per image after {} epochs",
            s.test_neg_elbo, s.epochs
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

/// The dataset a checkpoint was trained on, uploaded with its own training configuration (train limit,
/// binarisation, evaluation seed) and checked against the recorded fingerprint.
fn checkpoint_data(
    ck: &Checkpoint,
    g: &Globals,
    dev: &candle_core::Device,
) -> anyhow::Result<VaeData> {
    let ds = vgae_data::images::load(&g.source(), &ck.train_cfg.dataset)
        .with_context(|| format!("loading the data of {}", ck.path.display()))?;
    let data = VaeData::new(&ds, &ck.train_cfg, dev)?;
    ck.check_data(&data)?;
    Ok(data)
}

/// `vgae resume` of a VAE checkpoint: continues the run in the checkpoint's run directory up to `epochs`
/// (default: the configured total), bit-identical to an uninterrupted run on CPU.
pub fn resume(
    ck: &std::path::Path,
    epochs: Option<usize>,
    json: bool,
    g: &Globals,
) -> anyhow::Result<()> {
    inline_elementwise();
    let dev = g.device()?;
    let ck = run::find_checkpoint(ck)?;
    let mut t = Trainer::load(&ck, &dev)?;
    let info = Checkpoint::read(&ck, &dev)?;
    let data = checkpoint_data(&info, g, &dev)?;
    drop(info);
    if let Some(e) = epochs {
        t.cfg.epochs = e;
    }
    let dir = run::run_dir_of(&ck);
    eprintln!(
        "resuming the {} VAE (z = {}) at epoch {} of {} from {}",
        t.cfg.dataset,
        t.vae_cfg.z,
        t.epoch,
        t.cfg.epochs,
        ck.display()
    );
    let mut bar = Bar {
        bar: None,
        label: String::new(),
    };
    let s = run::continue_run(&mut t, &data, Some(&dir), &mut bar)
        .with_context(|| format!("resuming into {}", dir.display()))?;
    report(&s, &dir, json);
    Ok(())
}

/// `vgae eval` of a VAE checkpoint: the test −ELBO with the fixed evaluation noise, from the checkpoint alone.
pub fn eval(ck: &std::path::Path, json: bool, g: &Globals) -> anyhow::Result<()> {
    inline_elementwise();
    let dev = g.device()?;
    let ck = Checkpoint::read(&run::find_checkpoint(ck)?, &dev)?;
    let data = checkpoint_data(&ck, g, &dev)?;
    let (ne, recon, kl) = run::eval_checkpoint(&ck, &data)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"model": "vae", "dataset": ck.train_cfg.dataset, "z": ck.vae_cfg.z,
                "epoch": ck.epoch, "test_neg_elbo": ne, "test_recon": recon, "test_kl": kl,
                "test_images": data.n_test, "eval_seed": ck.train_cfg.eval_seed})
        );
    } else {
        println!(
            "VAE (z = {}) on {} at epoch {}",
            ck.vae_cfg.z, ck.train_cfg.dataset, ck.epoch
        );
        println!(
            "  test -ELBO {ne:.4} nats per image (recon {recon:.4}, KL {kl:.4}; {} images)",
            data.n_test
        );
    }
    Ok(())
}

fn export(a: ExportArgs, g: &Globals) -> anyhow::Result<()> {
    let dev = candle_core::Device::Cpu;
    let _ = g;
    let ck = run::find_checkpoint(&a.checkpoint)?;
    let info = Checkpoint::read(&ck, &dev)?;
    info.save_params_only(&a.out)?;
    let b = std::fs::metadata(&a.out)?.len();
    println!(
        "wrote the parameters of {} (epoch {}) to {} ({b} bytes)",
        ck.display(),
        info.epoch,
        a.out.display()
    );
    Ok(())
}

fn sweep(a: SweepArgs, g: &Globals) -> anyhow::Result<()> {
    let c = &a.common;
    anyhow::ensure!(
        !a.z.is_empty() && a.z.iter().all(|&z| z > 0),
        "--z needs positive latent sizes"
    );
    let (v, t, data) = prepare(c, a.z[0], g)?;
    let out = c
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/vae/{}-sweep", t.dataset)));
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
    run::sample_checkpoint(&a.checkpoint, a.n, a.seed, a.cols, &a.out, &dev)?;
    println!("{} samples written to {}", a.n, a.out.display());
    Ok(())
}
