use super::{fused, restore, Optimizer, Params};
use crate::Result;
use candle_core::backprop::GradStore;
use candle_core::Tensor;
use std::collections::HashMap;

/// Adam (Kingma & Ba) as in `torch.optim.Adam` with no weight decay: the optimiser of the VGAE paper
/// (learning rate 0.01), and an option for the image VAEs. State slots are `exp_avg` and `exp_avg_sq`.
///
/// Adam's first step moves every parameter by `lr` against the sign of its gradient, whatever the
/// gradient's size (the bias-corrected `m / sqrt(v)` is `g / |g|`):
///
/// ```
/// use candle_core::{Device, Var};
/// use vgae_core::optim::{Adam, Optimizer};
///
/// let x = Var::new(&[3f32], &Device::Cpu)?;
/// let mut opt = Adam::new(vec![("x".to_string(), x.clone())], 0.1)?;
/// // loss = 5 x, so d loss / dx = 5.
/// let loss = (x.as_tensor() * 5.0)?.sum_all()?;
/// opt.step(&loss.backward()?)?;
/// let after = x.as_tensor().to_vec1::<f32>()?[0];
/// assert!((after - 2.9).abs() < 1e-6, "{after}");
/// assert_eq!(opt.steps(), 1);
/// # Ok::<(), vgae_core::Error>(())
/// ```
pub struct Adam {
    params: Params,
    /// Learning rate (step size).
    pub lr: f64,
    /// Decay rate of the first-moment (gradient mean) estimate; 0.9.
    pub beta1: f64,
    /// Decay rate of the second-moment (squared gradient) estimate; 0.999.
    pub beta2: f64,
    /// Added to `sqrt(v̂)` in the denominator for stability; 1e-8.
    pub eps: f64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: u64,
}

impl Adam {
    /// Adam over `params` with learning rate `lr` and PyTorch's default betas and epsilon; the moment
    /// estimates start at zero.
    pub fn new(params: Params, lr: f64) -> Result<Self> {
        let zeros = |p: &Params| -> Result<Vec<Tensor>> {
            p.iter().map(|(_, v)| Ok(v.zeros_like()?)).collect()
        };
        Ok(Adam {
            m: zeros(&params)?,
            v: zeros(&params)?,
            params,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
        })
    }

