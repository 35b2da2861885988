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
    // Dropped last: finalises MPI.
    _universe: Universe,
}

impl MpiWorld {
    /// Initialises MPI; an error if it is already initialised in this process.
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize()
            .ok_or_else(|| Error::msg("MPI is already initialised in this process"))?;
        Ok(MpiWorld {
            world: universe.world(),
            _universe: universe,
        })
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
        count(buf.len(), "all-reduce")?;
        let send = buf.to_vec();
        self.world
            .all_reduce_into(&send[..], buf, SystemOperation::sum());
        Ok(())
    }

    fn broadcast(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        let root = self.world.process_at_rank(count(root, "broadcast root")?);
        let mut len = buf.len() as u64;
        root.broadcast_into(&mut len);
        buf.resize(len as usize, 0);
        count(buf.len(), "broadcast")?;
        root.broadcast_into(&mut buf[..]);
        Ok(())
    }

    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
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
        self.world.barrier();
        Ok(())
    }
}
