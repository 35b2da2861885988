//! What `vgae hub push` uploads for a run: the checkpoint, its `config.json`, the metrics, the split (when
//! the run directory has one) and a generated model card (`README.md`) naming the model, the dataset, the
//! split seed, the test metrics, the command that reproduces the run and how to load it from Rust, Python
//! and the CLI. The card's front matter records the checkpoint's sha256, which `hf://` downloads check.

use crate::graph::{resume, GraphTrainConfig, ModelKind};
use crate::vae::config::Activation;
use crate::vae::train::Checkpoint;
use crate::vae::{TrainConfig, VaeConfig};
use crate::{Error, Result};
use candle_core::Device;
use sha2::{Digest, Sha256};
use std::path::Path;
use vgae_data::source::DataSource;

/// The split file of a graph run directory (and of a model repository).
const SPLIT_FILE: &str = "split.safetensors";

/// The files of one model repository, in upload order: `(path in repo, bytes)`.
pub struct ModelFiles {
    /// Every file to commit.
    pub files: Vec<(String, Vec<u8>)>,
    /// One line saying what was packed (model, dataset, epoch).
    pub summary: String,
}

/// Collects the files of the checkpoint at `path` (a file or run directory) for the model repository
/// `repo`. A graph checkpoint is restored on its dataset (found through `source`) and evaluated, so the card's
/// metrics are the checkpoint's own; a VAE card reports its last epoch's test −ELBO.
pub fn collect(path: &Path, source: &DataSource, repo: &str) -> Result<ModelFiles> {
    let finals = [crate::run_loop::FINAL, crate::vae::run::LEGACY_FINAL];
    let ck = crate::rundir::find_checkpoint(path, &finals)?;
    let meta = crate::checkpoint::load_metadata(&ck)?;
    let bytes = std::fs::read(&ck).map_err(|e| Error::msg(format!("{}: {e}", ck.display())))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let mut files = vec![("model.safetensors".to_string(), bytes)];
    let json = |v: &serde_json::Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    let (card, summary) = match crate::run_state::kind_of(&meta) {
        Some("vae") => {
            let c = Checkpoint::read(&ck, &Device::Cpu)?;
            let last = c.records.last().ok_or_else(|| {
                Error::msg(format!(
                    "{}: a VAE checkpoint with no trained epoch",
                    ck.display()
                ))
            })?;
            let config = serde_json::json!({"model": c.vae_cfg, "train": c.train_cfg});
            files.push(("config.json".into(), json(&config)));
            files.push((
                "result.json".into(),
                json(&serde_json::to_value(last).unwrap_or_default()),
            ));
            let card = vae_card(
                repo,
                &c.vae_cfg,
                &c.train_cfg,
                c.epoch,
                last.test_neg_elbo,
                &sha,
            );
            let summary = format!(
                "VAE z={} on {}, epoch {}",
                c.vae_cfg.z, c.train_cfg.dataset, c.epoch
            );
            (card, summary)
        }
        _ => {
            let t = resume::restore_from(&ck, source, None, &Device::Cpu)?;
            let res = t.result()?;
            files.push((
                "config.json".into(),
                json(&serde_json::to_value(&t.cfg).unwrap_or_default()),
            ));
            files.push((
                "result.json".into(),
                json(&serde_json::to_value(&res).unwrap_or_default()),
            ));
            let beside = crate::rundir::run_dir_of(&ck).join(SPLIT_FILE);
            let split_sha = match std::fs::read(&beside) {
                Ok(b) => {
                    let s = hex::encode(Sha256::digest(&b));
                    files.push((SPLIT_FILE.into(), b));
                    Some(s)
                }
                Err(_) => None,
            };
            let m = Metrics {
                test_auc: res.test_auc,
                test_ap: res.test_ap,
            };
            let card = graph_card(
                repo,
                &t.cfg,
                &t.split,
                t.epoch,
                &m,
                &sha,
                split_sha.as_deref(),
            );
            let summary = format!("{} on {}, epoch {}", t.cfg.label(), t.cfg.dataset, t.epoch);
            (card, summary)
        }
    };
    files.push(("README.md".into(), card.into_bytes()));
    Ok(ModelFiles { files, summary })
}

