//! `vgae.GAE`, `vgae.VGAE`, `vgae.ARGA`, `vgae.ARGVA`, `vgae.LinearGAE`, `vgae.LinearVGAE`: one class over
//! the library's [`GraphTrainer`], so a fit from Python is the `vgae train` run with the same settings.

use crate::graph::{json_to_py, PyGraph};
use crate::split::{self, PySplit};
use crate::{arrays, device, err, progress};
use numpy::PyArray2;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;
use vgae_core::graph::{resume, train, Decoder, GraphTrainConfig, GraphTrainer};

/// A graph autoencoder of the vgae-rs family; the subclasses in `vgae` fix `model`.
#[pyclass(module = "vgae._native", name = "LinkModel", subclass)]
pub struct PyLinkModel {
    cfg: GraphTrainConfig,
    // A lock only to make the class `Sync` (PyO3's requirement): the GIL is released while training.
    trainer: Mutex<Option<GraphTrainer>>,
}

/// Parses one of the config's enums from its name as `config.json` spells it.
fn parse<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.into()))
        .map_err(|e| err(format!("unknown {what} '{name}': {e}")))
}

#[pymethods]
impl PyLinkModel {
    /// `model`: gae, vgae, arga, argva, linear-gae or linear-vgae; the other arguments are `vgae train`'s
    /// flags (`hidden_layers` replaces `hidden` with a list, e.g. `[32, 32]`; `val`, `test`,
    /// `split_method` and `task` say how `fit` draws the split when none is given).
    #[new]
    #[pyo3(signature = (model="vgae", *, hidden=32, latent=16, hidden_layers=None, lr=0.01, epochs=200,
        seed=0, loss="dense", features=true, dropout=0.0, bias=false, decoder="inner-product",
        gravity_lambda=1.0, gravity_normalize=false, weighted=false, soft_targets=false, patience=0,
        val=0.05, test=0.1, split_method="kipf", task=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        model: &str,
        hidden: usize,
        latent: usize,
        hidden_layers: Option<Vec<usize>>,
        lr: f64,
        epochs: usize,
        seed: u64,
        loss: &str,
        features: bool,
        dropout: f32,
        bias: bool,
        decoder: &str,
        gravity_lambda: f64,
        gravity_normalize: bool,
        weighted: bool,
        soft_targets: bool,
        patience: usize,
        val: f64,
        test: f64,
        split_method: &str,
        task: Option<&str>,
    ) -> PyResult<Self> {
        let (kind, adversarial, linear) = match model {
            "gae" => ("gae", false, false),
            "vgae" => ("vgae", false, false),
            "arga" => ("gae", true, false),
            "argva" => ("vgae", true, false),
            "linear-gae" => ("gae", false, true),
            "linear-vgae" => ("vgae", false, true),
            _ => {
                return Err(err(format!(
                    "unknown model '{model}': expected gae, vgae, arga, argva, linear-gae or linear-vgae"
                )))
            }
        };
        if linear && hidden_layers.is_some() {
            return Err(err(format!(
                "{model} has no hidden layer: drop hidden_layers"
            )));
        }
        let cfg = GraphTrainConfig {
            model: parse("model", kind)?,
            features,
            loss: parse("loss", loss)?,
            epochs,
            lr,
            hidden,
            latent,
            dropout,
            seed,
            split: split::config(val, test, split_method, task)?,
            patience,
            adversarial,
            hidden_layers: if linear {
                Some(Vec::new())
            } else {
                hidden_layers
            },
            weighted,
            soft_targets,
            bias,
            decoder: parse("decoder", decoder)?,
            gravity_lambda,
            gravity_normalize,
            ..GraphTrainConfig::default()
        };
        Ok(PyLinkModel {
            cfg,
            trainer: Mutex::new(None),
        })
    }

    /// Trains on `graph` up to `epochs` (default: the model's), drawing the split from the seed unless one
    /// is given; a second call on the same graph continues to the new `epochs`. Writes a run directory
    /// like `vgae train` when `run_dir` is given. Returns the final metrics (`result.json`) as a dict.
    /// The GIL is released while training.
    #[pyo3(signature = (graph, split=None, epochs=None, progress=false, run_dir=None))]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        graph: &PyGraph,
        split: Option<&PySplit>,
        epochs: Option<usize>,
        progress: bool,
        run_dir: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let g = &graph.graph;
        let slot = self.trainer.get_mut().map_err(err)?;
        if let Some(t) = &*slot {
            if t.split.fingerprint != g.fingerprint() {
                return Err(err(format!(
                    "this model was fitted on graph '{}' (fingerprint {}); make a new model for '{}'",
                    t.split.dataset,
                    t.split.fingerprint,
                    g.name
                )));
            }
            if split.is_some_and(|s| s.split.hash() != t.split.hash()) {
                return Err(err(
                    "this model was fitted on another split; make a new model for this one",
                ));
            }
        }
        let target = epochs.unwrap_or(self.cfg.epochs);
        let trainer = match slot.take() {
            Some(t) => t,
            None => {
                let mut cfg = self.cfg.clone();
                cfg.dataset = g.name.clone();
                cfg.epochs = target;
                if cfg.features && g.features.is_none() {
                    let msg = format!(
                        "{} has no node features: training on X = I (features=False)",
                        g.name
                    );
                    pyo3::PyErr::warn(
                        py,
                        &py.get_type::<pyo3::exceptions::PyUserWarning>(),
                        &std::ffi::CString::new(msg).map_err(err)?,
                        1,
                    )?;
                    cfg.features = false;
                }
                let s = match split {
                    Some(s) => s.split.clone(),
                    None => py.detach(|| train::make_split(g, &cfg)).map_err(err)?,
                };
                py.detach(|| GraphTrainer::new(cfg, g, s, &device()))
                    .map_err(err)?
            }
        };
        let trainer = slot.insert(trainer);
        if target < trainer.epoch {
            return Err(err(format!(
                "epochs={target} but the model has trained {} epochs already",
                trainer.epoch
            )));
        }
        trainer.cfg.epochs = target;
        let label = format!("{} {}", g.name, trainer.cfg.label());
        let done = trainer.epoch as u64;
        let res = py.detach(|| {
            let pb = progress::bar(target as u64, label, progress);
            pb.set_position(done);
            let r = trainer.run(run_dir.as_deref(), |r| {
                pb.set_position(r.epoch as u64);
                pb.set_message(format!("val AUC {:.4}", r.val_auc));
            });
            pb.finish_and_clear();
            r
        });
        self.cfg = trainer.cfg.clone();
        let v = serde_json::to_value(res.map_err(err)?).map_err(err)?;
        json_to_py(py, &v)
    }

    /// The embedding `[num_nodes, latent]` (μ of the training graph, no noise), as float32.
    fn encode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let z = self.with_fitted(py, |t| t.embed())?;
        let (n, d) = z.dims2().map_err(err)?;
        let values = z
            .flatten_all()
            .and_then(|z| z.to_vec1::<f32>())
            .map_err(err)?;
        arrays::matrix(py, values, n, d)
    }

    /// ROC-AUC and average precision of the positive pairs `pos` against the negative pairs `neg` (each
    /// `[2, k]` or `[k, 2]`), scored by the model's decoder on `encode()`.
    fn test(
        &self,
        py: Python<'_>,
        pos: &Bound<'_, PyAny>,
        neg: &Bound<'_, PyAny>,
    ) -> PyResult<(f64, f64)> {
        let (pos, neg) = (self.nodes(py, "pos", pos)?, self.nodes(py, "neg", neg)?);
        let s = self.with_fitted(py, |t| t.embed().and_then(|z| t.scores(&z, &pos, &neg)))?;
        Ok((s.auc, s.ap))
    }

    /// Link probabilities σ(decoder(z_u, z_v)) of `pairs` (`[2, k]` or `[k, 2]`), as float32; with
    /// `logits=True` the decoder's logits. An asymmetric decoder scores u → v and v → u apart.
    #[pyo3(signature = (pairs, logits=false))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        pairs: &Bound<'py, PyAny>,
        logits: bool,
    ) -> PyResult<Bound<'py, numpy::PyArray1<f32>>> {
        let pairs = self.nodes(py, "pairs", pairs)?;
        let mut l = self.with_fitted(py, |t| {
            t.embed().and_then(|z| t.cfg.decoder().score(&z, &pairs))
        })?;
        if !logits {
            l.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
        }
        Ok(numpy::PyArray1::from_vec(py, l))
    }

    /// Writes a checkpoint (parameters, optimiser state, RNG, config, split hash) that `vgae eval`,
    /// `vgae resume` and `vgae.load` read.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.with_fitted(py, |t| {
            t.inner
                .save_checkpoint_with_ids(&path, t.node_ids.as_deref())
        })
    }

    /// Reads a checkpoint written by `save` or `vgae train` (or `hf://OWNER/NAME[@REV]`), on `graph` (default: the dataset the checkpoint
    /// names, from `data_dir` or `$VGAE_DATA_DIR`). The split is the run directory's, or the seed's.
    #[staticmethod]
    #[pyo3(signature = (path, graph=None, data_dir=None))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        graph: Option<&PyGraph>,
        data_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let t = py
            .detach(|| {
                let finals = [vgae_core::graph::run::FINAL];
                let path = crate::local_checkpoint(&path)?;
                let path = vgae_core::rundir::find_checkpoint(&path, &finals)?;
                match graph {
                    Some(g) => resume::restore(&path, &g.graph, None, &device()),
                    None => {
                        let source = vgae_data::source::DataSource::new(data_dir);
                        resume::restore_from(&path, &source, None, &device())
                    }
                }
            })
            .map_err(err)?;
        Ok(PyLinkModel {
            cfg: t.cfg.clone(),
            trainer: Mutex::new(Some(t)),
        })
    }

    /// The run's configuration (`config.json`) as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &serde_json::to_value(&self.cfg).map_err(err)?)
    }

    /// The model's row name (GAE, VGAE*, LinearGAE, ARGVA, ...).
    #[getter]
    fn label(&self) -> String {
        self.cfg.label()
    }

    /// Epochs trained so far.
    #[getter]
    fn epoch(&self) -> usize {
        self.trainer
            .lock()
            .ok()
            .and_then(|t| t.as_ref().map(|t| t.epoch))
            .unwrap_or(0)
    }

    /// Every epoch's record (`metrics.jsonl`: epoch, loss, val_auc, val_ap, seconds) as a list of dicts.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let guard = self.trainer.lock().map_err(err)?;
        let r = guard.as_ref().map_or(&[][..], |t| &t.records[..]);
        json_to_py(py, &serde_json::to_value(r).map_err(err)?)
    }

    /// The split the model trains and is evaluated on.
    #[getter]
    fn split(&self, py: Python<'_>) -> PyResult<PySplit> {
        let split = self.with_fitted(py, |t| Ok(t.split.clone()))?;
        Ok(PySplit { split })
    }

    /// The final metrics (`result.json`) as a dict.
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = self.with_fitted(py, |t| t.result())?;
        json_to_py(py, &serde_json::to_value(r).map_err(err)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "{}(epoch={}, config={})",
            self.cfg.label(),
            self.epoch(),
            serde_json::to_string(&self.cfg).unwrap_or_default()
        )
    }
}

impl PyLinkModel {
    /// Runs `f` on the fitted trainer with the GIL released; an error when the model is not fitted yet.
    fn with_fitted<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&GraphTrainer) -> vgae_core::Result<R> + Send,
    ) -> PyResult<R> {
        let label = self.cfg.label();
        py.detach(|| {
            let guard = self.trainer.lock().map_err(err)?;
            let t = guard.as_ref().ok_or_else(|| {
                err(format!(
                    "{label} is not fitted yet: call fit(graph) or vgae.load(path)"
                ))
            })?;
            f(t).map_err(err)
        })
    }

    /// Pairs of node ids of the fitted graph.
    fn nodes(&self, py: Python<'_>, what: &str, a: &Bound<'_, PyAny>) -> PyResult<Vec<[u32; 2]>> {
        let n = self.with_fitted(py, |t| Ok(t.input().num_nodes))?;
        let p = arrays::pairs(what, a)?;
        if let Some((k, [u, v])) = p
            .iter()
            .enumerate()
            .find(|(_, p)| p.iter().any(|&x| x as usize >= n))
        {
            return Err(err(format!(
                "{what}: pair {k} is ({u}, {v}) but the graph has {n} nodes"
            )));
        }
        Ok(p)
    }
}
