//! A dataset ready for training: pixels / 255 on the device, the Frey Face test rule, a fingerprint tying
//! checkpoints to their images.

use super::config::TrainConfig;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::Rng;
use vgae_data::images::ImageDataset;

/// A dataset ready for training: pixels / 255 as f32 `[n, h·w]` on the device.
pub struct VaeData {
    /// Dataset name.
    pub name: String,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Training images `[n_train, h·w]`.
    pub train: Tensor,
    /// Test images `[n_test, h·w]` (binarised once when training binarises).
    pub test: Tensor,
    /// Training pixels as bytes, kept on the host for per-epoch dynamic binarisation.
    pub train_u8: Vec<u8>,
    /// Test labels, where the dataset has them (for the z = 2 scatter).
    pub test_labels: Option<Vec<u8>>,
    /// Training images kept.
    pub n_train: usize,
    /// Test images.
    pub n_test: usize,
    /// A short hash of the images used (the training images kept and the test set): ties checkpoints to
    /// their data.
    pub fingerprint: String,
}

/// FNV-1a (64 bit) over the image sizes and pixels: stable across builds and platforms.
fn fingerprint(
    h: usize,
    w: usize,
    train: &[u8],
    n_train: usize,
    test: &[u8],
    n_test: usize,
) -> String {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            x ^= b as u64;
            x = x.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for v in [h, w, n_train, n_test] {
        eat(&(v as u64).to_le_bytes());
    }
    eat(train);
    eat(test);
    format!("{x:016x}")
}

pub use vgae_data::images::frey_is_test;

impl VaeData {
    /// Uploads a dataset. `train_limit` > 0 keeps only the first images; `binarize` binarises the test set once
    /// with `eval_seed` (the training set is re-binarised every epoch by the trainer).
    pub fn new(ds: &ImageDataset, cfg: &TrainConfig, dev: &Device) -> Result<Self> {
        let hw = ds.pixels_per_image();
        let (mut train, test) = match &ds.test {
            Some(t) => (ds.train.clone(), t.clone()),
            None => (
                ds.train.select(hw, |i| !frey_is_test(i)),
                ds.train.select(hw, frey_is_test),
            ),
        };
        if cfg.train_limit > 0 && cfg.train_limit < train.n {
            train = train.select(hw, |i| i < cfg.train_limit);
        }
        if train.n == 0 || test.n == 0 {
            return Err(Error::msg(format!(
                "dataset {} has {} training and {} test images",
                ds.name, train.n, test.n
            )));
        }
        let up = |px: &[u8], n: usize| -> Result<Tensor> {
            let v: Vec<f32> = px.iter().map(|&p| p as f32 / 255.0).collect();
            Ok(Tensor::from_vec(v, (n, hw), dev)?)
        };
        let test_t = if cfg.binarize {
            let mut r = RunRng::new(cfg.eval_seed ^ 0xb1a5);
            let v: Vec<f32> = test
                .pixels
                .iter()
                .map(|&p| binarize_px(p, &mut r))
                .collect();
            Tensor::from_vec(v, (test.n, hw), dev)?
        } else {
            up(&test.pixels, test.n)?
        };
        let fingerprint = fingerprint(
            ds.height,
            ds.width,
            &train.pixels,
            train.n,
            &test.pixels,
            test.n,
        );
        Ok(VaeData {
            fingerprint,
            name: ds.name.clone(),
            height: ds.height,
            width: ds.width,
            train: up(&train.pixels, train.n)?,
            test: test_t,
            train_u8: train.pixels,
            test_labels: test.labels,
            n_train: train.n,
            n_test: test.n,
        })
    }
}

/// A Bernoulli draw of a pixel with p = intensity / 255.
pub(crate) fn binarize_px(p: u8, r: &mut RunRng) -> f32 {
    if r.0.random::<f32>() < p as f32 / 255.0 {
        1.0
    } else {
        0.0
    }
}
