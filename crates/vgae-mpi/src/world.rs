//! [`Collective`] over MPI's world communicator (rsmpi).

use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use vgae_core::collective::Collective;
use vgae_core::{Error, Result};

/// MPI's world: initialised on creation, finalised on drop (once per process).
pub struct MpiWorld {
    world: SimpleCommunicator,
    // Finalises MPI when dropped on the thread that initialised it.
    universe: std::mem::ManuallyDrop<Universe>,
    owner: std::thread::ThreadId,
}

// SAFETY: MPI is initialised at MPI_THREAD_SINGLE, so its handles may only be used by the thread that
// initialised it. Every method below first checks that it runs on `owner` and returns an error otherwise,
// and `Drop` finalises only on `owner` (elsewhere MPI is left to the process exit), so a moved or shared
// `MpiWorld` never touches MPI from another thread.
unsafe impl Send for MpiWorld {}
// SAFETY: as for `Send`: no MPI call is made off the owner thread.
unsafe impl Sync for MpiWorld {}

impl Drop for MpiWorld {
    fn drop(&mut self) {
        if std::thread::current().id() == self.owner {
            // SAFETY: dropped once, here, and never used after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.universe) };
        }
    }
}

impl MpiWorld {
    /// Initialises MPI; an error if it is already initialised in this process.
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize()
            .ok_or_else(|| Error::msg("MPI is already initialised in this process"))?;
        Ok(MpiWorld {
            world: universe.world(),
            universe: std::mem::ManuallyDrop::new(universe),
            owner: std::thread::current().id(),
        })
    }

    /// An error unless called on the thread that initialised MPI.
    fn on_owner(&self) -> Result<()> {
        match std::thread::current().id() == self.owner {
            true => Ok(()),
            false => Err(Error::msg(
                "MPI was used from a thread other than the one that initialised it",
            )),
        }
    }
}

/// MPI counts are C ints: a buffer past 2³¹ − 1 elements is an error, not a truncated message.
fn count(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n)
        .map_err(|_| Error::msg(format!("MPI {what}: {n} elements exceed MPI's int counts")))
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        self.on_owner()?;
        count(buf.len(), "all-reduce")?;
        let send = buf.to_vec();
        self.world
            .all_reduce_into(&send[..], buf, SystemOperation::sum());
        Ok(())
    }

    fn broadcast(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        self.on_owner()?;
        let root = self.world.process_at_rank(count(root, "broadcast root")?);
        let mut len = buf.len() as u64;
        root.broadcast_into(&mut len);
        buf.resize(len as usize, 0);
        count(buf.len(), "broadcast")?;
        root.broadcast_into(&mut buf[..]);
        Ok(())
    }

    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.on_owner()?;
        let mine = count(bytes.len(), "all-gather")?;
        let mut counts = vec![0i32; self.size()];
        self.world.all_gather_into(&mine, &mut counts[..]);
        let mut displs = Vec::with_capacity(counts.len());
        let mut total = 0usize;
        for &c in &counts {
            displs.push(count(total, "all-gather")?);
            total += c as usize;
        }
        let mut recv = vec![0u8; total];
        {
            let mut part = PartitionMut::new(&mut recv[..], &counts[..], &displs[..]);
            self.world.all_gather_varcount_into(bytes, &mut part);
        }
        Ok(counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| recv[d as usize..d as usize + c as usize].to_vec())
            .collect())
    }

    fn barrier(&self) -> Result<()> {
        self.on_owner()?;
        self.world.barrier();
        Ok(())
    }
}
