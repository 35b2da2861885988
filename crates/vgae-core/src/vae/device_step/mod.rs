//! The hand-derived VAE step on the batch's own device, without autograd: each layer one GEMM forward and two
//! backward (none for the input images), Candle's matmul (cuBLAS on CUDA) between fused element-wise
//! [`passes`] for the bias and activation, the reparameterisation, the decoder's loss and its gradient, the
//! KL and the bias gradients. Both decoders (Bernoulli and Gaussian).
//!
//! Why: on an H200 an MNIST epoch through Candle's autograd took 2–4 s, no faster than two CPU cores — a
//! launch, an allocation and a sweep per element-wise op and per gradient accumulation. This step launches
//! about 3 kernels per layer and keeps the loss on the device. On the CPU the lockstep
//! [`Vae::fast_grads`] is faster and stays the CPU's path; this one runs there in tests, against autograd.

#[cfg(feature = "cuda")]
mod cuda_launch;
mod host_kernels;
mod passes;

pub use host_kernels::{with_host_kernels, HostKernels, KernelGeometry};

use super::config::Activation;
use super::model::{Linear, Vae};
use crate::{Error, Result};
use candle_core::{DType, Tensor};
use passes::{
    act_grad_sum, bernoulli_rows, bias_act, column_sum, gaussian_rows, head_grad, reparam, Act,
};

/// `x W` for a layer (`x: [rows, in]`, `W: [in, out]`).
fn product(x: &Tensor, l: &Linear) -> Result<Tensor> {
    Ok(x.matmul(l.weight.as_tensor())?)
}

/// dL/dx = δ Wᵀ for a layer's output gradient `δ: [rows, out]`.
fn back(delta: &Tensor, l: &Linear) -> Result<Tensor> {
    Ok(delta.matmul(&l.weight.as_tensor().t()?)?)
}

/// (dW = xᵀ δ, db = Σ_rows δ) for a layer with input `x` and output gradient `δ`.
fn layer_grads(x: &Tensor, delta: &Tensor) -> Result<(Tensor, Tensor)> {
    Ok((x.t()?.matmul(delta)?, column_sum(delta)?))
}

impl Vae {
    /// Σ over the batch of −ELBO (a scalar on the batch's device) and its gradient for every parameter, in
    /// [`Vae::params`] order, for images `x` (`[rows, input_dim]`) and noise `eps` (`[rows, z]`), on the CPU
    /// or a CUDA device. The same quantities as autograd through [`Vae::neg_elbo`] (tested to float
    /// tolerance); nothing is read back to the host.
    pub fn device_grads(&self, x: &Tensor, eps: &Tensor) -> Result<(Tensor, Vec<Tensor>)> {
        let (rows, d) = x.dims2()?;
        let f32s = x.dtype() == DType::F32 && eps.dtype() == DType::F32;
        if d != self.cfg.input_dim || eps.dims2()? != (rows, self.cfg.z) || !f32s {
            return Err(Error::msg(format!(
                "VAE step: batch {:?} {:?} and noise {:?} {:?} for f32 input {} and z {}",
                x.dtype(),
                x.shape(),
                eps.dtype(),
                eps.shape(),
                self.cfg.input_dim,
                self.cfg.z
            )));
        }
        let (x, eps) = (x.contiguous()?, eps.contiguous()?);
        let act = match self.cfg.activation {
            Activation::Relu => Act::Relu,
            Activation::Tanh => Act::Tanh,
        };
        let bias = |l: &Linear| l.bias.as_tensor().clone();

        // Forward. enc_h[i] is encoder layer i's input (enc_h[0] = x), so enc_h[i + 1] its output.
        let mut enc_h = vec![x.clone()];
        for (_, l) in &self.enc {
            let h = bias_act(&product(&enc_h[enc_h.len() - 1], l)?, &bias(l), act)?; // [rows, hidden]
            enc_h.push(h);
        }
        let h = &enc_h[enc_h.len() - 1];
        let heads = reparam(
            &product(h, &self.mu)?,
            &product(h, &self.logvar)?,
            &bias(&self.mu),
            &bias(&self.logvar),
            &eps,
        )?; // [4, rows, z]: μ, log σ², σ, z
        let mut dec_h = vec![heads.get(3)?];
        for (_, l) in &self.dec {
            let h = bias_act(&product(&dec_h[dec_h.len() - 1], l)?, &bias(l), act)?;
            dec_h.push(h);
        }
        let last = &dec_h[dec_h.len() - 1];
        // dL/d(output pre-activations): δ for the mean (or logits), and for the Gaussian's log-variance.
        let (delta, delta_lv, nll) = match &self.out_logvar {
            None => {
                let (delta, nll) =
                    bernoulli_rows(&product(last, &self.out)?, &bias(&self.out), &x)?;
                (delta, None, nll)
            }
            Some(lvl) => {
                let (da, dlv, nll) = gaussian_rows(
                    &product(last, &self.out)?,
                    &bias(&self.out),
                    &product(last, lvl)?,
                    &bias(lvl),
                    &x,
                )?;
                (da, Some((dlv, lvl)), nll)
            }
        };
        let loss = passes::neg_elbo_sum(&nll, &heads)?;

        // Backward, output first. `g`, `g2`: dL/d(a layer's output), in one or two parts (two heads).
        let mut out_grads = vec![layer_grads(last, &delta)?];
        let mut g = back(&delta, &self.out)?;
        let mut g2 = None;
        if let Some((dlv, lvl)) = &delta_lv {
            out_grads.push(layer_grads(last, dlv)?);
            g2 = Some(back(dlv, lvl)?);
        }
        let mut dec_grads = Vec::with_capacity(self.dec.len());
        for (i, (_, l)) in self.dec.iter().enumerate().rev() {
            let (dpre, db) = act_grad_sum(&g, g2.as_ref(), &dec_h[i + 1], act)?; // [rows, width of i]
            dec_grads.push((dec_h[i].t()?.matmul(&dpre)?, db));
            g = back(&dpre, l)?;
            g2 = None;
        }
        if let Some(g2) = g2 {
            g = (g + g2)?; // no decoder layers: both output heads read z
        }
        let dheads = head_grad(&g, &heads, &eps)?; // [2, rows, z]: dL/dμ, dL/d log σ²
        let (dmu, dlv) = (dheads.get(0)?, dheads.get(1)?);
        let mu_grads = layer_grads(h, &dmu)?;
        let lv_grads = layer_grads(h, &dlv)?;
        let mut enc_grads = Vec::with_capacity(self.enc.len());
        if !self.enc.is_empty() {
            let (mut g, mut g2) = (back(&dmu, &self.mu)?, Some(back(&dlv, &self.logvar)?));
            for (i, (_, l)) in self.enc.iter().enumerate().rev() {
                let (dpre, db) = act_grad_sum(&g, g2.as_ref(), &enc_h[i + 1], act)?;
                enc_grads.push((enc_h[i].t()?.matmul(&dpre)?, db));
                if i > 0 {
                    g = back(&dpre, l)?; // nothing needs dL/dx for the images
                }
                g2 = None;
            }
        }

        // `params()` order: encoder, μ, log σ², decoder, output (mean, then log-variance).
        let grads = enc_grads
            .into_iter()
            .rev()
            .chain([mu_grads, lv_grads])
            .chain(dec_grads.into_iter().rev())
            .chain(out_grads)
            .flat_map(|(w, b)| [w, b])
            .collect();
        Ok((loss, grads))
    }
}

#[cfg(test)]
mod tests;
