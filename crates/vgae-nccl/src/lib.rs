//! NCCL collectives for data-parallel vgae-rs runs on GPUs: one process per GPU, started the way PyTorch
//! users start theirs (`torchrun`, or a Slurm script exporting `RANK`, `WORLD_SIZE`, `LOCAL_RANK`), the
//! NCCL id shared through `VGAE_NCCL_ID_FILE` when there are several ranks.
//!
//! The backend needs the crate's `nccl` feature, a CUDA build (`scripts/install-cuda-toolkit.sh`) and
//! `libnccl.so.2` at run time. Without the feature a launch with `WORLD_SIZE` > 1 is refused with an
//! error saying how to build; `WORLD_SIZE=1` is one process.
//!
//! ```
//! // Outside a launcher: no NCCL world to join.
//! let launch = vgae_nccl::Launch::from_lookup(|_| None).unwrap();
//! assert!(launch.is_none());
//! ```

pub mod id_file;
pub mod launch;
#[cfg(feature = "nccl")]
mod world;

pub use launch::Launch;
#[cfg(feature = "nccl")]
pub use world::NcclWorld;

use candle_core::Device;
use vgae_core::collective::Collective;
use vgae_core::Result;

/// The NCCL world of `launch` on `device` (this rank's GPU), the id file taken from `VGAE_NCCL_ID_FILE`.
#[cfg(feature = "nccl")]
pub fn world(device: &Device, launch: &Launch) -> Result<Box<dyn Collective + Send + Sync>> {
    let path = std::env::var_os(id_file::VAR).map(std::path::PathBuf::from);
    Ok(Box::new(NcclWorld::init(device, launch, path.as_deref())?))
}

/// Without the `nccl` feature: one process, or an error saying how to build for several.
#[cfg(not(feature = "nccl"))]
pub fn world(_device: &Device, launch: &Launch) -> Result<Box<dyn Collective + Send + Sync>> {
    ensure_built(launch)?;
    Ok(Box::new(vgae_core::collective::SingleProcess))
}

/// Whether this build can join `launch`: an error saying how to build when it has several ranks and the
/// `nccl` feature is off (checked before anything else, so it is the error a user sees).
pub fn ensure_built(launch: &Launch) -> Result<()> {
    match (cfg!(feature = "nccl"), launch.world_size) {
        (false, n) if n > 1 => Err(vgae_core::Error::msg(format!(
            "WORLD_SIZE={n}, but this build has no NCCL: rebuild with `--features nccl` (a CUDA build; \
             see scripts/install-cuda-toolkit.sh), or launch CPU ranks with mpirun"
        ))),
        _ => Ok(()),
    }
}
