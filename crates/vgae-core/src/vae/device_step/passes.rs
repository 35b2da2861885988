//! The fused element-wise passes between the GEMMs of the device step: on CUDA each is one kernel of
//! `kernels/vae_step.cu`, on the CPU the same formulas in Rust (where the tests run them, so the step's
//! wiring is checked on machines without a GPU). Every pass reads contiguous f32 tensors and returns fresh
//! flat ones, which the caller reshapes.

use super::host_kernels::HOST_KERNELS;
use crate::graph::all_pairs_softplus::softplus_sigmoid;
use crate::{Error, Result};
use candle_core::{CpuStorage, Device, Storage, Tensor};

/// An activation, numbered as in the kernels' `act` argument (where 0 is the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Act {
    Relu = 1,
    Tanh = 2,
    Sigmoid = 3,
}

impl Act {
    fn apply(self, v: f32) -> f32 {
        match self {
            Act::Relu => v.max(0.0),
            Act::Tanh => v.tanh(),
            Act::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        }
    }

    /// The derivative, from the activation's output (ReLU: 1 where the output is positive; Candle's
    /// autograd takes 1 at an input of exactly 0, a set of measure zero).
    fn slope(self, out: f32) -> f32 {
        match self {
            Act::Relu => f32::from(out > 0.0),
            Act::Tanh => 1.0 - out * out,
            Act::Sigmoid => out * (1.0 - out),
        }
    }
}

/// How a kernel's threads are laid out: one per element, one block per row, or a single block.
#[derive(Debug, Clone, Copy)]
pub(super) enum Launch {
    Elems(usize),
    Rows(usize),
    OneBlock,
}

/// Runs kernel `name` of `vae_step.cu` on CUDA, or `cpu` on the host, with `inputs` (each of the element
/// count paired with it, checked: the kernels index by `dims`), fresh outputs of the given lengths and the
/// u32 arguments `dims`, in the kernels' argument order.
fn run(
    name: &'static str,
    inputs: &[(&Tensor, usize)],
    outputs: &[usize],
    dims: &[u32],
    launch: Launch,
    cpu: impl FnOnce(&[&[f32]], &mut [Vec<f32>]),
) -> Result<Vec<Tensor>> {
    for (k, (t, n)) in inputs.iter().enumerate() {
        if t.elem_count() != *n || t.dtype() != candle_core::DType::F32 {
            return Err(Error::msg(format!(
                "VAE step ({name}): input {k} is {:?} {:?}, expected {n} f32 values",
                t.dtype(),
                t.shape()
            )));
        }
    }
    let inputs: Vec<&Tensor> = inputs.iter().map(|(t, _)| *t).collect();
    let dev = inputs[0].device();
    match dev {
        Device::Cpu => {
            let guards: Vec<_> = inputs.iter().map(|t| t.storage_and_layout()).collect();
            let ins = guards
                .iter()
                .map(|(s, l)| match (&**s, l.contiguous_offsets()) {
                    (Storage::Cpu(CpuStorage::F32(v)), Some((a, b))) => Ok(&v[a..b]),
                    _ => Err(Error::msg(format!(
                        "VAE step ({name}): expected contiguous f32 CPU tensors"
                    ))),
                })
                .collect::<Result<Vec<&[f32]>>>()?;
            let mut outs: Vec<Vec<f32>> = outputs.iter().map(|&n| vec![0f32; n]).collect();
            match HOST_KERNELS.with(|k| k.get()) {
                Some(kernels) => {
                    // NaN first, so that an element the kernel leaves unwritten shows.
                    outs.iter_mut().for_each(|o| o.fill(f32::NAN));
                    kernels(name, launch.geometry(name)?, &ins, &mut outs, dims).map_err(|e| {
                        Error::msg(format!("VAE step ({name}) on host kernels: {e}"))
                    })?
                }
                None => cpu(&ins, &mut outs),
            }
            outs.into_iter()
                .map(|v| {
                    let n = v.len();
                    Ok(Tensor::from_vec(v, n, dev)?)
                })
                .collect()
        }
        #[cfg(feature = "cuda")]
        Device::Cuda(_) => Ok(super::cuda_launch::run(
            name, &inputs, outputs, dims, launch,
        )?),
        _ => Err(Error::msg(format!(
            "VAE step ({name}): runs on the CPU and on CUDA, not on {dev:?}"
        ))),
    }
}

fn u32_of(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::msg(format!("VAE step: {what} {n} exceeds u32")))
}

