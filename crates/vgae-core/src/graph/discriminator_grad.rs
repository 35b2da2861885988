//! The ReLU MLP discriminator's logistic loss and its gradients derived by hand, on the host: the numbers of
//! autograd through [`super::adversarial::Discriminator`] (tested against it), without autograd's overhead.
//!
//! Why: an ARGA epoch on Pubmed runs five discriminator updates on 2 × 19 717 rows; through autograd `perf`
//! put 16 % of it in GEMMs and ~59 % in Candle's unfused element-wise ops (bias broadcasts, ReLU and its
//! mask, softplus, column sums), each an allocation and a sweep over a [39 434, 64] buffer. Here the rows go
//! in fixed chunks, each chunk's whole forward and backward in cache (one GEMM per layer forward, two
//! backward, none for the input unless asked), chunks in parallel, and the chunks' gradient parts summed in
//! chunk order: the same bits for any thread count.

use super::all_pairs_softplus::softplus_sigmoid;
use crate::host_mat::{gemm_into, Mat};
use rayon::prelude::*;

/// Rows per chunk: the 64-64 MLP's activations for a chunk (2 × 256 × 64 floats) stay in L2.
const CHUNK: usize = 256;

/// One layer in torch's layout: `w` is `[fan_out, fan_in]`, `b` is `[fan_out]`.
pub struct HostLayer {
    /// Weights, `[fan_out, fan_in]` row-major.
    pub w: Vec<f32>,
    /// Bias, `[fan_out]`.
    pub b: Vec<f32>,
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
}

impl HostLayer {
    fn w(&self) -> Mat {
        Mat::of(self.w.as_ptr(), self.w.len(), self.fan_out, self.fan_in)
    }
}

/// What a pass computes besides the loss: the layers' gradients, the input's.
#[derive(Clone, Copy)]
pub struct Wanted {
    /// Every layer's dW and db.
    pub weights: bool,
    /// dL/dx.
    pub input: bool,
}

/// A pass's results: the loss; each layer's (dW `[fan_out, fan_in]`, db) when asked (else empty); dL/dx
/// `[rows, fan_in]` when asked (else empty).
pub struct MlpGrads {
    /// The weighted loss.
    pub loss: f64,
    /// (dW, db) per layer, in layer order.
    pub layers: Vec<(Vec<f32>, Vec<f32>)>,
    /// dL/dx.
    pub input: Vec<f32>,
}

/// Σ_r s_r · BCE(D(x_r), y_r), with `(y_r, s_r) = label(r)` and D the MLP of `layers` (ReLU between them,
/// one logit out), and its gradients. `x` is `[rows, fan_in]` row-major.
pub fn mlp_bce(
    layers: &[HostLayer],
    x: &[f32],
    label: impl Fn(usize) -> (f32, f32) + Sync,
    wanted: Wanted,
) -> MlpGrads {
    let width = layers.first().map_or(1, |l| l.fan_in);
    assert!(
        layers.last().is_some_and(|l| l.fan_out == 1)
            && layers.windows(2).all(|p| p[0].fan_out == p[1].fan_in)
            && x.len().is_multiple_of(width),
        "mlp_bce: layer sizes or input length do not chain"
    );
    let rows = x.len() / width;
    let parts: Vec<Chunk> = (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let r0 = c * CHUNK;
            let x = &x[r0 * width..(r0 + CHUNK).min(rows) * width];
            chunk(layers, x, |r| label(r0 + r), wanted)
        })
        .collect();
    let mut out = MlpGrads {
        loss: 0.0,
        layers: Vec::new(),
        input: Vec::with_capacity(if wanted.input { x.len() } else { 0 }),
    };
    for p in parts {
        out.loss += p.loss;
        out.input.extend(p.input);
        if out.layers.is_empty() {
            out.layers = p.layers;
        } else {
            for ((w, b), (pw, pb)) in out.layers.iter_mut().zip(&p.layers) {
                w.iter_mut().zip(pw).for_each(|(a, v)| *a += v);
                b.iter_mut().zip(pb).for_each(|(a, v)| *a += v);
            }
        }
    }
    out
}

/// One chunk's part of [`mlp_bce`].
struct Chunk {
    loss: f64,
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    input: Vec<f32>,
}

/// A row-major `[rows, cols]` view of `v`.
fn view(v: &[f32], rows: usize, cols: usize) -> Mat {
    Mat::of(v.as_ptr(), v.len(), rows, cols)
}

/// `a · b` into a new `[a.rows, b.cols]` buffer.
fn product(a: Mat, b: Mat, rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * cols];
    let y = Mat::of(out.as_mut_ptr(), out.len(), rows, cols);
    // `out` is this call's own buffer; `a` and `b` view buffers nobody writes during the call (the chunk's
    // own activations, the shared read-only weights and input).
    // SAFETY: as just said, the rule of `gemm_into`.
    unsafe { gemm_into(y, false, a, b) };
    out
}

fn chunk(
    layers: &[HostLayer],
    x: &[f32],
    label: impl Fn(usize) -> (f32, f32),
    wanted: Wanted,
) -> Chunk {
    let k = layers.len();
    let rows = x.len() / layers[0].fan_in;
    // acts[l]: the output of layer l, ReLU'd for every layer but the last (the logits, [rows, 1]).
    let mut acts: Vec<Vec<f32>> = Vec::with_capacity(k);
    for (l, layer) in layers.iter().enumerate() {
        let input = if l == 0 { x } else { &acts[l - 1] };
        let mut out = product(
            view(input, rows, layer.fan_in),
            layer.w().t(),
            rows,
            layer.fan_out,
        );
        for row in out.chunks_exact_mut(layer.fan_out) {
            row.iter_mut().zip(&layer.b).for_each(|(v, b)| *v += b);
            if l + 1 < k {
                row.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        acts.push(out);
    }
    // The logits become dL/dlogit in place: s·(σ(d) − y).
    let mut delta = acts.pop().expect("at least one layer");
    let mut loss = 0f64;
    for (r, d) in delta.iter_mut().enumerate() {
        let (y, s) = label(r);
        let (sp, sg) = softplus_sigmoid(*d);
        loss += f64::from(s * (sp - y * *d));
        *d = s * (sg - y);
    }
    let mut grads = vec![(Vec::new(), Vec::new()); if wanted.weights { k } else { 0 }];
    let mut input_grad = Vec::new();
    for (l, layer) in layers.iter().enumerate().rev() {
        let (fi, fo) = (layer.fan_in, layer.fan_out);
        let input = if l == 0 { x } else { &acts[l - 1] };
        let dm = view(&delta, rows, fo);
        if wanted.weights {
            let dw = product(dm.t(), view(input, rows, fi), fo, fi);
            let mut db = vec![0f32; fo];
            for row in delta.chunks_exact(fo) {
                db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            grads[l] = (dw, db);
        }
        if l == 0 {
            if wanted.input {
                input_grad = product(dm, layer.w(), rows, fi);
            }
            break;
        }
        // Through the ReLU below: its gradient is 0 where it output 0.
        let mut next = product(dm, layer.w(), rows, fi);
        next.iter_mut()
            .zip(input)
            .for_each(|(g, &a)| *g = if a > 0.0 { *g } else { 0.0 });
        delta = next;
        acts.pop();
    }
    Chunk {
        loss,
        layers: grads,
        input: input_grad,
    }
}
