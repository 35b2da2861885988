//! MPI collectives for data-parallel vgae-rs runs: [`collective_from_env`] gives the ranks of a process
//! started by `mpirun -np N` (or Slurm's `srun`), or a single process when no launcher started it.
//!
//! The MPI backend needs the crate's `mpi` feature and a system MPI (Debian: `libopenmpi-dev`). MPI's
//! default error handler aborts the job on any failure, so a rank that dies takes the others down with
//! the launcher's message (OpenMPI: "mpirun noticed that process rank 1 ... exited on signal 9") instead
//! of leaving them waiting in a collective.

#[cfg(feature = "mpi")]
mod world;

#[cfg(feature = "mpi")]
pub use world::MpiWorld;

use vgae_core::collective::{Collective, SingleProcess};
use vgae_core::Result;

/// The world size a launcher announced in the environment (OpenMPI, PMI / PMIx as MPICH and Slurm set
/// them), or `None` outside a launcher.
pub fn launcher_world_size() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
}

/// The ranks of this run: MPI's world when a launcher started the process, one process otherwise. A launch
/// with several ranks on a build without the `mpi` feature is an error saying so (never N independent
/// runs writing one directory).
pub fn collective_from_env() -> Result<Box<dyn Collective>> {
    Ok(shared_collective_from_env()? as Box<dyn Collective + Send + Sync>)
}

/// [`collective_from_env`] as a shareable handle (what [`vgae_core::graph::LinkTrainer::with_collective`]
/// takes). MPI itself is used only on the thread that initialised it.
pub fn shared_collective_from_env() -> Result<Box<dyn Collective + Send + Sync>> {
    match launcher_world_size() {
        None => Ok(Box::new(SingleProcess)),
        Some(n) => mpi_world(n),
    }
}

#[cfg(feature = "mpi")]
fn mpi_world(_n: usize) -> Result<Box<dyn Collective + Send + Sync>> {
    Ok(Box::new(MpiWorld::init()?))
}

#[cfg(not(feature = "mpi"))]
fn mpi_world(n: usize) -> Result<Box<dyn Collective + Send + Sync>> {
    match n {
        1 => Ok(Box::new(SingleProcess)),
        _ => Err(vgae_core::Error::msg(format!(
            "launched with {n} MPI ranks, but this build has no MPI: rebuild with `--features mpi` \
             (needs libopenmpi-dev and libclang-dev)"
        ))),
    }
}