    /// One update from a gradient per parameter, in [`Optimizer::params`]' order (`None` leaves that
    /// parameter and its moments as they are): the entry of hand-derived steps, which build no `GradStore`.
    pub fn step_each(&mut self, grads: &[Option<Tensor>]) -> Result<()> {
        if grads.len() != self.params.len() {
            return Err(crate::Error::msg(format!(
                "Adam: {} gradients for {} parameters",
                grads.len(),
                self.params.len()
            )));
        }
        self.t += 1;
        let bc1 = 1.0 - self.beta1.powi(self.t as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t as i32);
        #[cfg(feature = "cuda")]
        if self.step_all_on_cuda(grads, bc1, bc2)? {
            return Ok(());
        }
        for (i, ((name, var), g)) in self.params.iter().zip(grads).enumerate() {
            let Some(g) = g else {
                continue;
            };
            if g.shape() != var.shape() {
                return Err(crate::Error::msg(format!(
                    "gradient of {name} has shape {:?}, expected {:?}",
                    g.shape(),
                    var.shape()
                )));
            }
            // Candle's gradients still link to the step's graph: keep the state free of it.
            let g = &g.detach().contiguous()?;
            // In place on the CPU, with the tensor path's f32 operations in the same order (Candle's
            // `t * c` is `t * (c as f32) + 0`, `t / c` is `t * (1 / c) as f32 + 0`).
            let (b1, b2, eps, lr) = (
                self.beta1 as f32,
                self.beta2 as f32,
                self.eps as f32,
                self.lr as f32,
            );
            let (c1, c2) = ((1.0 - self.beta1) as f32, (1.0 - self.beta2) as f32);
            let (r1, r2) = ((1.0 / bc1) as f32, (1.0 / bc2) as f32);
            if fused::update1("adam-m", &self.m[i], g, |m, [g]| {
                *m = (*m * b1 + 0.0) + (g * c1 + 0.0)
            })? && fused::update1("adam-v", &self.v[i], g, |v, [g]| {
                *v = (*v * b2 + 0.0) + (g * g * c2 + 0.0)
            })? && fused::update2(
                "adam",
                var.as_tensor(),
                &self.m[i],
                &self.v[i],
                |p, [m, v]| {
                    let denom = (v * r2 + 0.0).sqrt() + eps;
                    *p -= (m * r1 + 0.0) / denom * lr + 0.0
                },
            )? {
                continue;
            }
            // In place on CUDA, with the same operations, in one launch.
            #[cfg(feature = "cuda")]
            if super::cuda_update::adam(
                var.as_tensor(),
                &self.m[i],
                &self.v[i],
                g,
                super::cuda_update::AdamStep {
                    b1,
                    c1,
                    b2,
                    c2,
                    r1,
                    r2,
                    eps,
                    lr,
                },
            )? {
                continue;
            }
            let m = ((&self.m[i] * self.beta1)? + (g * (1.0 - self.beta1))?)?;
            let v = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let denom = ((&v / bc2)?.sqrt()? + self.eps)?;
            let update = ((&m / bc1)? / denom)?;
            var.set(&(var.as_tensor() - (update * self.lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }
}

impl Adam {
    /// Every parameter in one launch, where all are on CUDA, with `step_each`'s constants (the same
    /// operations as one launch each).
    #[cfg(feature = "cuda")]
    fn step_all_on_cuda(&self, grads: &[Option<Tensor>], bc1: f64, bc2: f64) -> Result<bool> {
        use super::cuda_update::AdamStep;
        use super::cuda_update_all::{adam, wanted, Slot};
        if !wanted() || !self.params.iter().all(|(_, v)| v.device().is_cuda()) {
            return Ok(false);
        }
        let present = grads
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.as_ref().map(|g| Ok((i, g.detach().contiguous()?))))
            .collect::<Result<Vec<_>>>()?;
        let slots: Vec<Slot> = present
            .iter()
            .map(|(i, g)| Slot {
                write: vec![self.params[*i].1.as_tensor(), &self.m[*i], &self.v[*i]],
                grad: g,
            })
            .collect();
        let k = AdamStep {
            b1: self.beta1 as f32,
            c1: (1.0 - self.beta1) as f32,
            b2: self.beta2 as f32,
            c2: (1.0 - self.beta2) as f32,
            r1: (1.0 / bc1) as f32,
            r2: (1.0 / bc2) as f32,
            eps: self.eps as f32,
            lr: self.lr as f32,
        };
        Ok(adam(&slots, k)?)
    }
}

impl Optimizer for Adam {
    fn params(&self) -> &Params {
        &self.params
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let each: Vec<_> = self
            .params
            .iter()
            .map(|(_, var)| grads.get(var.as_tensor()).cloned())
            .collect();
        self.step_each(&each)
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .enumerate()
            .flat_map(|(i, (n, _))| {
                [
                    (format!("{n}.exp_avg"), self.m[i].clone()),
                    (format!("{n}.exp_avg_sq"), self.v[i].clone()),
                ]
            })
            .collect()
    }

    fn load_state(&mut self, tensors: &HashMap<String, Tensor>, steps: u64) -> Result<()> {
        for (i, (n, _)) in self.params.iter().enumerate() {
            self.m[i] = restore(tensors, &format!("{n}.exp_avg"), &self.m[i])?;
            self.v[i] = restore(tensors, &format!("{n}.exp_avg_sq"), &self.v[i])?;
        }
        self.t = steps;
        Ok(())
    }
}
