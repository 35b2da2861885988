//! `import vgae`: the graph autoencoders and the image VAE of vgae-rs for Python, numpy arrays in and out.
//!
//! The compiled module is `vgae._native`; the package `vgae` (in `python/vgae`) re-exports it with PyG's
//! names (`vgae.GAE`, `vgae.VGAE`, ...). Every error is a [`VgaeError`] (a `ValueError`) carrying the
//! library's message, the same text the CLI prints.

mod arrays;
mod graph;
mod link_model;
mod progress;
mod split;
mod vae;

use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    VgaeError,
    pyo3::exceptions::PyValueError,
    "An error from vgae-rs: bad input, a file that is not what it should be, or a run that failed."
);

/// Converts any library error into a [`VgaeError`] with its message.
pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    VgaeError::new_err(e.to_string())
}

/// A checkpoint argument: `hf://OWNER/NAME[@REVISION]` is downloaded into the hub cache and checked
/// against the sha256 its model card records (the local path returned); anything else is returned as is.
pub(crate) fn local_checkpoint(p: &std::path::Path) -> vgae_core::Result<std::path::PathBuf> {
    match vgae_data::hub_model::ModelRef::of_path(p) {
        Some(r) => Ok(vgae_data::hub_model::fetch(&r?)?),
        None => Ok(p.to_path_buf()),
    }
}

/// The device every model runs on: the CPU (a CUDA build is not shipped as a wheel).
pub(crate) fn device() -> candle_core::Device {
    candle_core::Device::Cpu
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // As the CLI does (crates/vgae-cli/src/main.rs): Candle's element-wise pool busy-waits, so one thread;
    // and a fixed RAYON_NUM_THREADS spares Candle a /proc/cpuinfo read per matmul. Explicit settings win.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    m.add("VgaeError", m.py().get_type::<VgaeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<graph::PyGraph>()?;
    m.add_function(wrap_pyfunction!(graph::load_dataset, m)?)?;
    m.add_class::<split::PySplit>()?;
    m.add_function(wrap_pyfunction!(split::split, m)?)?;
    m.add_class::<link_model::PyLinkModel>()?;
    m.add_class::<vae::PyVae>()?;
    m.add_function(wrap_pyfunction!(checkpoint_kind, m)?)?;
    Ok(())
}

/// The kind a checkpoint records (`graph`, `vae`, ...), reading only its header; `None` for files written
/// before kinds were recorded. Accepts a run directory.
#[pyfunction]
fn checkpoint_kind(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Option<String>> {
    let finals = [
        vgae_core::run_loop::FINAL,
        vgae_core::vae::run::LEGACY_FINAL,
    ];
    let meta = py
        .detach(|| {
            let path = vgae_core::rundir::find_checkpoint(&local_checkpoint(&path)?, &finals)?;
            vgae_core::checkpoint::load_metadata(&path)
        })
        .map_err(err)?;
    Ok(vgae_core::run_state::kind_of(&meta).map(str::to_string))
}
