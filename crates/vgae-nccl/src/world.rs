//! [`Collective`] over an NCCL communicator: one process per GPU, host buffers staged through the rank's
//! CUDA stream (the trait's buffers live on the host; the dense loss's traffic is O(N·d) per step).

use crate::id_file;
use crate::launch::Launch;
use candle_core::cuda_backend::cudarc::driver::CudaStream;
use candle_core::cuda_backend::cudarc::nccl::safe::{Comm, Id, ReduceOp};
use candle_core::Device;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use vgae_core::collective::Collective;
use vgae_core::{Error, Result};

/// How long ranks other than 0 wait for the id file.
const ID_WAIT: Duration = Duration::from_secs(120);

/// The communicator, owned by one mutex.
struct Owned(Comm);

// SAFETY: an NCCL communicator may be used from any host thread provided no two calls on it run at once
// (NCCL user guide, "Thread safety"); `NcclWorld` reaches it only through its mutex, one call at a time.
unsafe impl Send for Owned {}

/// This process's rank in an NCCL world.
pub struct NcclWorld {
    comm: Mutex<Owned>,
    stream: Arc<CudaStream>,
    rank: usize,
    size: usize,
}

fn bind(stream: &CudaStream) -> Result<()> {
    stream
        .context()
        .bind_to_thread()
        .map_err(|e| Error::msg(format!("CUDA context: {e:?}")))
}

fn nccl(what: &str, e: impl std::fmt::Debug) -> Error {
    Error::msg(format!("NCCL {what}: {e:?}"))
}

impl NcclWorld {
    /// Joins the world of `launch` on `device` (this rank's GPU). With more than one rank the unique id goes
    /// through the file at `id_path` ([`id_file`]); rank 0 removes it once every rank has joined.
    pub fn init(device: &Device, launch: &Launch, id_path: Option<&Path>) -> Result<Self> {
        let cuda = device.as_cuda_device().map_err(|_| {
            Error::msg(format!(
                "NCCL ranks compute on GPUs: rank {} was given {device:?} (use --device cuda, or mpirun \
                 for CPU ranks)",
                launch.rank
            ))
        })?;
        let stream = cuda.cuda_stream();
        // NCCL joins on the calling thread's current device.
        bind(&stream)?;
        let id = match (launch.world_size, id_path) {
            (1, _) => Id::new().map_err(|e| nccl("unique id", e))?,
            (_, None) => {
                return Err(Error::msg(format!(
                    "WORLD_SIZE={}: set {} to a path every rank can read (rank 0 writes the NCCL id there)",
                    launch.world_size,
                    id_file::VAR
                )))
            }
            (_, Some(p)) if launch.rank == 0 => {
                let id = Id::new().map_err(|e| nccl("unique id", e))?;
                id_file::publish(p, &id.internal().map(|c| c as u8))?;
                id
            }
            (_, Some(p)) => Id::uninit(id_file::wait_for(p, ID_WAIT)?.map(|b| b as _)),
        };
        let comm = Comm::from_rank(stream.clone(), launch.rank, launch.world_size, id)
            .map_err(|e| nccl("init", e))?;
        let world = NcclWorld {
            comm: Mutex::new(Owned(comm)),
            stream,
            rank: launch.rank,
            size: launch.world_size,
        };
        if let (true, Some(p), 0) = (world.size > 1, id_path, world.rank) {
            world.barrier()?;
            id_file::retire(p)?;
        }
        Ok(world)
    }

    /// The communicator, with this rank's device current on the calling thread (NCCL launches its kernels
    /// there).
    fn comm(&self) -> Result<MutexGuard<'_, Owned>> {
        bind(&self.stream)?;
        // A panic while holding the lock leaves the communicator as the failed call left it; NCCL's own
        // error would then surface on the next call.
        Ok(self.comm.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn sync(&self) -> Result<()> {
        self.stream
            .synchronize()
            .map_err(|e| Error::msg(format!("CUDA stream: {e:?}")))
    }

    /// Every rank's `len`, in rank order.
    fn gather_lens(&self, len: usize) -> Result<Vec<usize>> {
        let guard = self.comm()?;
        let s = &self.stream;
        let mine = s.clone_htod(&[len as u64]).map_err(|e| nccl("upload", e))?;
        let mut all = s
            .alloc_zeros::<u64>(self.size)
            .map_err(|e| nccl("alloc", e))?;
        guard
            .0
            .all_gather(&mine, &mut all)
            .map_err(|e| nccl("all_gather", e))?;
        let lens = s.clone_dtoh(&all).map_err(|e| nccl("download", e))?;
        drop(guard);
        self.sync()?;
        Ok(lens.into_iter().map(|l| l as usize).collect())
    }
}

impl Collective for NcclWorld {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let guard = self.comm()?;
        let mut dev = self.stream.clone_htod(buf).map_err(|e| nccl("upload", e))?;
        guard
            .0
            .all_reduce_in_place(&mut dev, &ReduceOp::Sum)
            .map_err(|e| nccl("all_reduce", e))?;
        self.stream
            .memcpy_dtoh(&dev, buf)
            .map_err(|e| nccl("download", e))?;
        drop(guard);
        self.sync()
    }

    fn broadcast(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        if root >= self.size {
            return Err(Error::msg(format!(
                "broadcast from rank {root} of {}",
                self.size
            )));
        }
        let len = self.gather_lens(buf.len())?[root];
        buf.resize(len, 0);
        if len == 0 {
            return Ok(());
        }
        let guard = self.comm()?;
        let mut dev = self
            .stream
            .clone_htod(buf.as_slice())
            .map_err(|e| nccl("upload", e))?;
        guard
            .0
            .broadcast_in_place(&mut dev, root as i32)
            .map_err(|e| nccl("broadcast", e))?;
        self.stream
            .memcpy_dtoh(&dev, buf.as_mut_slice())
            .map_err(|e| nccl("download", e))?;
        drop(guard);
        self.sync()
    }

    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        // NCCL gathers equal-sized parts: every part padded to the longest, then cut back.
        let lens = self.gather_lens(bytes.len())?;
        let width = lens.iter().copied().max().unwrap_or(0);
        if width == 0 {
            return Ok(vec![Vec::new(); self.size]);
        }
        let mut mine = bytes.to_vec();
        mine.resize(width, 0);
        let guard = self.comm()?;
        let s = &self.stream;
        let src = s.clone_htod(&mine).map_err(|e| nccl("upload", e))?;
        let mut dst = s
            .alloc_zeros::<u8>(width * self.size)
            .map_err(|e| nccl("alloc", e))?;
        guard
            .0
            .all_gather(&src, &mut dst)
            .map_err(|e| nccl("all_gather", e))?;
        let all = s.clone_dtoh(&dst).map_err(|e| nccl("download", e))?;
        drop(guard);
        self.sync()?;
        Ok(all
            .chunks_exact(width)
            .zip(lens)
            .map(|(c, l)| c[..l].to_vec())
            .collect())
    }

    fn barrier(&self) -> Result<()> {
        self.all_reduce_sum(&mut [0.0]).map(|_| ())
    }
}
