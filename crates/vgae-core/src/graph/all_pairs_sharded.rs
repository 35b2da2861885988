//! The exact dense loss's all-pairs term split over the ranks of a data-parallel run: each rank computes
//! its contiguous share of the tile-pair slots of [`softplus_gram_slots`], the slots' partial sums are
//! all-gathered, and every rank adds them in slot order. So every rank gets the value and the [N, d]
//! gradient 2·σ(ZZᵀ)Z with the single-process bits (for up to [`gram_slot_count`] ranks; more ranks
//! leave the extra ones idle), and the rest of the step (encoder, update) runs replicated and identical.
//!
//! The traffic per step is one [N, d] partial per slot, O(N·d) next to the O(N²·d) work it splits.
//!
//! On a GPU (one rank per device, NCCL) the ranks split the rows of Z·Zᵀ instead: each computes its rows'
//! value and gradient rows with [`softplus_gram_device_rows`], and every rank gathers all rows and adds the
//! values in rank order, so all ranks hold the same bits (equal to one device's up to rounding).

use super::all_pairs_softplus::{
    gram_slot_count, softplus_gram_device_rows, softplus_gram_slots, sum_gram_slots, with_gradient,
};
use super::softplus_tile::padded;
use crate::collective::{shard, Collective};
use crate::simd::SimdPath;
use crate::{Error, Result};
use candle_core::Tensor;

/// Σ_ij softplus(z_i·z_j) over all N² pairs on every rank of `comm`, as a scalar tensor whose gradient is
/// 2·σ(ZZᵀ)Z (attached as in [`super::all_pairs_softplus::softplus_gram`]). On the CPU the fused tiles'
/// slots are split (the single-process bits); on other devices the rows, in blocks of `block`.
pub fn softplus_gram_sharded(z: &Tensor, block: usize, comm: &dyn Collective) -> Result<Tensor> {
    if !z.device().is_cpu() {
        return softplus_gram_rows_sharded(z, block, comm);
    }
    let (n, d) = z.dims2()?;
    let host = z.flatten_all()?.to_vec1::<f32>()?;
    let (value, grad) = softplus_gram_host_sharded(SimdPath::selected(), &host, n, d, comm)?;
    let grad = Tensor::from_vec(grad, (n, d), z.device())?;
    Ok(with_gradient(z, value, &grad)?)
}

/// Host version: this rank's slots computed, every rank's gathered, all summed in slot order.
pub fn softplus_gram_host_sharded(
    path: SimdPath,
    z: &[f32],
    n: usize,
    d: usize,
    comm: &dyn Collective,
) -> Result<(f64, Vec<f32>)> {
    // NaN anywhere gives NaN everywhere, as on one process; every rank sees the same z, so all return here.
    if z.iter().any(|v| !v.is_finite()) {
        return Ok((f64::NAN, vec![f32::NAN; n * d]));
    }
    let mine = shard(gram_slot_count(n), comm.rank(), comm.size());
    let parts = softplus_gram_slots(path, z, n, d, mine);
    let gathered = comm.all_gather(&encode_slots(&parts))?;
    let mut all = Vec::with_capacity(gram_slot_count(n));
    for bytes in &gathered {
        all.extend(decode_slots(bytes, n * padded(d))?);
    }
    if all.len() != gram_slot_count(n) {
        return Err(Error::msg(format!(
            "sharded dense loss: {} slot sums gathered, {} expected (do all ranks train the same graph?)",
            all.len(),
            gram_slot_count(n)
        )));
    }
    Ok(sum_gram_slots(all, n, d))
}

/// The row-split version of [`softplus_gram_sharded`] (any device; the GPU path).
pub fn softplus_gram_rows_sharded(
    z: &Tensor,
    block: usize,
    comm: &dyn Collective,
) -> Result<Tensor> {
    let (n, d) = z.dims2()?;
    let (value, grad) =
        softplus_gram_device_rows(&z.detach(), shard(n, comm.rank(), comm.size()), block)?;
    let mine = encode_value_rows(value, &grad.flatten_all()?.to_vec1::<f32>()?);
    let (total, all) = decode_value_rows(&comm.all_gather(&mine)?, n, d)?;
    let grad = Tensor::from_vec(all, (n, d), z.device())?;
    Ok(with_gradient(z, total, &grad)?)
}