/// The test metrics a graph card reports.
pub struct Metrics {
    /// Test ROC-AUC of the checkpoint.
    pub test_auc: f64,
    /// Test average precision.
    pub test_ap: f64,
}

/// The `vgae train` command that reproduces a graph run.
pub fn train_command(c: &GraphTrainConfig) -> String {
    let linear = c.hidden_layers.as_ref().is_some_and(|h| h.is_empty());
    let model = match (c.model, c.adversarial, linear) {
        (ModelKind::Gae, true, _) => "arga",
        (ModelKind::Vgae, true, _) => "argva",
        (ModelKind::Gae, false, true) => "linear-gae",
        (ModelKind::Vgae, false, true) => "linear-vgae",
        (ModelKind::Gae, false, false) => "gae",
        (ModelKind::Vgae, false, false) => "vgae",
    };
    let dataset = c
        .dataset_path
        .as_ref()
        .map_or(c.dataset.clone(), |p| p.display().to_string());
    let mut s = format!(
        "vgae train --dataset {dataset} --model {model} --epochs {} --seed {} --lr {} --latent {}",
        c.epochs, c.seed, c.lr, c.latent
    );
    match &c.hidden_layers {
        Some(h) if !h.is_empty() => {
            let w: Vec<String> = h.iter().map(|x| x.to_string()).collect();
            s += &format!(" --layers {}", w.join(","));
        }
        Some(_) => {}
        None => s += &format!(" --hidden {}", c.hidden),
    }
    let loss = serde_json::to_value(c.loss).ok();
    if let Some(l) = loss
        .as_ref()
        .and_then(|v| v.as_str())
        .filter(|l| *l != "dense")
    {
        s += &format!(" --loss {l}");
    }
    let flags = [
        (!c.features, " --features none".to_string()),
        (c.dropout != 0.0, format!(" --dropout {}", c.dropout)),
        (c.bias, " --bias".into()),
        (c.weighted, " --weighted".into()),
        (c.soft_targets, " --soft-targets".into()),
        (
            c.split.val_frac != 0.05,
            format!(" --val-frac {}", c.split.val_frac),
        ),
        (
            c.split.test_frac != 0.10,
            format!(" --test-frac {}", c.split.test_frac),
        ),
    ];
    s.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, f)| f));
    let decoder = serde_json::to_value(c.decoder).ok();
    if let Some(d) = decoder
        .as_ref()
        .and_then(|v| v.as_str())
        .filter(|d| *d != "inner-product")
    {
        s += &format!(" --decoder {d}");
        if d == "gravity" {
            s += &format!(" --gravity-lambda {}", c.gravity_lambda);
            if c.gravity_normalize {
                s += " --gravity-normalize";
            }
        }
    }
    if let Some(t) = c.split.directed.and_then(|t| serde_json::to_value(t).ok()) {
        s += &format!(" --task {}", t.as_str().unwrap_or("general"));
    }
    s
}

/// The `vgae vae train` command that reproduces a VAE run.
pub fn vae_command(v: &VaeConfig, t: &TrainConfig) -> String {
    let arch = match v.activation {
        Activation::Tanh => "paper",
        Activation::Relu => "lecture",
    };
    let hidden: Vec<String> = v.hidden.iter().map(|h| h.to_string()).collect();
    let lik = serde_json::to_value(v.likelihood).ok();
    let opt = serde_json::to_value(t.optimizer).ok();
    let mut s = format!(
        "vgae vae train --dataset {} --z {} --arch {arch} --hidden {} --likelihood {} --optimizer {} --lr {} \
         --epochs {} --batch-size {} --seed {}",
        t.dataset,
        v.z,
        hidden.join(","),
        lik.as_ref().and_then(|x| x.as_str()).unwrap_or("bernoulli"),
        opt.as_ref().and_then(|x| x.as_str()).unwrap_or("adagrad"),
        t.lr,
        t.epochs,
        t.batch_size,
        t.seed
    );
    if t.binarize {
        s += " --binarize";
    }
    if t.train_limit > 0 {
        s += &format!(" --train-limit {}", t.train_limit);
    }
    s
}

