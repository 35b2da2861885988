//! DeepWalk (Perozzi et al. 2014) for link prediction, as a baseline in Kipf & Welling (2016), Table 1.
//!
//! Truncated uniform random walks on the **training** graph (10 walks per node, 80 nodes each, node order
//! shuffled for each round) form a corpus; skip-gram with negative sampling (word2vec's SGNS) learns one
//! 128-dimensional vector per node with plain SGD. The link score of `(i, j)` is the dot product of the
//! two input vectors.
//!
//! word2vec's details are kept: dynamic window (a window of `w − b` with `b` uniform in `0..w` for each
//! centre), 5 negatives per pair drawn from the node frequencies in the corpus raised to 0.75, learning
//! rate 0.025 decaying linearly to 0.025·10⁻⁴, input vectors initialised uniformly in `±0.5/dim`, output
//! vectors at zero; one pass over the corpus. No subsampling of frequent nodes (node frequencies are far
//! flatter than word frequencies). Isolated nodes (no training edge) have one-node walks, give no training
//! pairs and keep their initial vectors.
//!
//! Training is single-threaded (no Hogwild), so a run is reproducible bit for bit for a given seed; the
//! inner loops use fixed-order 8-lane accumulators, which the compiler vectorises (AVX2 when the CPU has
//! it, chosen at run time: the same arithmetic either way, so the same bits).

use super::Embedding;
use crate::rng::RunRng;
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Settings of DeepWalk; the defaults are those of the DeepWalk paper and word2vec, as listed above.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeepWalkConfig {
    /// Embedding dimension (128).
    pub dim: usize,
    /// Nodes per walk, the start included (80); a walk stops early at a node without edges.
    pub walk_length: usize,
    /// Walks started from every node (10).
    pub walks_per_node: usize,
    /// Maximum skip-gram window on each side of the centre (10), shrunk at random per centre.
    pub window: usize,
    /// Negative samples per (centre, context) pair (5).
    pub negative: usize,
    /// Passes of SGD over the walk corpus.
    pub epochs: usize,
    /// Initial SGD learning rate (0.025), decayed linearly to 10⁻⁴ of it over training.
    pub lr: f32,
}

impl Default for DeepWalkConfig {
    fn default() -> Self {
        DeepWalkConfig {
            dim: 128,
            walk_length: 80,
            walks_per_node: 10,
            window: 10,
            negative: 5,
            epochs: 1,
            lr: 0.025,
        }
    }
}

/// Diagnostics of a DeepWalk run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeepWalkInfo {
    /// SGD passes made over the corpus.
    pub epochs: usize,
    /// Total nodes over all walks.
    pub corpus_len: usize,
    /// (centre, context) pairs trained on, over all passes.
    pub pairs: u64,
    /// Time spent generating the walks, in seconds.
    pub walk_seconds: f64,
    /// Time spent in SGD, in seconds.
    pub sgd_seconds: f64,
}

/// Walker's alias table for O(1) draws from a discrete distribution.
struct Alias {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    fn new(w: &[f64]) -> Alias {
        let n = w.len();
        let total: f64 = w.iter().sum();
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in large.into_iter().chain(small) {
            prob[i] = 1.0;
        }
        Alias { prob, alias }
    }

    #[inline(always)]
    fn sample<R: Rng>(&self, rng: &mut R) -> u32 {
        let r: u64 = rng.random();
        let i = ((r >> 32) * self.prob.len() as u64) >> 32;
        let u = (r & 0xffff_ffff) as f64 / 4294967296.0;
        if u < self.prob[i as usize] {
            i as u32
        } else {
            self.alias[i as usize]
        }
    }
}

/// The walk corpus: `walks_per_node` rounds, each over all nodes in a fresh random order.
/// Returns the flat corpus and the start offset of each walk (plus the end).
pub fn random_walks<R: Rng>(
    n: usize,
    edges: &[[u32; 2]],
    walk_length: usize,
    walks_per_node: usize,
    rng: &mut R,
) -> Result<(Vec<u32>, Vec<usize>)> {
    let (indptr, idx) = vgae_data::Graph::adjacency_lists(n, edges)
        .map_err(|e| Error::msg(format!("deepwalk: {e}")))?;
    let mut corpus = Vec::with_capacity(n * walks_per_node * walk_length);
    let mut starts = Vec::with_capacity(n * walks_per_node + 1);
    let mut order: Vec<u32> = (0..n as u32).collect();
    for _ in 0..walks_per_node {
        order.shuffle(rng);
        for &s in &order {
            starts.push(corpus.len());
            let mut cur = s as usize;
            corpus.push(s);
            for _ in 1..walk_length {
                let (a, b) = (indptr[cur], indptr[cur + 1]);
                if a == b {
                    break;
                }
                cur = idx[a + rng.random_range(0..b - a)] as usize;
                corpus.push(cur as u32);
            }
        }
    }
    starts.push(corpus.len());
    Ok((corpus, starts))
}

#[inline(always)]
fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[inline(always)]
fn axpy8(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

struct Sgd<'a> {
    corpus: &'a [u32],
    starts: &'a [usize],
    noise: &'a Alias,
    dim: usize,
    window: usize,
    negative: usize,
    epochs: usize,
    lr: f32,
}