/// `act(y + b)` for `y: [rows, cols]`, `b: [cols]`.
pub(super) fn bias_act(y: &Tensor, b: &Tensor, act: Act) -> Result<Tensor> {
    let (rows, cols) = y.dims2()?;
    let dims = [u32_of(rows, "rows")?, u32_of(cols, "cols")?, act as u32];
    let out = run(
        "bias_act_f32",
        &[(y, rows * cols), (b, cols)],
        &[rows * cols],
        &dims,
        Launch::Elems(rows * cols),
        |i, o| {
            let (y, b) = (i[0], i[1]);
            for (k, o) in o[0].iter_mut().enumerate() {
                *o = act.apply(y[k] + b[k % cols]);
            }
        },
    )?;
    Ok(out[0].reshape((rows, cols))?)
}

/// dL/d(pre-activation) = (g + g2) · act'(out) for a layer's output `out` (`[rows, cols]`; `g2` the second
/// head's share, or none) and its bias gradient Σ_rows, in one pass: one thread per column on CUDA, rows in
/// order (the sums of `column_sum`, so the same bits). Returns (`[rows, cols]`, `[cols]`).
pub(super) fn act_grad_sum(
    g: &Tensor,
    g2: Option<&Tensor>,
    out: &Tensor,
    act: Act,
) -> Result<(Tensor, Tensor)> {
    let (rows, cols) = out.dims2()?;
    let n = rows * cols;
    let two = g2.is_some();
    let dims = [
        u32_of(rows, "rows")?,
        u32_of(cols, "cols")?,
        act as u32,
        u32::from(two),
    ];
    let mut o = run(
        "act_grad_sum_f32",
        &[(g, n), (g2.unwrap_or(g), n), (out, n)],
        &[n, cols],
        &dims,
        Launch::Elems(cols),
        |i, o| {
            let (d, db) = o.split_at_mut(1);
            for r in 0..rows {
                for (c, s) in db[0].iter_mut().enumerate() {
                    let k = r * cols + c;
                    let v = if two { i[0][k] + i[1][k] } else { i[0][k] };
                    d[0][k] = v * act.slope(i[2][k]);
                    *s += d[0][k];
                }
            }
        },
    )?;
    let db = o.pop().expect("two outputs");
    let d = o.pop().expect("two outputs").reshape((rows, cols))?;
    Ok((d, db))
}

/// The heads and z = μ + σ·ε: `[4, rows, zd]` holding μ, log σ², σ and z, from the heads' products
/// (`[rows, zd]`), their biases and the noise.
pub(super) fn reparam(
    mu_raw: &Tensor,
    lv_raw: &Tensor,
    b_mu: &Tensor,
    b_lv: &Tensor,
    eps: &Tensor,
) -> Result<Tensor> {
    let (rows, zd) = mu_raw.dims2()?;
    let n = rows * zd;
    let out = run(
        "reparam_f32",
        &[(mu_raw, n), (lv_raw, n), (b_mu, zd), (b_lv, zd), (eps, n)],
        &[4 * n],
        &[u32_of(rows, "rows")?, u32_of(zd, "z")?],
        Launch::Elems(n),
        |i, o| {
            let o = &mut o[0];
            for k in 0..n {
                let (mu, lv) = (i[0][k] + i[2][k % zd], i[1][k] + i[3][k % zd]);
                let sd = (lv * 0.5).exp();
                o[k] = mu;
                o[n + k] = lv;
                o[2 * n + k] = sd;
                o[3 * n + k] = mu + sd * i[4][k];
            }
        },
    )?;
    Ok(out[0].reshape((4, rows, zd))?)
}

/// dL/dz → `[2, rows, zd]` holding dL/dμ = dz + μ and dL/d log σ² = dz·ε·σ/2 + (σ² − 1)/2 (the KL's share
/// included), from [`reparam`]'s `heads`.
pub(super) fn head_grad(dz: &Tensor, heads: &Tensor, eps: &Tensor) -> Result<Tensor> {
    let (rows, zd) = dz.dims2()?;
    let n = rows * zd;
    let out = run(
        "head_grad_f32",
        &[(dz, n), (heads, 4 * n), (eps, n)],
        &[2 * n],
        &[u32_of(n, "elements")?],
        Launch::Elems(n),
        |i, o| {
            let (dz, h, e, o) = (i[0], i[1], i[2], &mut o[0]);
            for k in 0..n {
                let (mu, lv, sd) = (h[k], h[n + k], h[2 * n + k]);
                o[k] = dz[k] + mu;
                o[n + k] = dz[k] * e[k] * 0.5 * sd + 0.5 * (lv.exp() - 1.0);
            }
        },
    )?;
    Ok(out[0].reshape((2, rows, zd))?)
}

