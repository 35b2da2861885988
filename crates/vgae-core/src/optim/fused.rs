//! Element-wise optimiser updates done in place on the CPU: one pass over each state tensor and one over the
//! parameter, no temporaries. Candle's tensor ops would allocate and sweep memory ~10 times per parameter
//! per step (a third of an MNIST VAE epoch). Same f32 arithmetic, in the same order, as the tensor-op path.

use crate::Result;
use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, InplaceOp3, Layout, Tensor};
use rayon::prelude::*;

/// Elements per parallel chunk: below this the update runs on one thread.
const CHUNK: usize = 1 << 15;

struct Fused<F> {
    name: &'static str,
    f: F,
}

fn slice<'a>(s: &'a CpuStorage, l: &Layout, name: &str) -> candle_core::Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("{name}: expected contiguous f32 tensors"),
    }
}

fn slice_mut<'a>(
    s: &'a mut CpuStorage,
    l: &Layout,
    name: &str,
) -> candle_core::Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => candle_core::bail!("{name}: expected contiguous f32 tensors"),
    }
}

impl<F> Fused<F> {
    /// N is 1 or 2 (the two trait impls below).
    fn apply<const N: usize>(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        srcs: [(&CpuStorage, &Layout); N],
    ) -> candle_core::Result<()>
    where
        F: Fn(&mut f32, [f32; N]) + Sync,
    {
        let mut ins: [&[f32]; N] = [&[]; N];
        for (i, (s, l)) in srcs.iter().enumerate() {
            ins[i] = slice(s, l, self.name)?;
        }
        let out = slice_mut(dst, dst_l, self.name)?;
        if ins.iter().any(|s| s.len() != out.len()) {
            candle_core::bail!("{}: tensors differ in size", self.name);
        }
        // Zipped chunks (no indexing) so the per-element closure inlines into a vectorised loop.
        let run = |(out, ins): (&mut [f32], [&[f32]; N])| match N {
            1 => out
                .iter_mut()
                .zip(ins[0])
                .for_each(|(o, &a)| (self.f)(o, std::array::from_fn(|_| a))),
            _ => out
                .iter_mut()
                .zip(ins[0].iter().zip(ins[N - 1]))
                .for_each(|(o, (&a, &b))| (self.f)(o, std::array::from_fn(|i| [a, b][i]))),
        };
        let split = |k: usize| -> [&[f32]; N] {
            std::array::from_fn(|i| {
                let s = ins[i];
                &s[(k * CHUNK).min(s.len())..((k + 1) * CHUNK).min(s.len())]
            })
        };
        if out.len() > CHUNK {
            out.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(k, o)| run((o, split(k))));
        } else {
            run((out, ins));
        }
        Ok(())
    }
}

impl<F: Fn(&mut f32, [f32; 1]) + Sync> InplaceOp2 for Fused<F> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        self.apply(s1, l1, [(s2, l2)])
    }
}

impl<F: Fn(&mut f32, [f32; 2]) + Sync> InplaceOp3 for Fused<F> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        self.apply(s1, l1, [(s2, l2), (s3, l3)])
    }
}

fn fits(dst: &Tensor, srcs: &[&Tensor]) -> bool {
    super::updatable(dst, srcs, candle_core::Device::is_cpu)
}

/// `dst[i] = f(dst[i], [a[i]])` in place, on contiguous f32 CPU tensors of one shape. Returns false (doing
/// nothing) where that does not hold, so the caller takes its tensor-op path.
pub fn update1(
    name: &'static str,
    dst: &Tensor,
    a: &Tensor,
    f: impl Fn(&mut f32, [f32; 1]) + Sync,
) -> Result<bool> {
    if !fits(dst, &[a]) {
        return Ok(false);
    }
    dst.inplace_op2(a, &Fused { name, f })?;
    Ok(true)
}

/// `dst[i] = f(dst[i], [a[i], b[i]])` in place; as [`update1`].
pub fn update2(
    name: &'static str,
    dst: &Tensor,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(&mut f32, [f32; 2]) + Sync,
) -> Result<bool> {
    if !fits(dst, &[a, b]) {
        return Ok(false);
    }
    dst.inplace_op3(a, b, &Fused { name, f })?;
    Ok(true)
}

/// One Adagrad element: `s += g²; p −= g / (√s + eps) · lr`, the tensor path's f32 operations in its order.
#[inline(always)]
fn adagrad_body(p: &mut [f32], s: &mut [f32], g: &[f32], lr: f32, eps: f32) {
    for ((p, s), &g) in p.iter_mut().zip(s.iter_mut()).zip(g) {
        *s += g * g;
        *p -= g / (s.sqrt() + eps) * lr;
    }
}

crate::simd::multiversion! {
    /// [`adagrad_body`] through its widest build (√ and ÷ are correctly rounded at every width: same bits).
    fn adagrad_kernel(p: &mut [f32], s: &mut [f32], g: &[f32], lr: f32, eps: f32) = adagrad_body;
}

/// The outer half of [`adagrad`]: holds the accumulator `s` and runs the inner op on the parameter.
struct AdagradSum<'a> {
    p: &'a Tensor,
    g: &'a Tensor,
    lr: f32,
    eps: f32,
}