#[inline(always)]
fn sgd_body<R: Rng>(s: &Sgd, syn0: &mut [f32], syn1: &mut [f32], rng: &mut R) -> u64 {
    let dim = s.dim;
    let total = (s.corpus.len() * s.epochs) as f64;
    let mut processed = 0usize;
    let mut alpha = s.lr;
    let mut neu1e = vec![0.0f32; dim];
    let mut pairs = 0u64;
    for _ in 0..s.epochs {
        for w in s.starts.windows(2) {
            let walk = &s.corpus[w[0]..w[1]];
            for (pos, &centre) in walk.iter().enumerate() {
                if processed.is_multiple_of(10_000) {
                    let frac = (1.0 - processed as f64 / (total + 1.0)).max(1e-4);
                    alpha = s.lr * frac as f32;
                }
                processed += 1;
                let b = rng.random_range(0..s.window);
                let span = s.window - b;
                let lo = pos.saturating_sub(span);
                let hi = (pos + span).min(walk.len() - 1);
                for (c, &context) in walk.iter().enumerate().take(hi + 1).skip(lo) {
                    if c == pos {
                        continue;
                    }
                    pairs += 1;
                    let input = context as usize * dim;
                    let l1 = &mut syn0[input..input + dim];
                    neu1e.iter_mut().for_each(|x| *x = 0.0);
                    for d in 0..=s.negative {
                        let (target, label) = if d == 0 {
                            (centre, 1.0f32)
                        } else {
                            let t = s.noise.sample(rng);
                            if t == centre {
                                continue;
                            }
                            (t, 0.0)
                        };
                        let o = target as usize * dim;
                        let l2 = &mut syn1[o..o + dim];
                        let f = dot8(l1, l2);
                        let g = if f > 6.0 {
                            (label - 1.0) * alpha
                        } else if f < -6.0 {
                            label * alpha
                        } else {
                            (label - 1.0 / (1.0 + (-f).exp())) * alpha
                        };
                        axpy8(g, l2, &mut neu1e);
                        axpy8(g, l1, l2);
                    }
                    axpy8(1.0, &neu1e, l1);
                }
            }
        }
    }
    pairs
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sgd_avx2<R: Rng>(s: &Sgd, syn0: &mut [f32], syn1: &mut [f32], rng: &mut R) -> u64 {
    sgd_body(s, syn0, syn1, rng)
}

fn sgd<R: Rng>(s: &Sgd, syn0: &mut [f32], syn1: &mut [f32], rng: &mut R) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // No FMA is enabled, so the arithmetic (and its rounding) is exactly that of the portable path.
        // SAFETY: the CPU supports AVX2 (checked above), the one target feature `sgd_avx2` enables.
        return unsafe { sgd_avx2(s, syn0, syn1, rng) };
    }
    sgd_body(s, syn0, syn1, rng)
}

/// Trains DeepWalk on the graph with `n` nodes and the given (training) edges.
pub fn deepwalk_embedding(
    n: usize,
    edges: &[[u32; 2]],
    cfg: &DeepWalkConfig,
    seed: u64,
) -> Result<(Embedding, DeepWalkInfo)> {
    if cfg.dim == 0 || cfg.walk_length == 0 || cfg.window == 0 || cfg.walks_per_node == 0 {
        return Err(Error::msg(
            "deepwalk: dim, walk length, walks per node and window must be positive",
        ));
    }
    let mut rng = RunRng::stream(seed, super::DW_STREAM).0;
    let t = std::time::Instant::now();
    let (corpus, starts) = random_walks(n, edges, cfg.walk_length, cfg.walks_per_node, &mut rng)?;
    let walk_seconds = t.elapsed().as_secs_f64();
    let mut counts = vec![0f64; n];
    for &v in &corpus {
        counts[v as usize] += 1.0;
    }
    let noise = Alias::new(&counts.iter().map(|c| c.powf(0.75)).collect::<Vec<_>>());
    let half = 0.5 / cfg.dim as f32;
    let mut syn0: Vec<f32> = (0..n * cfg.dim)
        .map(|_| rng.random_range(-half..half))
        .collect();
    let mut syn1 = vec![0.0f32; n * cfg.dim];
    let t = std::time::Instant::now();
    let s = Sgd {
        corpus: &corpus,
        starts: &starts,
        noise: &noise,
        dim: cfg.dim,
        window: cfg.window,
        negative: cfg.negative,
        epochs: cfg.epochs,
        lr: cfg.lr,
    };
    let pairs = sgd(&s, &mut syn0, &mut syn1, &mut rng);
    let sgd_seconds = t.elapsed().as_secs_f64();
    if syn0.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            epoch: cfg.epochs,
            what: "DeepWalk embedding".into(),
            value: f64::NAN,
        });
    }
    Ok((
        Embedding {
            n,
            dim: cfg.dim,
            data: syn0,
        },
        DeepWalkInfo {
            epochs: cfg.epochs,
            corpus_len: corpus.len(),
            pairs,
            walk_seconds,
            sgd_seconds,
        },
    ))
}