/// Bernoulli decoder: for logits `raw + b` (`[rows, d]`) and images `x`, returns (δ = σ(l) − x, the
/// per-row NLL Σ softplus(l) − x·l).
pub(super) fn bernoulli_rows(raw: &Tensor, b: &Tensor, x: &Tensor) -> Result<(Tensor, Tensor)> {
    let (rows, d) = raw.dims2()?;
    let out = run(
        "bernoulli_rows_f32",
        &[(raw, rows * d), (b, d), (x, rows * d)],
        &[rows * d, rows],
        &[u32_of(rows, "rows")?, u32_of(d, "pixels")?],
        Launch::Rows(rows),
        |i, o| {
            let (raw, b, x) = (i[0], i[1], i[2]);
            let (delta, nll) = o.split_at_mut(1);
            for (r, nll) in nll[0].iter_mut().enumerate() {
                let mut acc = 0f32;
                for (c, bc) in b.iter().enumerate() {
                    let k = r * d + c;
                    let l = raw[k] + bc;
                    let (sp, sg) = softplus_sigmoid(l);
                    acc += sp - x[k] * l;
                    delta[0][k] = sg - x[k];
                }
                *nll = acc;
            }
        },
    )?;
    Ok((out[0].reshape((rows, d))?, out[1].clone()))
}

/// Gaussian decoder: mean σ(a_raw + b_a), log-variance lv_raw + b_lv (`[rows, d]` each); returns (dL/da,
/// dL/dlv, the per-row NLL ½ Σ (lv + ln 2π + (x − m)² e^{−lv})).
pub(super) fn gaussian_rows(
    a_raw: &Tensor,
    b_a: &Tensor,
    lv_raw: &Tensor,
    b_lv: &Tensor,
    x: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (rows, d) = a_raw.dims2()?;
    let out = run(
        "gaussian_rows_f32",
        &[
            (a_raw, rows * d),
            (b_a, d),
            (lv_raw, rows * d),
            (b_lv, d),
            (x, rows * d),
        ],
        &[rows * d, rows * d, rows],
        &[u32_of(rows, "rows")?, u32_of(d, "pixels")?],
        Launch::Rows(rows),
        |i, o| {
            let ln_2pi = super::super::loss::LN_2PI as f32;
            let [da, dlv, nll] = o else {
                unreachable!("three outputs")
            };
            for (r, nll) in nll.iter_mut().enumerate() {
                let mut acc = 0f32;
                for c in 0..d {
                    let k = r * d + c;
                    let m = Act::Sigmoid.apply(i[0][k] + i[1][c]);
                    let lv = i[2][k] + i[3][c];
                    let (res, w) = (i[4][k] - m, (-lv).exp());
                    let sq = res * res * w;
                    acc += 0.5 * (lv + ln_2pi + sq);
                    dlv[k] = 0.5 * (1.0 - sq);
                    da[k] = -res * w * m * (1.0 - m);
                }
                *nll = acc;
            }
        },
    )?;
    Ok((
        out[0].reshape((rows, d))?,
        out[1].reshape((rows, d))?,
        out[2].clone(),
    ))
}

/// The batch's summed −ELBO, a scalar: Σ_r nll_r − ½ Σ_j (1 + log σ² − μ² − σ²), from [`reparam`]'s heads.
pub(super) fn neg_elbo_sum(nll: &Tensor, heads: &Tensor) -> Result<Tensor> {
    let (_, rows, zd) = heads.dims3()?;
    let out = run(
        "neg_elbo_sum_f32",
        &[(nll, rows), (heads, 4 * rows * zd)],
        &[1],
        &[u32_of(rows, "rows")?, u32_of(zd, "z")?],
        Launch::OneBlock,
        |i, o| {
            let (nll, h, n) = (i[0], i[1], rows * zd);
            let mut acc = 0f32;
            for r in 0..rows {
                let kl: f32 = (0..zd)
                    .map(|j| {
                        let (mu, lv) = (h[r * zd + j], h[n + r * zd + j]);
                        1.0 + lv - mu * mu - lv.exp()
                    })
                    .sum();
                acc += nll[r] - 0.5 * kl;
            }
            o[0][0] = acc;
        },
    )?;
    Ok(out[0].reshape(())?)
}

/// Σ over rows of `g: [rows, cols]`: a bias gradient, `[cols]`.
pub(super) fn column_sum(g: &Tensor) -> Result<Tensor> {
    let (rows, cols) = g.dims2()?;
    let out = run(
        "column_sum_f32",
        &[(g, rows * cols)],
        &[cols],
        &[u32_of(rows, "rows")?, u32_of(cols, "cols")?],
        Launch::Elems(cols),
        |i, o| {
            for r in 0..rows {
                for (c, s) in o[0].iter_mut().enumerate() {
                    *s += i[0][r * cols + c];
                }
            }
        },
    )?;
    Ok(out.into_iter().next().expect("one output"))
}
