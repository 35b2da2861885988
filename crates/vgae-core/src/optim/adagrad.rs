use super::{fused, grad, restore, Optimizer, Params};
use crate::Result;
use candle_core::backprop::GradStore;
use candle_core::Tensor;
use std::collections::HashMap;

/// Adagrad as in `torch.optim.Adagrad` (no decay, initial accumulator 0).
pub struct Adagrad {
    params: Params,
    /// Learning rate (step size).
    pub lr: f64,
    /// Added to the root of the accumulated squared gradient for stability; 1e-10.
    pub eps: f64,
    sum: Vec<Tensor>,
    t: u64,
}

impl Adagrad {
    /// Adagrad over `params` with learning rate `lr` and PyTorch's default epsilon; the squared-gradient
    /// sums (state slot `sum`) start at zero.
    pub fn new(params: Params, lr: f64) -> Result<Self> {
        let sum = params
            .iter()
            .map(|(_, v)| Ok(v.zeros_like()?))
            .collect::<Result<_>>()?;
        Ok(Adagrad {
            params,
            lr,
            eps: 1e-10,
            sum,
            t: 0,
        })
    }
}

impl Adagrad {
    /// Every parameter in one launch, where all are on CUDA (the same operations as one launch each).
    #[cfg(feature = "cuda")]
    fn step_all_on_cuda(&self, grads: &GradStore) -> Result<bool> {
        use super::cuda_update_all::{adagrad, wanted, Slot};
        if !wanted() || !self.params.iter().all(|(_, v)| v.device().is_cuda()) {
            return Ok(false);
        }
        let mut present = Vec::new();
        for (i, (name, var)) in self.params.iter().enumerate() {
            if let Some(g) = grad(grads, name, var)? {
                present.push((i, g.detach().contiguous()?));
            }
        }
        let slots: Vec<Slot> = present
            .iter()
            .map(|(i, g)| Slot {
                write: vec![self.params[*i].1.as_tensor(), &self.sum[*i]],
                grad: g,
            })
            .collect();
        Ok(adagrad(&slots, self.lr as f32, self.eps as f32)?)
    }
}

impl Optimizer for Adagrad {
    fn params(&self) -> &Params {
        &self.params
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.t += 1;
        #[cfg(feature = "cuda")]
        if self.step_all_on_cuda(grads)? {
            return Ok(());
        }
        for (i, (name, var)) in self.params.iter().enumerate() {
            let Some(g) = grad(grads, name, var)? else {
                continue;
            };
            // Candle's gradients still link to the step's graph: keep the state free of it.
            let g = &g.detach().contiguous()?;
            let (lr, eps) = (self.lr as f32, self.eps as f32);
            // In place on the CPU, with the tensor path's f32 operations in the same order.
            if fused::adagrad(var.as_tensor(), &self.sum[i], g, lr, eps)? {
                continue;
            }
            // In place on CUDA, with the same operations.
            #[cfg(feature = "cuda")]
            if super::cuda_update::adagrad(var.as_tensor(), &self.sum[i], g, lr, eps)? {
                continue;
            }
            let sum = (&self.sum[i] + g.sqr()?)?;
            let update = (g / (sum.sqrt()? + self.eps)?)?;
            var.set(&(var.as_tensor() - (update * self.lr)?)?)?;
            self.sum[i] = sum;
        }
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .zip(&self.sum)
            .map(|((n, _), s)| (format!("{n}.sum"), s.clone()))
            .collect()
    }

    fn load_state(&mut self, tensors: &HashMap<String, Tensor>, steps: u64) -> Result<()> {
        for (i, (n, _)) in self.params.iter().enumerate() {
            self.sum[i] = restore(tensors, &format!("{n}.sum"), &self.sum[i])?;
        }
        self.t = steps;
        Ok(())
    }
}