/// The split dense loss of any decoder whose all-pairs term is a sum over source rows: each rank
/// differentiates `part(z, its rows)` by autograd, and every rank adds the ranks' values and whole [N, d]
/// gradients in rank order (a source/target or gravity logit moves both endpoints' rows, so gradients
/// overlap). Every rank gets the same bits; against one process they differ only in summation order.
pub fn softplus_rows_sharded(
    z: &Tensor,
    comm: &dyn Collective,
    part: impl Fn(&Tensor, std::ops::Range<usize>) -> Result<Tensor>,
) -> Result<Tensor> {
    let (n, d) = z.dims2()?;
    let rows = shard(n, comm.rank(), comm.size());
    let (value, grad) = match rows.is_empty() {
        true => (0.0, vec![0.0; n * d]),
        false => {
            let leaf = candle_core::Var::from_tensor(&z.detach())?;
            let loss = part(leaf.as_tensor(), rows)?;
            let grads = loss.backward()?;
            let grad = match grads.get(leaf.as_tensor()) {
                Some(g) => g.flatten_all()?.to_vec1::<f32>()?,
                None => vec![0.0; n * d],
            };
            (loss.to_scalar::<f32>()? as f64, grad)
        }
    };
    let gathered = comm.all_gather(&encode_value_rows(value, &grad))?;
    let (mut total, mut sum) = (0.0f64, vec![0.0f32; n * d]);
    for (v, floats) in rank_messages(&gathered, |_| n * d, &format!("a [{n}, {d}] gradient"))? {
        total += v;
        sum.iter_mut()
            .zip(floats_le(floats))
            .for_each(|(o, x)| *o += x);
    }
    let grad = Tensor::from_vec(sum, (n, d), z.device())?;
    Ok(with_gradient(z, total, &grad)?)
}

/// One rank's rows as bytes: their value (f64 LE), then their gradient rows (f32 LE).
pub fn encode_value_rows(value: f64, grad: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 4 * grad.len());
    out.extend(value.to_le_bytes());
    grad.iter().for_each(|x| out.extend(x.to_le_bytes()));
    out
}

/// Every rank's [`encode_value_rows`], in rank order, to the total value (summed in rank order) and the whole
/// `[n, d]` gradient; rank r's message must hold exactly its [`shard`] of the rows.
pub fn decode_value_rows(gathered: &[Vec<u8>], n: usize, d: usize) -> Result<(f64, Vec<f32>)> {
    let ranks = gathered.len();
    let floats = |r| shard(n, r, ranks).len() * d;
    let (mut total, mut grad) = (0.0f64, Vec::with_capacity(n * d));
    for (v, bytes) in rank_messages(gathered, floats, &format!("its rows of {d}"))? {
        total += v;
        grad.extend(floats_le(bytes));
    }
    Ok((total, grad))
}

/// Every rank's [`encode_value_rows`] message split into its value and its float bytes, rank r's checked to hold
/// `floats(r)` floats (`what` they are, for the error).
fn rank_messages<'a>(
    gathered: &'a [Vec<u8>],
    floats: impl Fn(usize) -> usize,
    what: &str,
) -> Result<Vec<(f64, &'a [u8])>> {
    gathered
        .iter()
        .enumerate()
        .map(|(r, bytes)| {
            let want = 8 + 4 * floats(r);
            if bytes.len() != want {
                return Err(Error::msg(format!(
                    "sharded dense loss: rank {r} sent {} bytes, {want} expected for {what} (do all ranks \
                     train the same graph?)",
                    bytes.len()
                )));
            }
            let value = f64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            Ok((value, &bytes[8..]))
        })
        .collect()
}

