//! The collectives a data-parallel run needs, behind one small trait so that the trainers do not depend on an
//! engine: MPI (`crates/vgae-mpi`, `mpirun -np N`) for CPU clusters, or a single process ([`SingleProcess`]).
//!
//! Every rank must call the same collectives in the same order with buffers of the same length (for
//! [`Collective::all_reduce_sum`]); an engine error, such as a rank that died, is returned as an error.

use crate::Result;

/// All-reduce, broadcast, all-gather and barrier over the ranks of a run.
pub trait Collective {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Element-wise sum over the ranks, in place; every rank gets the same bits.
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()>;
    /// Rank `root`'s `buf` on every rank (the other ranks' buffers are resized to it).
    fn broadcast(&self, buf: &mut Vec<u8>, root: usize) -> Result<()>;
    /// Every rank's `bytes`, in rank order, on every rank.
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// Returns once every rank has called it.
    fn barrier(&self) -> Result<()>;
}

/// A run of one process: every collective is the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_reduce_sum(&self, _buf: &mut [f32]) -> Result<()> {
        Ok(())
    }
    fn broadcast(&self, _buf: &mut Vec<u8>, _root: usize) -> Result<()> {
        Ok(())
    }
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        Ok(vec![bytes.to_vec()])
    }
    fn barrier(&self) -> Result<()> {
        Ok(())
    }
}

/// `size` ranks that are threads of one process: the collectives' semantics without a launcher, for tests
/// of code that runs on several ranks. Give each thread its own [`ThreadRank`]; every collective blocks
/// until all `size` have called it.
pub fn thread_ranks(size: usize) -> Vec<ThreadRank> {
    let shared = std::sync::Arc::new(ThreadShared {
        slots: std::sync::Mutex::new(vec![Vec::new(); size]),
        barrier: std::sync::Barrier::new(size),
    });
    (0..size)
        .map(|rank| ThreadRank {
            rank,
            size,
            shared: shared.clone(),
        })
        .collect()
}

/// One rank of [`thread_ranks`].
pub struct ThreadRank {
    rank: usize,
    size: usize,
    shared: std::sync::Arc<ThreadShared>,
}

struct ThreadShared {
    slots: std::sync::Mutex<Vec<Vec<u8>>>,
    barrier: std::sync::Barrier,
}

impl ThreadRank {
    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.shared.slots.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Collective for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        let bytes: Vec<u8> = buf.iter().flat_map(|x| x.to_le_bytes()).collect();
        let all = self.all_gather(&bytes)?;
        buf.fill(0.0);
        // Rank order, so every rank gets the same bits.
        for part in &all {
            for (o, b) in buf.iter_mut().zip(part.chunks_exact(4)) {
                *o += f32::from_le_bytes(b.try_into().expect("4 bytes"));
            }
        }
        Ok(())
    }
    fn broadcast(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        let all = self.all_gather(buf)?;
        *buf = all
            .get(root)
            .ok_or_else(|| {
                crate::Error::msg(format!("broadcast from rank {root} of {}", self.size))
            })?
            .clone();
        Ok(())
    }
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.slots()[self.rank] = bytes.to_vec();
        self.shared.barrier.wait();
        let all = self.slots().clone();
        // Nobody writes the next round's slot before every rank has read this one.
        self.shared.barrier.wait();
        Ok(all)
    }
    fn barrier(&self) -> Result<()> {
        self.shared.barrier.wait();
        Ok(())
    }
}

/// The `rank`-th of `size` nearly equal contiguous parts of `0..len` (the first `len % size` one longer).
pub fn shard(len: usize, rank: usize, size: usize) -> std::ops::Range<usize> {
    let (q, r) = (len / size, len % size);
    let start = rank * q + rank.min(r);
    start..start + q + usize::from(rank < r)
}

/// Sparse rows from every rank (`ids` with `[ids.len(), width]` rows each, as [`encode_rows`] packs them)
/// summed per id: the ids in order of first appearance, rank by rank, and their summed rows. The same on
/// every rank, since every rank merges the same parts in the same order.
pub fn merge_rows(parts: &[Vec<u8>], width: usize) -> Result<(Vec<u32>, Vec<f32>)> {
    let mut slot = std::collections::HashMap::new();
    let (mut ids, mut rows) = (Vec::new(), Vec::<f32>::new());
    for part in parts {
        let (pid, prow) = decode_rows(part, width)?;
        for (&i, r) in pid.iter().zip(prow.chunks_exact(width)) {
            let at = *slot.entry(i).or_insert_with(|| {
                ids.push(i);
                rows.extend(std::iter::repeat_n(0.0, width));
                ids.len() - 1
            });
            rows[at * width..(at + 1) * width]
                .iter_mut()
                .zip(r)
                .for_each(|(o, &x)| *o += x);
        }
    }
    Ok((ids, rows))
}

/// `ids` and their rows as bytes: the count (u64 LE), the ids (u32 LE), the rows (f32 LE).
pub fn encode_rows(ids: &[u32], rows: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + ids.len() * 4 + rows.len() * 4);
    out.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    ids.iter()
        .for_each(|i| out.extend_from_slice(&i.to_le_bytes()));
    rows.iter()
        .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    out
}

/// The inverse of [`encode_rows`], checking the length.
pub fn decode_rows(bytes: &[u8], width: usize) -> Result<(Vec<u32>, Vec<f32>)> {
    let bad = || {
        crate::Error::msg(format!(
            "collective: a rank sent {} bytes of rows",
            bytes.len()
        ))
    };
    let n = u64::from_le_bytes(bytes.get(..8).ok_or_else(bad)?.try_into().unwrap()) as usize;
    let want = n
        .checked_mul(4 + 4 * width)
        .and_then(|b| b.checked_add(8))
        .ok_or_else(bad)?;
    if bytes.len() != want {
        return Err(bad());
    }
    let (idb, rowb) = bytes[8..].split_at(n * 4);
    let ids = idb
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let rows = rowb
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    Ok((ids, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_in_order() {
        let parts: Vec<_> = (0..3).map(|r| shard(10, r, 3)).collect();
        assert_eq!(parts, [0..4, 4..7, 7..10]);
        assert_eq!(shard(1, 1, 2), 1..1, "an empty shard past the end");
        assert_eq!(shard(5, 0, 1), 0..5);
    }

    #[test]
    fn rows_from_every_rank_are_summed_per_id_in_first_seen_order() {
        let a = encode_rows(&[7, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = encode_rows(&[2, 9], &[0.5, 0.25, -1.0, 8.0]);
        let (ids, rows) = merge_rows(&[a.clone(), b], 2).unwrap();
        assert_eq!(ids, [7, 2, 9]);
        assert_eq!(rows, [1.0, 2.0, 3.5, 4.25, -1.0, 8.0]);
        assert_eq!(
            decode_rows(&a, 2).unwrap(),
            (vec![7, 2], vec![1.0, 2.0, 3.0, 4.0])
        );
    }

    #[test]
    fn truncated_or_padded_rows_are_errors() {
        let a = encode_rows(&[7, 2], &[1.0, 2.0, 3.0, 4.0]);
        for bad in [
            &a[..a.len() - 1],
            &a[..5],
            &[a.as_slice(), &[0]].concat()[..],
        ] {
            let e = decode_rows(bad, 2).unwrap_err().to_string();
            assert!(e.contains("bytes of rows"), "{e}");
        }
        // A count that would overflow is refused, not allocated.
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend([0u8; 8]);
        assert!(decode_rows(&huge, 2).is_err());
    }
}
