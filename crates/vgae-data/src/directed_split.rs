//! Splits of a directed graph for the three link-prediction tasks of Salha et al., "Gravity-inspired graph
//! autoencoders for directed link prediction" (CIKM 2019), Section 4.1, and their audit.
//!
//! Every pair is an arc `[source, target]`. The training arcs are all arcs not held out as validation or
//! test positives, so the encoder and the loss never see a held-out arc.

use crate::error::{DataError, Result};
use crate::graph::Graph;
use crate::pairset::{arc_key, arc_set};
use crate::split::{EdgeSplit, SplitConfig};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which of the paper's three tasks a directed split evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DirectedTask {
    /// Task 1, general directed link prediction: random held-out arcs against random ordered non-arcs.
    #[default]
    General,
    /// Task 2, biased negative samples: held-out unidirectional arcs (i → j, no j → i) against their
    /// reverses j → i. A symmetric decoder scores both alike, so it is at chance by construction.
    Biased,
    /// Task 3, bidirectionality: for pairs linked both ways, one direction (drawn at random) is held out
    /// and the other kept; negatives are reverses of unidirectional arcs. Both sides' reverse is a
    /// training arc, so a symmetric decoder cannot tell them apart.
    Bidirectional,
}

impl DirectedTask {
    /// The name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            DirectedTask::General => "general",
            DirectedTask::Biased => "biased",
            DirectedTask::Bidirectional => "bidirectional",
        }
    }
}

/// The training arcs, then val positives, val negatives, test positives, test negatives.
type Parts = (Vec<[u32; 2]>, [Vec<[u32; 2]>; 4]);

/// Draws `k` distinct ordered non-arcs `i → j` (`i != j`) not in `taken`, adding them to it.
fn sample_non_arcs<R: Rng>(
    n: usize,
    k: usize,
    taken: &mut crate::pairset::PairSet,
    rng: &mut R,
) -> Vec<[u32; 2]> {
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let (i, j) = (rng.random_range(0..n as u32), rng.random_range(0..n as u32));
        if i != j && taken.insert(arc_key(i, j)) {
            out.push([i, j]);
        }
    }
    out
}

/// The arcs whose reverse is not an arc, in `g.edges` order.
fn unidirectional(g: &Graph) -> Vec<[u32; 2]> {
    let arcs = arc_set(&g.edges);
    g.edges
        .iter()
        .copied()
        .filter(|&[u, v]| !arcs.contains(&arc_key(v, u)))
        .collect()
}

fn reversed(pairs: &[[u32; 2]]) -> Vec<[u32; 2]> {
    pairs.iter().map(|&[u, v]| [v, u]).collect()
}

/// The counts held out of a pool of `pool` candidates for fractions `val`, `test` (rounded down).
fn counts(pool: usize, cfg: &SplitConfig) -> (usize, usize) {
    let f = |x: f64| (pool as f64 * x).floor() as usize;
    (f(cfg.val_frac), f(cfg.test_frac))
}

/// Task 3's counts: every bidirectional pair is a candidate (as many as there are negatives to match), a
/// share `val / (val + test)` of them for validation.
fn bidirectional_counts(pairs: usize, negatives: usize, cfg: &SplitConfig) -> (usize, usize) {
    let k = pairs.min(negatives);
    let share = cfg.val_frac / (cfg.val_frac + cfg.test_frac);
    let n_val = (k as f64 * share).floor() as usize;
    (n_val, k - n_val)
}