/// The inner half: holds the parameter and updates both in one pass.
struct AdagradParam<'a> {
    s: std::sync::Mutex<&'a mut [f32]>,
    lr: f32,
    eps: f32,
}

impl InplaceOp1 for AdagradSum<'_> {
    fn name(&self) -> &'static str {
        "adagrad-sum"
    }
    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        let inner = AdagradParam {
            s: std::sync::Mutex::new(slice_mut(s, l, "adagrad")?),
            lr: self.lr,
            eps: self.eps,
        };
        self.p.inplace_op2(self.g, &inner)
    }
}

impl InplaceOp2 for AdagradParam<'_> {
    fn name(&self) -> &'static str {
        "adagrad"
    }
    fn cpu_fwd(
        &self,
        p: &mut CpuStorage,
        pl: &Layout,
        g: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<()> {
        let (p, g) = (slice_mut(p, pl, "adagrad")?, slice(g, gl, "adagrad")?);
        let mut s = self
            .s
            .lock()
            .map_err(|_| candle_core::Error::Msg("adagrad: poisoned".into()))?;
        let s: &mut [f32] = &mut s;
        if s.len() != p.len() || g.len() != p.len() {
            candle_core::bail!("adagrad: tensors differ in size");
        }
        let (lr, eps) = (self.lr, self.eps);
        p.par_chunks_mut(CHUNK)
            .zip(s.par_chunks_mut(CHUNK))
            .zip(g.par_chunks(CHUNK))
            .for_each(|((p, s), g)| adagrad_kernel(p, s, g, lr, eps));
        Ok(())
    }
}

/// Adagrad's update of parameter `p` and accumulator `s` from gradient `g` in one pass over the three (the
/// two-pass [`update1`] + [`update2`] form read `g` and `s` twice). Candle's in-place ops have one
/// destination, so the op on `s` runs the op on `p` inside it. Returns false, doing nothing, where the
/// tensors are not contiguous f32 CPU tensors of one shape.
pub fn adagrad(p: &Tensor, s: &Tensor, g: &Tensor, lr: f32, eps: f32) -> Result<bool> {
    if !fits(p, &[s, g]) {
        return Ok(false);
    }
    s.inplace_op1(&AdagradSum { p, g, lr, eps })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use crate::optim::{Adagrad, Adam, Optimizer};
    use crate::rng::RunRng;
    use candle_core::{Device, Tensor, Var};

    /// Three steps of each optimiser against its tensor-op formulas (the path other devices take), bit for
    /// bit, on a parameter large enough for the parallel chunks.
    #[test]
    fn in_place_updates_match_the_tensor_formulas_bit_for_bit() {
        let dev = Device::Cpu;
        let mut rng = RunRng::new(3);
        let n = 3 * super::CHUNK + 17;
        let init = rng.normal(&[n], &dev).unwrap();
        let c = rng.normal(&[n], &dev).unwrap();
        let grad_of = |v: &Var| {
            // d/dp Σ (c p)² = 2 c² p: changes with p, so later steps see new gradients.
            let loss = (v.as_tensor() * &c)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = loss.backward().unwrap();
            let g = grads.get(v.as_tensor()).unwrap().detach();
            (grads, g)
        };
        let bits = |t: &Tensor| -> Vec<u32> {
            t.to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };

        let v = Var::from_tensor(&init).unwrap();
        let mut adam = Adam::new(vec![("p".into(), v.clone())], 0.01).unwrap();
        let (mut m, mut s, mut p) = (
            init.zeros_like().unwrap(),
            init.zeros_like().unwrap(),
            init.clone(),
        );
        for t in 1..=3 {
            let (grads, g) = grad_of(&v);
            let (bc1, bc2) = (1.0 - 0.9f64.powi(t), 1.0 - 0.999f64.powi(t));
            m = ((&m * 0.9).unwrap() + (&g * (1.0 - 0.9)).unwrap()).unwrap();
            s = ((&s * 0.999).unwrap() + (g.sqr().unwrap() * (1.0 - 0.999)).unwrap()).unwrap();
            let denom = ((&s / bc2).unwrap().sqrt().unwrap() + 1e-8).unwrap();
            let update = ((&m / bc1).unwrap() / denom).unwrap();
            p = (&p - (update * 0.01).unwrap()).unwrap();
            adam.step(&grads).unwrap();
            assert_eq!(bits(v.as_tensor()), bits(&p), "Adam step {t}");
        }
        let state = adam.state();
        assert_eq!(bits(&state[0].1), bits(&m));
        assert_eq!(bits(&state[1].1), bits(&s));

        let v = Var::from_tensor(&init).unwrap();
        let mut adagrad = Adagrad::new(vec![("p".into(), v.clone())], 0.01).unwrap();
        let (mut sum, mut p) = (init.zeros_like().unwrap(), init.clone());
        for t in 1..=3 {
            let (grads, g) = grad_of(&v);
            sum = (&sum + g.sqr().unwrap()).unwrap();
            let update = (&g / (sum.sqrt().unwrap() + 1e-10).unwrap()).unwrap();
            p = (&p - (update * 0.01).unwrap()).unwrap();
            adagrad.step(&grads).unwrap();
            assert_eq!(bits(v.as_tensor()), bits(&p), "Adagrad step {t}");
        }
        assert_eq!(bits(&adagrad.state()[0].1), bits(&sum));
    }
}
