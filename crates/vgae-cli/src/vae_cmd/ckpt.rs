//! `vgae resume` / `vgae eval` of a VAE checkpoint, and `vgae vae export`.

use super::{inline_elementwise, report, Bar, ExportArgs};
use crate::globals::Globals;
use anyhow::Context;
use vgae_core::vae::run;
use vgae_core::vae::train::{Checkpoint, Trainer, VaeData};

/// The dataset a checkpoint was trained on, uploaded with its own training configuration (train limit,
/// binarisation, evaluation seed) and checked against the recorded fingerprint.
fn checkpoint_data(
    ck: &Checkpoint,
    g: &Globals,
    dev: &candle_core::Device,
) -> anyhow::Result<VaeData> {
    let ds = vgae_data::images::load(&g.source(), &ck.train_cfg.dataset)
        .with_context(|| format!("loading the data of {}", ck.path.display()))?;
    let data = VaeData::new(&ds, &ck.train_cfg, dev)?;
    ck.check_data(&data)?;
    Ok(data)
}

/// `vgae resume` of a VAE checkpoint: continues the run in the checkpoint's run directory up to `epochs`
/// (default: the configured total), bit-identical to an uninterrupted run on CPU.
pub fn resume(
    ck: &std::path::Path,
    epochs: Option<usize>,
    json: bool,
    g: &Globals,
) -> anyhow::Result<()> {
    inline_elementwise();
    let dev = g.device()?;
    let ck = run::find_checkpoint(ck)?;
    let mut t = Trainer::load(&ck, &dev)?;
    let info = Checkpoint::read(&ck, &dev)?;
    let data = checkpoint_data(&info, g, &dev)?;
    drop(info);
    if let Some(e) = epochs {
        t.cfg.epochs = e;
    }
    let dir = run::run_dir_of(&ck);
    eprintln!(
        "resuming the {} VAE (z = {}) at epoch {} of {} from {}",
        t.cfg.dataset,
        t.vae_cfg.z,
        t.epoch,
        t.cfg.epochs,
        ck.display()
    );
    let mut bar = Bar {
        bar: None,
        label: String::new(),
    };
    let s = run::continue_run(&mut t, &data, Some(&dir), &mut bar)
        .with_context(|| format!("resuming into {}", dir.display()))?;
    report(&s, &dir, json);
    Ok(())
}

/// `vgae eval` of a VAE checkpoint: the test −ELBO with the fixed evaluation noise, from the checkpoint alone.
pub fn eval(ck: &std::path::Path, json: bool, g: &Globals) -> anyhow::Result<()> {
    inline_elementwise();
    let dev = g.device()?;
    let ck = Checkpoint::read(&run::find_checkpoint(ck)?, &dev)?;
    let data = checkpoint_data(&ck, g, &dev)?;
    let (ne, recon, kl) = run::eval_checkpoint(&ck, &data)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"model": "vae", "dataset": ck.train_cfg.dataset, "z": ck.vae_cfg.z,
                "epoch": ck.epoch, "test_neg_elbo": ne, "test_recon": recon, "test_kl": kl,
                "test_images": data.n_test, "eval_seed": ck.train_cfg.eval_seed})
        );
    } else {
        println!(
            "VAE (z = {}) on {} at epoch {}",
            ck.vae_cfg.z, ck.train_cfg.dataset, ck.epoch
        );
        println!(
            "  test -ELBO {ne:.4} nats per image (recon {recon:.4}, KL {kl:.4}; {} images)",
            data.n_test
        );
    }
    Ok(())
}

pub(super) fn export(a: ExportArgs, g: &Globals) -> anyhow::Result<()> {
    let dev = candle_core::Device::Cpu;
    let _ = g;
    let ck = run::find_checkpoint(&crate::hub_cmd::resolve(&a.checkpoint)?)?;
    let info = Checkpoint::read(&ck, &dev)?;
    info.save_params_only(&a.out)?;
    let b = std::fs::metadata(&a.out)?.len();
    println!(
        "wrote the parameters of {} (epoch {}) to {} ({b} bytes)",
        ck.display(),
        info.epoch,
        a.out.display()
    );
    Ok(())
}
