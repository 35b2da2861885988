//! A set of undirected node pairs, for rejecting sampled negatives: a hash set keyed by `(min, max)` packed
//! into a u64, with a cheap fixed mixer instead of SipHash (the lookup is in the sampling loop of every
//! epoch; the keys are node ids, not attacker-chosen strings). Iteration order is never used.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// The key of the undirected pair {u, v}.
pub fn pair_key(u: u32, v: u32) -> u64 {
    let (a, b) = (u.min(v), u.max(v));
    ((a as u64) << 32) | b as u64
}

/// The key of the ordered pair (arc) u → v.
pub fn arc_key(u: u32, v: u32) -> u64 {
    ((u as u64) << 32) | v as u64
}

/// The set of `arcs`, orientation kept (keys of [`arc_key`]).
pub fn arc_set(arcs: &[[u32; 2]]) -> PairSet {
    arcs.iter().map(|&[u, v]| arc_key(u, v)).collect()
}

/// splitmix64's finaliser: every output bit depends on every input bit, so the table's low-bit buckets
/// spread well.
#[derive(Default)]
pub struct Mix64(u64);

impl Hasher for Mix64 {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// Undirected pairs, as packed keys.
pub type PairSet = HashSet<u64, BuildHasherDefault<Mix64>>;

/// The set of `pairs`, each in either orientation.
pub fn pair_set(pairs: &[[u32; 2]]) -> PairSet {
    pairs.iter().map(|&[u, v]| pair_key(u, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_free_membership() {
        let s = pair_set(&[[3, 1], [7, 7], [0, 4_000_000_000]]);
        assert!(s.contains(&pair_key(1, 3)) && s.contains(&pair_key(3, 1)));
        assert!(s.contains(&pair_key(7, 7)) && s.contains(&pair_key(4_000_000_000, 0)));
        assert!(!s.contains(&pair_key(1, 7)) && !s.contains(&pair_key(0, 3)));
        assert_eq!(s.len(), 3);
    }
}
