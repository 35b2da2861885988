//! The ranks of a data-parallel launch and the device this process computes on: MPI under `mpirun` (CPU
//! ranks), NCCL for one process per GPU (`WORLD_SIZE` in the environment, as torchrun sets it), otherwise
//! one process.

use crate::globals::Globals;
use candle_core::Device;
use vgae_core::collective::Collective;
use vgae_core::device::DeviceChoice;

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
