//! The pictures of a VAE run: −ELBO curves, prior samples, reconstructions, the z = 2 manifold and latent
//! scatter, and samples from any checkpoint.

use super::checkpoint::Checkpoint;
use super::eval;
use super::model::Vae;
use super::train::{EpochMetrics, VaeData};
use crate::plot::{charts, image_grid, Panel};
use crate::rng::RunRng;
use crate::Result;
use candle_core::{Device, Tensor};
use std::path::Path;

/// Train and test −ELBO against epoch.
pub fn curve_png(path: &Path, title: &str, metrics: &[EpochMetrics]) -> Result<()> {
    let pts = |f: fn(&EpochMetrics) -> f64| {
        metrics
            .iter()
            .map(|m| (m.epoch as f64, f(m)))
            .collect::<Vec<_>>()
    };
    charts(
        path,
        &[Panel {
            title: title.into(),
            x_label: "epoch".into(),
            y_label: "-ELBO per image (nats)".into(),
            series: vec![
                ("train".into(), pts(|m| m.train_neg_elbo)),
                ("test".into(), pts(|m| m.test_neg_elbo)),
            ],
            scatter: false,
            ..Default::default()
        }],
        720,
        480,
    )
}

fn scale_for(h: usize) -> usize {
    (112 / h.max(1)).clamp(1, 4)
}

/// `n` decoder means of z ~ N(0, I) as a grid with 8 columns.
pub fn samples_png(model: &Vae, path: &Path, n: usize, rng: &mut RunRng) -> Result<()> {
    let imgs = sample_images(model, n, rng)?;
    image_grid(
        path,
        &imgs,
        model.cfg.height,
        model.cfg.width,
        8,
        scale_for(model.cfg.height),
    )
}

/// `n` decoder means (pixels in [0, 1]) of z ~ N(0, I) drawn from `rng`.
pub fn sample_images(model: &Vae, n: usize, rng: &mut RunRng) -> Result<Vec<Vec<f32>>> {
    let dev = model.params()[0].1.device().clone();
    let z = rng.normal(&[n, model.cfg.z], &dev)?;
    Ok(model.decode(&z)?.mean()?.to_vec2::<f32>()?)
}

/// The first 32 test images and their reconstructions (decoder mean at z = μ): rows alternate input and
/// reconstruction, 8 columns.
pub fn reconstructions_png(model: &Vae, test: &Tensor, path: &Path) -> Result<()> {
    let n = 32.min(test.dim(0)?);
    let x = test.narrow(0, 0, n)?;
    let (mu, _) = model.encode(&x)?;
    let r = model.decode(&mu)?.mean()?.to_vec2::<f32>()?;
    let x = x.to_vec2::<f32>()?;
    let mut imgs = Vec::new();
    for row in 0..n.div_ceil(8) {
        let idx: Vec<usize> = (row * 8..(row * 8 + 8).min(n)).collect();
        imgs.extend(idx.iter().map(|&i| x[i].clone()));
        imgs.extend(idx.iter().map(|&i| r[i].clone()));
    }
    image_grid(
        path,
        &imgs,
        model.cfg.height,
        model.cfg.width,
        8,
        scale_for(model.cfg.height),
    )
}

/// The learned 2-D manifold (z = 2 only): decoder means over an n × n grid through Φ⁻¹.
pub fn manifold_png(model: &Vae, path: &Path, n: usize) -> Result<()> {
    let imgs = eval::manifold(model, n)?;
    image_grid(path, &imgs, model.cfg.height, model.cfg.width, n, 2)
}

/// Test-set posterior means μ (z = 2), coloured by label when the dataset has labels.
pub fn scatter_png(model: &Vae, data: &VaeData, path: &Path) -> Result<()> {
    let n = data.n_test.min(5000);
    let (mu, _) = model.encode(&data.test.narrow(0, 0, n)?)?;
    let mu = mu.to_vec2::<f32>()?;
    let series = match &data.test_labels {
        Some(l) => (0..10u8)
            .map(|c| {
                let pts = mu
                    .iter()
                    .zip(l)
                    .filter(|(_, &y)| y == c)
                    .map(|(m, _)| (m[0] as f64, m[1] as f64))
                    .collect();
                (format!("{c}"), pts)
            })
            .collect(),
        None => vec![(
            "test".to_string(),
            mu.iter().map(|m| (m[0] as f64, m[1] as f64)).collect(),
        )],
    };
    charts(
        path,
        &[Panel {
            title: format!("{}: test posterior means (z = 2)", data.name),
            x_label: "z1".into(),
            y_label: "z2".into(),
            series,
            scatter: true,
            ..Default::default()
        }],
        720,
        640,
    )
}

/// Samples from any VAE checkpoint into a PNG grid.
pub fn sample_checkpoint(
    ckpt: &Path,
    n: usize,
    seed: u64,
    cols: usize,
    out: &Path,
    dev: &Device,
) -> Result<()> {
    let ck = Checkpoint::read(&super::run::find_checkpoint(ckpt)?, dev)?;
    let model = ck.model(dev)?;
    let imgs = sample_images(&model, n, &mut RunRng::new(seed))?;
    image_grid(
        out,
        &imgs,
        model.cfg.height,
        model.cfg.width,
        cols,
        scale_for(model.cfg.height),
    )
}
