//! A mini-batch run's checkpoint: W₀ and its moments, the dense weights and their Adam state, the stored
//! hidden rows of a run with a history, the RNG now and at the epoch's start, and the position in the
//! epoch. A run resumed from it — at an epoch's end or after any batch — continues bit for bit.

use super::checkpoint::{self, HostCheckpoint};
use super::trainer::MiniBatchTrainer;
use crate::checkpoint::FORMAT_KEY;
use crate::graph::trainer::EpochRecord;
use crate::optim::Optimizer;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// The format this build writes and reads.
pub const FORMAT: &str = "vgae-minibatch/1";

impl MiniBatchTrainer {
    /// Writes the whole run state to `path` (atomically; a NaN anywhere keeps the previous file).
    pub fn save(&self, path: &Path) -> Result<()> {
        let dense: Vec<(String, Vec<f32>, Vec<usize>)> = self
            .opt
            .params()
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor()))
            .chain(
                self.opt
                    .state()
                    .iter()
                    .map(|(n, t)| (format!("optim.{n}"), t)),
            )
            .map(|(n, t)| Ok((n, t.flatten_all()?.to_vec1::<f32>()?, t.dims().to_vec())))
            .collect::<Result<_>>()?;
        let shape = vec![self.table.nodes, self.table.width];
        let mut tensors: Vec<(&str, &[f32], Vec<usize>)> = vec![
            ("encoder.conv1.weight", &self.table.w, shape.clone()),
            (
                "optim.encoder.conv1.weight.exp_avg",
                &self.table.m,
                shape.clone(),
            ),
            (
                "optim.encoder.conv1.weight.exp_avg_sq",
                &self.table.v,
                shape,
            ),
        ];
        if let Some(h) = &self.history {
            tensors.push(("history.hidden", &h.h, vec![self.table.nodes, h.width]));
        }
        tensors.extend(
            dense
                .iter()
                .map(|(n, v, s)| (n.as_str(), v.as_slice(), s.clone())),
        );
        let meta = HashMap::from([
            (FORMAT_KEY.to_string(), FORMAT.to_string()),
            ("kind".to_string(), "minibatch-gae".to_string()),
            ("config".to_string(), json(&self.cfg)?),
            ("split".to_string(), self.split.hash()),
            ("epoch".to_string(), self.epoch.to_string()),
            ("cursor".to_string(), self.cursor.to_string()),
            ("steps".to_string(), self.steps.to_string()),
            ("dense_steps".to_string(), self.opt.steps().to_string()),
            ("partial".to_string(), json(&self.partial)?),
            ("records".to_string(), json(&stored(&self.records))?),
            ("rng".to_string(), self.rng.state()),
            ("epoch_rng".to_string(), self.epoch_start.state()),
        ]);
        checkpoint::save(path, &tensors, &meta)
    }

    /// Restores the state saved by [`Self::save`] into a trainer built with the same graph, split and
    /// config; anything else is an error naming the file and what differs.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let HostCheckpoint {
            mut tensors,
            metadata,
        } = checkpoint::load(path)?;
        crate::checkpoint::check_format(path, &metadata, FORMAT, "minibatch-gae")?;
        let bad = |m: String| Error::msg(format!("{}: {m}", path.display()));
        let get = |k: &str| {
            metadata
                .get(k)
                .ok_or_else(|| bad(format!("metadata '{k}' is missing")))
        };
        let cfg: super::MiniBatchConfig = parse(get("config")?, &bad)?;
        if cfg != self.cfg {
            return Err(bad(format!(
                "written by a run with settings {cfg:?}, this run has {:?}",
                self.cfg
            )));
        }
        if *get("split")? != self.split.hash() {
            return Err(bad("written for another edge split".to_string()));
        }
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            match tensors.remove(name) {
                Some((v, s)) if s == shape => Ok(v),
                Some((_, s)) => Err(bad(format!(
                    "tensor '{name}' has shape {s:?}, expected {shape:?}"
                ))),
                None => Err(bad(format!("tensor '{name}' is missing"))),
            }
        };
        let shape = [self.table.nodes, self.table.width];
        self.table.w = take("encoder.conv1.weight", &shape)?;
        self.table.m = take("optim.encoder.conv1.weight.exp_avg", &shape)?;
        self.table.v = take("optim.encoder.conv1.weight.exp_avg_sq", &shape)?;
        if let Some(h) = &mut self.history {
            h.h = take("history.hidden", &[self.table.nodes, h.width])?;
        }
        let mut state = HashMap::new();
        for (name, var) in self.opt.params().clone() {
            let dims = var.dims().to_vec();
            var.set(&Tensor::from_vec(
                take(&name, &dims)?,
                dims.clone(),
                &Device::Cpu,
            )?)?;
            for slot in ["exp_avg", "exp_avg_sq"] {
                let key = format!("{name}.{slot}");
                let v = take(&format!("optim.{key}"), &dims)?;
                state.insert(key, Tensor::from_vec(v, dims.clone(), &Device::Cpu)?);
            }
        }
        let num = |k: &str| -> Result<u64> { parse(get(k)?, &bad) };
        self.opt.load_state(&state, num("dense_steps")?)?;
        self.epoch = num("epoch")? as usize;
        self.cursor = num("cursor")? as usize;
        self.steps = num("steps")?;
        self.partial = parse(get("partial")?, &bad)?;
        let records: Vec<StoredRecord> = parse(get("records")?, &bad)?;
        self.records = records.into_iter().map(EpochRecord::from).collect();
        self.rng = RunRng::from_state(get("rng")?)?;
        self.epoch_start = RunRng::from_state(get("epoch_rng")?)?;
        if self.cursor >= self.batches() || self.epoch > self.cfg.epochs {
            return Err(bad(format!(
                "position epoch {} batch {} is outside this run ({} epochs of {} batches)",
                self.epoch,
                self.cursor,
                self.cfg.epochs,
                self.batches()
            )));
        }
        if self.cursor > 0 {
            self.draw_order();
        }
        Ok(())
    }
}

fn parse<T: serde::de::DeserializeOwned>(s: &str, bad: &dyn Fn(String) -> Error) -> Result<T> {
    serde_json::from_str(s).map_err(|e| bad(format!("unreadable metadata '{s}': {e}")))
}

/// An [`EpochRecord`] as the checkpoint stores it: JSON has no NaN, the validation score of an epoch
/// that was not scored.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredRecord {
    epoch: usize,
    loss: f64,
    val_auc: Option<f64>,
    val_ap: Option<f64>,
    seconds: f64,
}

fn stored(records: &[EpochRecord]) -> Vec<StoredRecord> {
    let num = |v: f64| v.is_finite().then_some(v);
    records
        .iter()
        .map(|r| StoredRecord {
            epoch: r.epoch,
            loss: r.loss,
            val_auc: num(r.val_auc),
            val_ap: num(r.val_ap),
            seconds: r.seconds,
        })
        .collect()
}

impl From<StoredRecord> for EpochRecord {
    fn from(r: StoredRecord) -> Self {
        EpochRecord {
            epoch: r.epoch,
            loss: r.loss,
            val_auc: r.val_auc.unwrap_or(f64::NAN),
            val_ap: r.val_ap.unwrap_or(f64::NAN),
            seconds: r.seconds,
        }
    }
}

fn json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::msg(e.to_string()))
}