/// Splits directed `g` for `task` with randomness from `rng` (`cfg.val_frac`, `cfg.test_frac` as for
/// undirected graphs; for task 3 they only set the validation share of the bidirectional pairs).
pub(crate) fn split<R: Rng>(
    g: &Graph,
    cfg: &SplitConfig,
    task: DirectedTask,
    rng: &mut R,
) -> Result<Parts> {
    let too_few = |what: &str| {
        DataError::Other(format!(
            "directed graph '{}' has no {what}: the {} task holds none out",
            g.name,
            task.name()
        ))
    };
    let arcs = arc_set(&g.edges);
    let (val_pos, test_pos, val_neg, test_neg);
    match task {
        DirectedTask::General => {
            let (n_val, n_test) = counts(g.edges.len(), cfg);
            let non_arcs =
                (g.num_nodes * g.num_nodes.saturating_sub(1)).saturating_sub(g.edges.len());
            if n_val + n_test > non_arcs / 2 {
                return Err(DataError::Other(format!(
                    "graph '{}' has {non_arcs} non-arcs, too few for {} negatives",
                    g.name,
                    n_val + n_test
                )));
            }
            let mut pool = g.edges.clone();
            pool.shuffle(rng);
            val_pos = pool[..n_val].to_vec();
            test_pos = pool[n_val..n_val + n_test].to_vec();
            let mut taken = arcs.clone();
            test_neg = sample_non_arcs(g.num_nodes, n_test, &mut taken, rng);
            val_neg = sample_non_arcs(g.num_nodes, n_val, &mut taken, rng);
        }
        DirectedTask::Biased => {
            let mut pool = unidirectional(g);
            if pool.is_empty() {
                return Err(too_few("unidirectional arc"));
            }
            pool.shuffle(rng);
            let (n_val, n_test) = counts(pool.len(), cfg);
            val_pos = pool[..n_val].to_vec();
            test_pos = pool[n_val..n_val + n_test].to_vec();
            val_neg = reversed(&val_pos);
            test_neg = reversed(&test_pos);
        }
        DirectedTask::Bidirectional => {
            // One entry per reciprocated pair, then a random direction to hold out.
            let mut pairs: Vec<[u32; 2]> = g
                .edges
                .iter()
                .copied()
                .filter(|&[u, v]| u < v && arcs.contains(&arc_key(v, u)))
                .collect();
            let mut negatives = reversed(&unidirectional(g));
            if pairs.is_empty() || negatives.is_empty() {
                return Err(too_few(if pairs.is_empty() {
                    "pair linked both ways"
                } else {
                    "unidirectional arc"
                }));
            }
            pairs.shuffle(rng);
            for p in pairs.iter_mut() {
                if rng.random_bool(0.5) {
                    p.reverse();
                }
            }
            negatives.shuffle(rng);
            let (n_val, n_test) = bidirectional_counts(pairs.len(), negatives.len(), cfg);
            val_pos = pairs[..n_val].to_vec();
            test_pos = pairs[n_val..n_val + n_test].to_vec();
            val_neg = negatives[..n_val].to_vec();
            test_neg = negatives[n_val..n_val + n_test].to_vec();
        }
    }
    let held = arc_set(&[val_pos.as_slice(), test_pos.as_slice()].concat());
    let train: Vec<[u32; 2]> = g
        .edges
        .iter()
        .copied()
        .filter(|&[u, v]| !held.contains(&arc_key(u, v)))
        .collect();
    Ok((train, [val_pos, val_neg, test_pos, test_neg]))
}

/// Checks a directed split against its graph beyond what every split must satisfy: the task's counts and
/// how its negatives relate to its positives.
pub(crate) fn audit(
    s: &EdgeSplit,
    g: &Graph,
    task: DirectedTask,
) -> std::result::Result<(), String> {
    let arcs = arc_set(&g.edges);
    let train = arc_set(&s.train_pos);
    let (want_val, want_test) = match task {
        DirectedTask::General => counts(g.edges.len(), &s.config),
        DirectedTask::Biased => counts(unidirectional(g).len(), &s.config),
        DirectedTask::Bidirectional => {
            let pairs = g
                .edges
                .iter()
                .filter(|&&[u, v]| u < v && arcs.contains(&arc_key(v, u)));
            bidirectional_counts(pairs.count(), unidirectional(g).len(), &s.config)
        }
    };
    if (s.val_pos.len(), s.test_pos.len()) != (want_val, want_test) {
        return Err(format!(
            "{} task: val/test hold {}/{} arcs, expected {want_val}/{want_test}",
            task.name(),
            s.val_pos.len(),
            s.test_pos.len()
        ));
    }
    for (name, pos, neg) in [
        ("val", &s.val_pos, &s.val_neg),
        ("test", &s.test_pos, &s.test_neg),
    ] {
        for (k, (&[a, b], &[c, d])) in pos.iter().zip(neg).enumerate() {
            let fail = |what: &str| Err(format!("{name} pair {k} ({a}, {b}) / ({c}, {d}): {what}"));
            match task {
                DirectedTask::General => {}
                DirectedTask::Biased => {
                    if arcs.contains(&arc_key(b, a)) {
                        return fail("the positive is not unidirectional");
                    }
                    if [c, d] != [b, a] {
                        return fail("the negative is not the positive reversed");
                    }
                }
                DirectedTask::Bidirectional => {
                    if !train.contains(&arc_key(b, a)) {
                        return fail("the positive's reverse is not a training arc");
                    }
                    if !train.contains(&arc_key(d, c)) {
                        return fail("the negative's reverse is not a training arc");
                    }
                }
            }
        }
    }
    Ok(())
}
