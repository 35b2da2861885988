//! The ranks of a data-parallel launch and the device this process computes on: MPI under `mpirun` (CPU
//! ranks), NCCL for one process per GPU (`WORLD_SIZE` in the environment, as torchrun sets it), otherwise
//! one process.

use crate::globals::Globals;
use candle_core::Device;
use vgae_core::collective::Collective;
use vgae_core::device::DeviceChoice;
use vgae_core::graph::{GraphRunResult, GraphTrainer};

/// This process's collective and device. Under an NCCL launch `--device auto` or `cuda` means the GPU of
/// the process's `LOCAL_RANK`.
pub fn ranks_and_device(
    g: &Globals,
) -> anyhow::Result<(Box<dyn Collective + Send + Sync>, Device)> {
    let launch = match vgae_mpi::launcher_world_size() {
        Some(_) => None,
        None => vgae_nccl::Launch::from_env()?,
    };
    // WORLD_SIZE=1 (left in many containers' environments) is one process, on any device.
    let Some(launch) = launch.filter(|l| l.world_size > 1) else {
        let comm = vgae_mpi::shared_collective_from_env()?;
        return Ok((comm, g.device()?));
    };
    vgae_nccl::ensure_built(&launch)?;
    let mut g = g.clone();
    if matches!(g.device, DeviceChoice::Auto | DeviceChoice::Cuda(0)) {
        g.device = DeviceChoice::Cuda(launch.local_rank);
    }
    let device = g.device()?;
    Ok((vgae_nccl::world(&device, &launch)?, device))
}

/// Splits `trainer`'s exact dense loss over the ranks of a launch ([`ranks_and_device`]; nothing to do for one
/// process). Every rank then takes the same steps and agrees on when to stop (a signal on any rank stops
/// all after the same epoch), while rank 0 alone writes the run directory.
pub fn join_ranks(
    mut trainer: GraphTrainer,
    comm: Box<dyn Collective + Send + Sync>,
) -> anyhow::Result<GraphTrainer> {
    if comm.size() > 1 {
        trainer.inner = trainer.inner.with_collective(std::sync::Arc::from(comm))?;
    }
    Ok(trainer)
}

/// How a rank other than 0 ends: silently. After an agreed stop it exits 0, not 130: mpirun aborts the
/// whole job at the first non-zero exit, which could kill rank 0 while it writes the checkpoint; the
/// launch still ends with rank 0's 130.
pub fn follower_end(res: vgae_core::Result<GraphRunResult>) -> anyhow::Result<()> {
    match res {
        Err(vgae_core::Error::Interrupted { .. }) => Ok(()),
        r => r.map(|_| ()).map_err(Into::into),
    }
}
