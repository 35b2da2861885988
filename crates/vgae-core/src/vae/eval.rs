//! Evaluation: test −ELBO with fixed noise, the importance-weighted (IWAE) log-likelihood bound, and the
//! z = 2 latent manifold.

use super::loss;
use super::model::Vae;
use crate::rng::RunRng;
use crate::Result;
use candle_core::{Tensor, D};

/// Mean −ELBO per image over the rows of `x`, one reparameterised sample each, with noise from a fresh
/// `RunRng::new(seed)` (so the same model always gets the same number). Returns (−ELBO, NLL, KL).
pub fn neg_elbo(model: &Vae, x: &Tensor, batch: usize, seed: u64) -> Result<(f64, f64, f64)> {
    let mut rng = RunRng::new(seed);
    let n = x.dim(0)?;
    let dev = x.device();
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    let mut start = 0;
    while start < n {
        let len = batch.min(n - start);
        let xb = x.narrow(0, start, len)?;
        let eps = rng.normal(&[len, model.cfg.z], dev)?;
        let (ne, nll, kl) = model.neg_elbo(&xb, &eps)?;
        a += ne.sum_all()?.to_scalar::<f32>()? as f64;
        b += nll.sum_all()?.to_scalar::<f32>()? as f64;
        c += kl.sum_all()?.to_scalar::<f32>()? as f64;
        start += len;
    }
    let n = n.max(1) as f64;
    Ok((a / n, b / n, c / n))
}

/// The IWAE estimate of −log p(x) per image (Burda et al.): `−mean_x log (1/k) Σ_i p(x, z_i) / q(z_i | x)`,
/// z_i ~ q(z | x), computed with log-sum-exp in chunks of at most `max_rows` decoder rows.
/// k = 1 equals the −ELBO with one sample; the bound tightens as k grows.
pub fn iwae_nll(model: &Vae, x: &Tensor, k: usize, seed: u64, max_rows: usize) -> Result<f64> {
    iwae_nll_with(model, x, k, seed, max_rows, &mut |_, _| {})
}

/// [`iwae_nll`], calling `on_chunk(images_done, images)` after each chunk (the pass can take half a minute).
pub fn iwae_nll_with(
    model: &Vae,
    x: &Tensor,
    k: usize,
    seed: u64,
    max_rows: usize,
    on_chunk: &mut dyn FnMut(usize, usize),
) -> Result<f64> {
    let mut rng = RunRng::new(seed);
    let n = x.dim(0)?;
    let zd = model.cfg.z;
    let dev = x.device();
    let k = k.max(1);
    // Images per chunk so that chunk × k decoder rows fit; samples split too when k alone is larger.
    let imgs = (max_rows / k).max(1);
    let ks = k.min(max_rows.max(1));
    let mut total = 0.0f64;
    let mut start = 0;
    while start < n {
        let b = imgs.min(n - start);
        let xb = x.narrow(0, start, b)?;
        let (mu, logvar) = model.encode(&xb)?;
        let std = (&logvar * 0.5)?.exp()?;
        let lv_sum = logvar.sum(D::Minus1)?; // [b]
        let d = xb.dim(1)?;
        let mut parts = Vec::new(); // log weights [kk, b] per sample chunk
        let mut done = 0;
        while done < k {
            let kk = ks.min(k - done);
            let eps = rng.normal(&[kk, b, zd], dev)?;
            let z = eps.broadcast_mul(&std)?.broadcast_add(&mu)?; // [kk, b, z]
            let dec = model.decode(&z.reshape((kk * b, zd))?)?;
            let xr = xb
                .unsqueeze(0)?
                .broadcast_as((kk, b, d))?
                .reshape((kk * b, d))?;
            let log_px = dec.nll(&xr)?.neg()?.reshape((kk, b))?;
            let log_pz = loss::log_std_normal(&z)?; // [kk, b]
                                                    // log q(z|x) = −½ Σ (ε² + log σ² + ln 2π)
            let log_qz = ((eps.sqr()?.sum(D::Minus1)?.broadcast_add(&lv_sum)?
                + zd as f64 * loss::LN_2PI)?
                * -0.5)?;
            parts.push(((log_px + log_pz)? - log_qz)?);
            done += kk;
        }
        let lw = Tensor::cat(&parts, 0)?; // [k, b]
        let ll = (loss::logsumexp0(&lw)? - (k as f64).ln())?;
        total += ll
            .to_dtype(candle_core::DType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
        start += b;
        on_chunk(start, n);
    }
    Ok(-total / n.max(1) as f64)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const DD: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((DD[0] * q + DD[1]) * q + DD[2]) * q + DD[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((DD[0] * q + DD[1]) * q + DD[2]) * q + DD[3]) * q + 1.0)
    }
}

/// Decoder means over an `n × n` grid of the 2-D latent plane, z = Φ⁻¹ of evenly spaced probabilities in
/// (0, 1) (as in the paper's Fig. 4), rows top to bottom = decreasing z₂. Returns n² images.
pub fn manifold(model: &Vae, n: usize) -> Result<Vec<Vec<f32>>> {
    if model.cfg.z != 2 {
        return Err(crate::Error::msg(format!(
            "the manifold plot needs z = 2, this model has z = {}",
            model.cfg.z
        )));
    }
    let ps: Vec<f64> = (0..n)
        .map(|i| probit((i as f64 + 0.5) / n as f64))
        .collect();
    let mut zs = Vec::with_capacity(n * n * 2);
    for r in 0..n {
        for c in 0..n {
            zs.push(ps[c] as f32);
            zs.push(ps[n - 1 - r] as f32);
        }
    }
    let dev = model.params()[0].1.device().clone();
    let z = Tensor::from_vec(zs, (n * n, 2), &dev)?;
    let m = model.decode(&z)?.mean()?;
    Ok(m.to_vec2::<f32>()?)
}
