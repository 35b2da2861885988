//! An MNIST VAE (Kingma & Welling 2014) in a few lines: the lecture's MLP, z = 20, Adagrad, batch 100.
//!
//! ```sh
//! VGAE_DATA_DIR=../shared/data cargo run --release -p vgae-core --example mnist_vae -- [EPOCHS] [TRAIN_IMAGES]
//! ```
//! Writes `runs/mnist-vae-example` (metrics, curve, samples, reconstructions, checkpoint).

use candle_core::Device;
use vgae_core::vae::run::train_run;
use vgae_core::vae::{Arch, Likelihood, TrainConfig, VaeConfig, VaeData};
use vgae_data::{images, source::DataSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs: usize = args.next().map_or(Ok(5), |e| e.parse())?;
    let train_limit: usize = args.next().map_or(Ok(0), |n| n.parse())?; // 0 = all 60 000

    let ds = images::load(&DataSource::default(), "mnist")?; // --data-dir / $VGAE_DATA_DIR / hub cache
    let model = VaeConfig::new(
        Arch::Lecture,
        ds.height,
        ds.width,
        20,
        Likelihood::Bernoulli,
    );
    let cfg = TrainConfig {
        epochs,
        train_limit,
        iwae_k: 100,
        iwae_n: 500,
        ..TrainConfig::default()
    };
    let data = VaeData::new(&ds, &cfg, &Device::Cpu)?;
    let out = std::path::Path::new("runs/mnist-vae-example");
    let run = train_run(
        &model,
        &cfg,
        &data,
        Some(out),
        &mut vgae_core::vae::train::NoProgress,
    )?;

    println!(
        "MNIST VAE z=20, {}: test -ELBO {:.2} nats, IWAE(k=100) -log p(x) {:.2}; run dir {}",
        vgae_core::experiments::table1::count(run.epochs as u64, "epoch"),
        run.test_neg_elbo,
        run.iwae_nll.unwrap_or(f64::NAN),
        out.display()
    );
    Ok(())
}
