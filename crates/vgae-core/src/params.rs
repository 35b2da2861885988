//! Named trainable parameters initialised from the run's seeded host RNG.
//!
//! Candle's `VarMap` initialises through the device RNG, which cannot be seeded on the CPU. A [`ParamStore`]
//! is the same kind of `VarBuilder` backend, but every draw comes from one [`RunRng`], so a model built from
//! it is repeatable bit for bit. Build a model with `new(vb)` as in candle-nn, then hand
//! [`ParamStore::params`] to an optimiser and [`ParamStore::rng`] to the trainer (the state after the
//! initialisation draws, from which training noise continues).
//!
//! ```
//! use candle_core::{Device, Module, Tensor};
//! use vgae_core::params::ParamStore;
//! use vgae_core::rng::RunRng;
//!
//! let store = ParamStore::new(RunRng::new(7));
//! let vb = store.var_builder(&Device::Cpu);
//! let fc = candle_nn::linear(4, 2, vb.pp("fc"))?; // weight [2, 4], bias [2]
//! let y = fc.forward(&Tensor::ones((3, 4), candle_core::DType::F32, &Device::Cpu)?)?;
//! assert_eq!(y.dims(), &[3, 2]);
//! let names: Vec<String> = store.params().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["fc.weight", "fc.bias"]);
//! // The same seed draws the same weights.
//! let again = ParamStore::new(RunRng::new(7));
//! candle_nn::linear(4, 2, again.var_builder(&Device::Cpu).pp("fc"))?;
//! let w = |s: &ParamStore| s.params()[0].1.as_tensor().flatten_all()?.to_vec1::<f32>();
//! assert_eq!(w(&store)?, w(&again)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::optim::Params;
use crate::rng::RunRng;
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use std::sync::Mutex;

struct Inner {
    rng: RunRng,
    vars: Vec<(String, Var)>,
}

/// Trainable parameters in creation order, drawn from a seeded host RNG.
pub struct ParamStore {
    inner: Mutex<Inner>,
}

impl ParamStore {
    /// An empty store whose initialisations draw from `rng`.
    pub fn new(rng: RunRng) -> Self {
        ParamStore {
            inner: Mutex::new(Inner {
                rng,
                vars: Vec::new(),
            }),
        }
    }

    /// A `VarBuilder` (f32) that creates its variables in this store, for `Module::new(vb)` constructors.
    pub fn var_builder(&self, device: &Device) -> VarBuilder<'_> {
        VarBuilder::from_backend(Box::new(Backend(self)), DType::F32, device.clone())
    }

    /// The parameters created so far, in creation order, named by their full `VarBuilder` path.
    pub fn params(&self) -> Params {
        self.lock().vars.clone()
    }

    /// The RNG's state after every draw made so far: training continues from here.
    pub fn rng(&self) -> RunRng {
        self.lock().rng.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the store half-written: each push is one operation.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Draws `init` for `shape` on the host.
fn draw(rng: &mut RunRng, shape: &Shape, init: Init, dev: &Device) -> crate::Result<Tensor> {
    let dims = shape.dims();
    Ok(match init {
        Init::Const(c) => Tensor::full(c as f32, dims, dev)?,
        Init::Uniform { lo, up } => rng.uniform(lo as f32, up as f32, dims, dev)?,
        Init::Randn { mean, stdev } => rng.normal(dims, dev)?.affine(stdev, mean)?,
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                NormalOrUniform::Uniform => {
                    let b = (3f64.sqrt() * std) as f32;
                    rng.uniform(-b, b, dims, dev)?
                }
                NormalOrUniform::Normal => rng.normal(dims, dev)?.affine(std, 0.0)?,
            }
        }
    })
}

struct Backend<'a>(&'a ParamStore);

impl SimpleBackend for Backend<'_> {
    fn get(
        &self,
        s: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut inner = self.0.lock();
        if let Some((_, v)) = inner.vars.iter().find(|(n, _)| n == name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "parameter '{name}' exists with shape {:?}, asked for {:?}",
                    v.shape(),
                    s
                );
            }
            return Ok(v.as_tensor().clone());
        }
        let t = draw(&mut inner.rng, &s, init, dev)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?
            .to_dtype(dtype)?;
        let var = Var::from_tensor(&t)?;
        inner.vars.push((name.to_string(), var.clone()));
        Ok(var.as_tensor().clone())
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        let inner = self.0.lock();
        match inner.vars.iter().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.as_tensor().clone()),
            None => {
                candle_core::bail!("parameter '{name}' was never created (its shape is needed)")
            }
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.lock().vars.iter().any(|(n, _)| n == name)
    }
}
