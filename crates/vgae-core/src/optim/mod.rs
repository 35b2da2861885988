//! Optimisers whose whole state is named tensors plus a step count, so a checkpoint can hold it and a
//! resumed run continues bit for bit.

mod adagrad;
mod adam;
#[cfg(feature = "cuda")]
mod cuda_update;
#[cfg(feature = "cuda")]
mod cuda_update_all;
mod fused;

pub use adagrad::Adagrad;
pub use adam::Adam;

use crate::{Error, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use std::collections::HashMap;

/// A gradient-descent optimiser over a fixed list of named [`Params`], with checkpointable state.
/// Implemented by [`Adam`] and [`Adagrad`], and by `Box<dyn Optimizer>`.
pub trait Optimizer {
    /// The named parameters it updates, in a fixed order (what a checkpoint stores).
    fn params(&self) -> &Params;
    /// Applies one update from the gradients of the named parameters.
    fn step(&mut self, grads: &GradStore) -> Result<()>;
    /// Number of updates applied so far.
    fn steps(&self) -> u64;
    /// The state tensors, named `<param>.<slot>` (e.g. `encoder.conv1.weight.exp_avg`).
    fn state(&self) -> Vec<(String, Tensor)>;
    /// Restores state saved by [`Optimizer::state`].
    fn load_state(&mut self, tensors: &HashMap<String, Tensor>, steps: u64) -> Result<()>;
}

impl<O: Optimizer + ?Sized> Optimizer for Box<O> {
    fn params(&self) -> &Params {
        (**self).params()
    }
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        (**self).step(grads)
    }
    fn steps(&self) -> u64 {
        (**self).steps()
    }
    fn state(&self) -> Vec<(String, Tensor)> {
        (**self).state()
    }
    fn load_state(&mut self, tensors: &HashMap<String, Tensor>, steps: u64) -> Result<()> {
        (**self).load_state(tensors, steps)
    }
}

/// Candle detaches the gradients of intermediate nodes but not those of the variables, which keep an op
/// linking them to the step's whole forward graph. An optimiser state built from them (`sum + g²`) would then
/// chain every step's graph to the next: about 25 MB per MNIST step, an OOM within two epochs. Detach them.
pub fn detached(mut grads: GradStore, params: &Params) -> GradStore {
    for (_, v) in params {
        if let Some(g) = grads.remove(v.as_tensor()) {
            grads.insert(v.as_tensor(), g.detach());
        }
    }
    grads
}

/// Whether `dst` and `srcs` are contiguous f32 tensors of one shape on a device that `on` accepts: what the
/// in-place updates (CPU and CUDA) need, else the caller takes its tensor-op path.
fn updatable(dst: &Tensor, srcs: &[&Tensor], on: fn(&candle_core::Device) -> bool) -> bool {
    std::iter::once(dst).chain(srcs.iter().copied()).all(|t| {
        on(t.device())
            && t.dtype() == candle_core::DType::F32
            && t.is_contiguous()
            && t.shape() == dst.shape()
    })
}

/// Named parameters, in a fixed order.
pub type Params = Vec<(String, Var)>;

fn grad<'a>(grads: &'a GradStore, name: &str, v: &Var) -> Result<Option<&'a Tensor>> {
    let g = grads.get(v.as_tensor());
    if let Some(g) = g {
        if g.shape() != v.shape() {
            return Err(Error::msg(format!(
                "gradient of {name} has shape {:?}, expected {:?}",
                g.shape(),
                v.shape()
            )));
        }
    }
    Ok(g)
}

fn restore(tensors: &HashMap<String, Tensor>, key: &str, like: &Tensor) -> Result<Tensor> {
    let t = tensors.get(key).ok_or_else(|| {
        Error::msg(format!(
            "optimiser state '{key}' is missing from the checkpoint"
        ))
    })?;
    if t.shape() != like.shape() {
        return Err(Error::msg(format!(
            "optimiser state '{key}' has shape {:?}, expected {:?}",
            t.shape(),
            like.shape()
        )));
    }
    Ok(t.to_device(like.device())?.to_dtype(like.dtype())?)
}