/// Little-endian f32s.
fn floats_le(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// Slot sums as bytes: the count (u64 LE), then per slot its value (f64 LE) and gradient (f32 LE).
pub fn encode_slots(parts: &[(f64, Vec<f32>)]) -> Vec<u8> {
    let len = parts.first().map_or(0, |p| p.1.len());
    let mut out = Vec::with_capacity(8 + parts.len() * (8 + 4 * len));
    out.extend((parts.len() as u64).to_le_bytes());
    for (v, g) in parts {
        out.extend(v.to_le_bytes());
        g.iter().for_each(|x| out.extend(x.to_le_bytes()));
    }
    out
}

/// Inverse of [`encode_slots`] for gradients of `len` floats; a message of any other size is an error.
pub fn decode_slots(bytes: &[u8], len: usize) -> Result<Vec<(f64, Vec<f32>)>> {
    let bad = || {
        Error::msg(format!(
            "sharded dense loss: a slot message of {} bytes does not hold whole [{len}] slots",
            bytes.len()
        ))
    };
    let head: [u8; 8] = bytes
        .get(..8)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let count = u64::from_le_bytes(head) as usize;
    let per = 8 + 4 * len;
    // The size is checked before anything is allocated, so a corrupt count cannot ask for memory.
    if count.checked_mul(per).and_then(|b| b.checked_add(8)) != Some(bytes.len()) {
        return Err(bad());
    }
    Ok(bytes[8..]
        .chunks_exact(per)
        .map(|c| {
            let v = f64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
            let g = c[8..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            (v, g)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::all_pairs_softplus::softplus_gram_host_on;

    fn z(n: usize, d: usize) -> Vec<f32> {
        (0..n * d)
            .map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 0.8)
            .collect()
    }

    /// What `ranks` ranks would gather, simulated in one process: every rank's encoded slots in rank order.
    fn simulated(z: &[f32], n: usize, d: usize, ranks: usize) -> (f64, Vec<f32>) {
        let mut all = Vec::new();
        for r in 0..ranks {
            let parts = softplus_gram_slots(
                SimdPath::Scalar,
                z,
                n,
                d,
                shard(gram_slot_count(n), r, ranks),
            );
            all.extend(decode_slots(&encode_slots(&parts), n * padded(d)).unwrap());
        }
        sum_gram_slots(all, n, d)
    }

    #[test]
    fn any_rank_count_gives_the_single_process_bits() {
        // 1000 rows: 8 tiles of 128, 36 tile pairs over 8 slots; 300 rows: 3 tiles, 6 pairs, 6 slots.
        for (n, d) in [(1000, 16), (300, 5)] {
            let z = z(n, d);
            let (v1, g1) = softplus_gram_host_on(SimdPath::Scalar, &z, n, d);
            for ranks in [1, 2, 3, 5, 8, 11] {
                let (v, g) = simulated(&z, n, d, ranks);
                assert_eq!(v.to_bits(), v1.to_bits(), "value, n {n}, {ranks} ranks");
                assert!(
                    g.iter().zip(&g1).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "gradient, {ranks} ranks"
                );
            }
        }
    }

    #[test]
    fn split_rows_give_the_unsplit_device_loss() {
        use crate::graph::all_pairs_softplus::softplus_gram_device;
        use candle_core::Device;
        let (n, d, block) = (300, 5, 64);
        let zt = Tensor::from_vec(z(n, d), (n, d), &Device::Cpu).unwrap();
        let (v1, g1) = softplus_gram_device(&zt, block).unwrap();
        let g1 = g1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for ranks in [1, 2, 3, 7] {
            let msgs: Vec<Vec<u8>> = (0..ranks)
                .map(|r| {
                    let (v, g) = softplus_gram_device_rows(&zt, shard(n, r, ranks), block).unwrap();
                    encode_value_rows(v, &g.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                })
                .collect();
            let (v, g) = decode_value_rows(&msgs, n, d).unwrap();
            // Only the order of the f64 row-block sums differs.
            assert!(
                (v - v1).abs() <= 1e-9 * v1.abs(),
                "{ranks} ranks: {v} vs {v1}"
            );
            let worst = g
                .iter()
                .zip(&g1)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst <= 1e-5, "{ranks} ranks: gradient off by {worst}");
            // Truncated, or one rank's rows missing: refused.
            let mut short = msgs.clone();
            short[ranks - 1].pop();
            assert!(decode_value_rows(&short, n, d).is_err());
            assert!(decode_value_rows(&msgs, n + 1, d).is_err());
        }
    }

    #[test]
    fn truncated_or_padded_slot_messages_are_errors() {
        let parts = softplus_gram_slots(SimdPath::Scalar, &z(200, 4), 200, 4, 0..2);
        let bytes = encode_slots(&parts);
        let len = 200 * padded(4);
        assert_eq!(decode_slots(&bytes, len).unwrap().len(), 2);
        for bad in [
            &bytes[..bytes.len() - 1],
            &bytes[..5],
            &[bytes.clone(), vec![0]].concat()[..],
        ] {
            assert!(decode_slots(bad, len).is_err());
        }
        // A count that claims more slots than the message holds is refused, not allocated.
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_slots(&huge, len).is_err());
    }
}
