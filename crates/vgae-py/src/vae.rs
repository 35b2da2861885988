//! `vgae.VAE`: Kingma & Welling's VAE on MNIST, Fashion-MNIST or Frey Face, as `vgae vae train` runs it
//! (the same presets, trainer and checkpoints), with `fit`, `sample`, `elbo` and `encode`.

use crate::graph::json_to_py;
use crate::{arrays, device, err};
use candle_core::Tensor;
use indicatif::ProgressBar;
use numpy::PyArray2;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use vgae_core::experiments::vae_presets::{self, VaeOverrides};
use vgae_core::rng::RunRng;
use vgae_core::vae::train::{Checkpoint, EpochMetrics, Progress, Trainer, VaeData};
use vgae_core::vae::{eval, run};

/// A VAE with its data (loaded once, at construction).
#[pyclass(module = "vgae._native", name = "VAE")]
pub struct PyVae {
    // A lock only to make the class `Sync` (PyO3's requirement): the GIL is released while training.
    trainer: Mutex<Trainer>,
    data: VaeData,
}

/// Evaluation batch of `elbo` (the run's own is the same).
const EVAL_BATCH: usize = 1000;

#[pymethods]
impl PyVae {
    /// The arguments are `vgae vae train`'s flags; `None` takes the dataset's default (Frey: Gaussian
    /// decoder, Adam 1e-3; otherwise Bernoulli, Adagrad 0.01). `iwae_k` = 0 skips the IWAE bound after
    /// training. Data come from `data_dir`, `$VGAE_DATA_DIR` or the hub cache.
    #[new]
    #[pyo3(signature = (dataset="mnist", z=20, *, arch="lecture", hidden=None, likelihood=None,
        optimizer=None, lr=None, epochs=20, batch_size=100, seed=0, binarize=false, iwae_k=0, iwae_n=1000,
        train_limit=0, data_dir=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        dataset: &str,
        z: usize,
        arch: &str,
        hidden: Option<Vec<usize>>,
        likelihood: Option<&str>,
        optimizer: Option<&str>,
        lr: Option<f64>,
        epochs: usize,
        batch_size: usize,
        seed: u64,
        binarize: bool,
        iwae_k: usize,
        iwae_n: usize,
        train_limit: usize,
        data_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let o = VaeOverrides {
            arch: arch.parse().map_err(err)?,
            hidden,
            likelihood: likelihood
                .map(vae_presets::parse_likelihood)
                .transpose()
                .map_err(err)?,
            optimizer: optimizer.map(str::parse).transpose().map_err(err)?,
            lr,
            epochs,
            batch_size,
            seed,
            binarize,
            iwae_k,
            iwae_n,
            train_limit,
            ..VaeOverrides::default()
        };
        let (mut v, t) = vae_presets::preset(dataset, z, &o).map_err(err)?;
        let src = vgae_data::source::DataSource::new(data_dir);
        py.detach(|| {
            let (data, _) = vae_presets::load(&src, &mut v, &t, &device())?;
            let trainer = Trainer::new(&v, &t, &device())?;
            Ok::<_, vgae_core::Error>(PyVae {
                trainer: Mutex::new(trainer),
                data,
            })
        })
        .map_err(err)
    }

    /// Trains up to `epochs` (default: the configured number; a second call continues), evaluating the
    /// test −ELBO after every epoch; writes a run directory like `vgae vae train` when `run_dir` is given.
    /// Returns the run summary (`result.json`) as a dict. The GIL is released while training.
    #[pyo3(signature = (epochs=None, progress=false, run_dir=None))]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        epochs: Option<usize>,
        progress: bool,
        run_dir: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = self.trainer.get_mut().map_err(err)?;
        let target = epochs.unwrap_or(t.cfg.epochs);
        if target < t.epoch {
            return Err(err(format!(
                "epochs={target} but the model has trained {} epochs already",
                t.epoch
            )));
        }
        t.cfg.epochs = target;
        let data = &self.data;
        let summary = py
            .detach(|| {
                let mut bar = Bar(progress.then(|| crate::progress::bar(0, String::new(), true)));
                let s = run::continue_run(t, data, run_dir.as_deref(), &mut bar);
                if let Some(b) = bar.0 {
                    b.finish_and_clear();
                }
                s
            })
            .map_err(err)?;
        json_to_py(py, &serde_json::to_value(summary).map_err(err)?)
    }

    /// `n` images drawn from the prior and decoded (the decoder's mean), float32 `[n, pixels]`, with noise
    /// from `seed`.
    #[pyo3(signature = (n=64, seed=0))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (rows, d) = py.detach(|| {
            let t = self.lock()?;
            let rows = run::sample_images(&t.model, n, &mut RunRng::new(seed)).map_err(err)?;
            Ok::<_, PyErr>((rows, t.vae_cfg.input_dim))
        })?;
        arrays::matrix(py, rows.concat(), n, d)
    }

    /// The evidence lower bound per image (nats; one reparameterised sample each, noise from `seed`,
    /// default the run's evaluation seed) on `x` (float32 `[n, pixels]` in [0, 1]) or on the test set.
    /// Returns (ELBO, reconstruction log-likelihood, KL), so `elbo = recon - kl`.
    #[pyo3(signature = (x=None, seed=None))]
    fn elbo(
        &self,
        py: Python<'_>,
        x: Option<&Bound<'_, PyAny>>,
        seed: Option<u64>,
    ) -> PyResult<(f64, f64, f64)> {
        let x = match x {
            Some(x) => self.images(x)?,
            None => self.data.test.clone(),
        };
        let (ne, nll, kl) = py.detach(|| {
            let t = self.lock()?;
            let s = seed.unwrap_or(t.cfg.eval_seed);
            eval::neg_elbo(&t.model, &x, EVAL_BATCH, s).map_err(err)
        })?;
        Ok((-ne, -nll, kl))
    }

    /// The encoder's μ `[n, z]` for images `x` (float32 `[n, pixels]` in [0, 1]).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = self.images(x)?;
        let mu = py.detach(|| self.lock()?.model.encode(&x).map(|(mu, _)| mu).map_err(err))?;
        let (n, z) = mu.dims2().map_err(err)?;
        arrays::matrix(
            py,
            mu.flatten_all().and_then(|t| t.to_vec1()).map_err(err)?,
            n,
            z,
        )
    }

    /// Writes a checkpoint (parameters, optimiser state, RNG, records) that `vgae resume`, `vgae eval`,
    /// `vgae sample` and `VAE.load` read.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.lock()?.save(&path).map_err(err))
    }

    /// Restores a VAE saved by `save` or `vgae vae train` (a checkpoint or a run directory), with its data
    /// from `data_dir` or `$VGAE_DATA_DIR`; refused when the data found differ from those trained on.
    #[staticmethod]
    #[pyo3(signature = (path, data_dir=None))]
    fn load(py: Python<'_>, path: PathBuf, data_dir: Option<PathBuf>) -> PyResult<Self> {
        let src = vgae_data::source::DataSource::new(data_dir);
        py.detach(|| {
            let path = run::find_checkpoint(&crate::local_checkpoint(&path)?)?;
            let trainer = Trainer::load(&path, &device())?;
            let mut v = trainer.vae_cfg.clone();
            let (data, _) = vae_presets::load(&src, &mut v, &trainer.cfg, &device())?;
            Checkpoint::read(&path, &device())?.check_data(&data)?;
            Ok::<_, vgae_core::Error>(PyVae {
                trainer: Mutex::new(trainer),
                data,
            })
        })
        .map_err(err)
    }

    /// Epochs trained so far.
    #[getter]
    fn epoch(&self) -> PyResult<usize> {
        Ok(self.lock()?.epoch)
    }

    /// Every epoch's metrics (`metrics.jsonl`) as a list of dicts.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(
            py,
            &serde_json::to_value(&self.lock()?.records).map_err(err)?,
        )
    }

    /// The model and training configuration as a dict `{"model": ..., "train": ...}`.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.lock()?;
        json_to_py(py, &serde_json::json!({"model": t.vae_cfg, "train": t.cfg}))
    }

    fn __repr__(&self) -> PyResult<String> {
        let t = self.lock()?;
        let (v, c) = (&t.vae_cfg, &t.cfg);
        Ok(format!(
            "VAE(dataset={:?}, z={}, hidden={:?}, epoch={})",
            c.dataset, v.z, v.hidden, t.epoch
        ))
    }
}