fn front(kind: &str, tags: &str, dataset: &str, sha: &str, split_sha: Option<&str>) -> String {
    let split = split_sha.map_or(String::new(), |s| format!("vgae_split_sha256: {s}\n"));
    format!(
        "---\nlibrary_name: vgae-rs\ntags: [vgae-rs, {tags}]\nvgae_kind: {kind}\nvgae_dataset: {dataset}\n\
         vgae_checkpoint_sha256: {sha}\n{split}---\n"
    )
}

fn graph_card(
    repo: &str,
    c: &GraphTrainConfig,
    split: &vgae_data::EdgeSplit,
    epoch: usize,
    m: &Metrics,
    sha: &str,
    split_sha: Option<&str>,
) -> String {
    let label = c.label();
    let head = front(
        "graph",
        "graph-autoencoder, link-prediction",
        &c.dataset,
        sha,
        split_sha,
    );
    let split_line = match split_sha {
        Some(_) => "the split file `split.safetensors` in this repository",
        None => "drawn from the seed (the same split `vgae split make --seed` writes)",
    };
    format!(
        "{head}\n# {label} on {ds}\n\n\
         | | |\n|---|---|\n| model | {label} (vgae-rs `GraphTrainConfig` in `config.json`) |\n\
         | dataset | {ds} (fingerprint `{fp}`) |\n| split | seed {seed}, hash `{hash}`: {split_line} |\n\
         | epochs | {epoch} |\n| test AUC | {auc:.4} |\n| test AP | {ap:.4} |\n\n\
         ## Reproduce\n\n```sh\n{cmd}\n```\n\n\
         ## Load\n\nCLI:\n\n```sh\nvgae eval hf://{repo}\nvgae embed hf://{repo} --out z.npy\n```\n\n\
         Python (`pip install` the wheel of `crates/vgae-py`):\n\n```python\nimport vgae\n\
         model = vgae.load(\"hf://{repo}\")\nz = model.encode()\n```\n\n\
         Rust:\n\n```rust\nuse vgae_data::hub_model::{{fetch, ModelRef}};\n\
         let ck = fetch(&ModelRef::parse(\"hf://{repo}\").unwrap()?)?;  // checked against the sha256 above\n\
         let trainer = vgae_core::graph::resume::restore_from(&ck, &Default::default(), None, \
         &candle_core::Device::Cpu)?;\nlet z = trainer.embed()?;\n```\n",
        ds = c.dataset,
        fp = split.fingerprint,
        seed = split.seed,
        hash = split.hash(),
        auc = m.test_auc,
        ap = m.test_ap,
        cmd = train_command(c),
    )
}

fn vae_card(
    repo: &str,
    v: &VaeConfig,
    t: &TrainConfig,
    epoch: usize,
    neg_elbo: f64,
    sha: &str,
) -> String {
    let head = front("vae", "vae, image-generation", &t.dataset, sha, None);
    format!(
        "{head}\n# VAE (z = {z}) on {ds}\n\n\
         | | |\n|---|---|\n| model | MLP VAE, hidden {hidden:?}, z = {z}, {lik:?} decoder |\n\
         | dataset | {ds} |\n| seed | {seed} |\n| epochs | {epoch} |\n\
         | test −ELBO | {neg_elbo:.2} nats per image |\n\n\
         ## Reproduce\n\n```sh\n{cmd}\n```\n\n\
         ## Load\n\nCLI:\n\n```sh\nvgae sample hf://{repo} --out samples.png\nvgae eval hf://{repo}\n```\n\n\
         Python:\n\n```python\nimport vgae\nvae = vgae.load(\"hf://{repo}\")\nx = vae.sample(64)\n```\n\n\
         Rust:\n\n```rust\nuse vgae_data::hub_model::{{fetch, ModelRef}};\n\
         let ck = fetch(&ModelRef::parse(\"hf://{repo}\").unwrap()?)?;\n\
         let model = vgae_core::vae::train::Checkpoint::read(&ck, &candle_core::Device::Cpu)?\
         .model(&candle_core::Device::Cpu)?;\n```\n",
        z = v.z,
        ds = t.dataset,
        hidden = v.hidden,
        lik = v.likelihood,
        seed = t.seed,
        cmd = vae_command(v, t),
    )
}