impl PyVae {
    fn lock(&self) -> PyResult<MutexGuard<'_, Trainer>> {
        self.trainer.lock().map_err(err)
    }

    /// Images as a `[n, pixels]` tensor, checked against the model's input size.
    fn images(&self, x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (values, n, d) = arrays::dense_f32("x", x)?;
        let want = self.lock()?.vae_cfg.input_dim;
        if d != want {
            return Err(err(format!(
                "x has {d} columns, expected {want} pixels per image"
            )));
        }
        if let Some(k) = values.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(err(format!(
                "x[{}, {}] is {}: expected pixel intensities in [0, 1]",
                k / d,
                k % d,
                values[k]
            )));
        }
        Tensor::from_vec(values, (n, d), &device()).map_err(err)
    }
}

/// Training progress on an indicatif bar: steps of the current epoch, the running −ELBO.
struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn epoch_start(&mut self, epoch: usize, steps: usize) {
        if let Some(b) = &self.0 {
            b.set_length(steps as u64);
            b.set_position(0);
            b.set_prefix(format!("epoch {epoch}"));
        }
    }
    fn step(&mut self, step: usize, running: f64) {
        if let Some(b) = &self.0 {
            b.set_position(step as u64);
            b.set_message(format!("-ELBO {running:.2}"));
        }
    }
    fn epoch_end(&mut self, m: &EpochMetrics) {
        if let Some(b) = &self.0 {
            b.println(format!(
                "epoch {}: train -ELBO {:.2}, test -ELBO {:.2}",
                m.epoch, m.train_neg_elbo, m.test_neg_elbo
            ));
        }
    }
}
