//! Spectral clustering (SC) embedding for link prediction (Tang & Liu 2011, as a baseline in Kipf & Welling
//! 2016, Table 1).
//!
//! The embedding of node `i` is row `i` of `U = [u_1 … u_k]`, the unit eigenvectors of the normalised
//! Laplacian `L = I − D^{-1/2} A D^{-1/2}` of the **training** graph with the `k` (= 128) smallest
//! eigenvalues, after the trivial ones are skipped. The link score of `(i, j)` is `sigmoid(U_i · U_j)`.
//!
//! # Trivial eigenvectors and connected components
//!
//! * Every connected component `C` with at least one edge contributes an eigenvalue 0 with the eigenvector
//!   `D^{1/2} 1_C / ‖D^{1/2} 1_C‖` (the generalisation of the constant vector). These are known exactly,
//!   so they are not computed: the solver works on the orthogonal complement of their span (one vector
//!   per component, projected out after every operator application), and they are **not** part of the
//!   embedding. (A split of Cora's training graph has ~80 such components, Citeseer's ~400 — more than
//!   128 — so "the 128 smallest including the zero ones" would be an arbitrary basis of the null space.)
//! * Isolated nodes (no training edge) have no normalised Laplacian row; they get the zero embedding.
//! * Nodes of small components whose non-trivial eigenvalues are all above the 128th smallest of the
//!   whole graph (almost all of them) therefore also get zero rows: every pair with such a node, and every
//!   pair across components, scores exactly `sigmoid(0) = 0.5`.
//!
//! # Solver
//!
//! Lanczos with full reorthogonalisation ([`super::lanczos`]) on `p(S)`, where `S = P D^{-1/2} A D^{-1/2} P`
//! (`P` the projection off the trivial vectors) and `p` is the degree-`d` Chebyshev polynomial that is
//! bounded by 1 on `[−1, a]` and grows fast on `(a, 1]`: the wanted eigenvalues of `S` (the largest, i.e.
//! the smallest of `L = I − S`) become extreme and well separated. Ritz pairs are ranked and checked with
//! `S` itself. If the `k`-th eigenvalue found lies below `a` (too few eigenvalues above the cut), `a` is
//! lowered and the solve repeated (or plain Lanczos used when the cut would reach the bottom of the
//! spectrum). Lanczos from one start vector sees one direction per eigenspace, so after the first solve
//! further rounds search the orthogonal complement of the pairs found and admit anything above the
//! current `k`-th eigenvalue (repeated eigenvalues, e.g. of symmetric substructures), until a round finds
//! nothing new. Rounding noise of the eigenvectors on other components is cleared (each vector is kept
//! inside its own component), so cross-component pairs tie exactly. Memory is `O(n · steps)` (Pubmed: ~250 steps, ~40 MB); no dense
//! `n × n` matrix is formed.
// Index loops walk several parallel arrays (vectors, components, degrees) at once.
#![allow(clippy::needless_range_loop)]

use super::lanczos::{dot, lanczos_largest, LanczosOptions};
use super::Embedding;
use crate::rng::RunRng;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Settings of the SC embedding; the defaults are the paper's 128 dimensions and a filter that suits the
/// citation graphs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpectralConfig {
    /// Embedding dimension (number of non-trivial eigenvectors).
    pub dim: usize,
    /// Residual tolerance `‖S v − θ v‖` of each eigenpair.
    pub tol: f64,
    /// Degree of the Chebyshev filter (1 = plain Lanczos on `S`).
    pub filter_degree: usize,
    /// Initial filter cut `a` on the spectrum of `S` (eigenvalues of `L` below `1 − a` are amplified).
    pub filter_cut: f64,
    /// Cap on the Lanczos steps of each solve.
    pub max_steps: usize,
}

impl Default for SpectralConfig {
    fn default() -> Self {
        SpectralConfig {
            dim: 128,
            tol: 1e-6,
            filter_degree: 20,
            filter_cut: 0.8,
            max_steps: 1500,
        }
    }
}

/// Diagnostics of a spectral embedding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpectralInfo {
    /// Components with at least one edge (= trivial eigenvectors skipped).
    pub components: usize,
    /// Nodes with no training edge (zero embedding rows).
    pub isolated: usize,
    /// Eigenvalues of the normalised Laplacian of the kept eigenvectors, ascending.
    pub eigenvalues: Vec<f64>,
    /// Largest residual `‖S v − θ v‖` among the kept eigenpairs.
    pub max_residual: f64,
    /// Lanczos steps over all solves, restarts with a lower cut and rounds for repeated eigenvalues included.
    pub lanczos_steps: usize,
    /// The filter cut `a` finally used (lower than [`SpectralConfig::filter_cut`] if it had to be lowered).
    pub filter_cut: f64,
}

/// The training graph in the form the solver needs: `D^{-1/2} A D^{-1/2}` in CSR, the components.
pub struct NormalizedGraph {
    /// Number of nodes.
    pub n: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    weights: Vec<f64>,
    /// Component id per node (`u32::MAX` for isolated nodes).
    pub component: Vec<u32>,
    /// `D^{1/2} 1_C / ‖·‖` entries per node: the trivial eigenvector of its component, at that node.
    trivial: Vec<f64>,
    /// Components with at least one edge (each has one trivial eigenvector).
    pub num_components: usize,
    /// Nodes with no edge.
    pub isolated: usize,
}

impl NormalizedGraph {
    /// Builds from undirected edges `u < v` (no self-loops, no duplicates).
    pub fn new(n: usize, edges: &[[u32; 2]]) -> Result<Self> {
        let (indptr, indices) = vgae_data::Graph::adjacency_lists(n, edges)
            .map_err(|e| Error::msg(format!("spectral: {e}")))?;
        let deg: Vec<usize> = indptr.windows(2).map(|w| w[1] - w[0]).collect();
        let inv_sqrt: Vec<f64> = deg
            .iter()
            .map(|&d| if d > 0 { 1.0 / (d as f64).sqrt() } else { 0.0 })
            .collect();
        let mut weights = vec![0.0f64; indices.len()];
        for i in 0..n {
            for p in indptr[i]..indptr[i + 1] {
                weights[p] = inv_sqrt[i] * inv_sqrt[indices[p] as usize];
            }
        }
        // Components by BFS, in node order (deterministic ids).
        let mut component = vec![u32::MAX; n];
        let mut num_components = 0u32;
        let mut stack = Vec::new();
        for s in 0..n {
            if deg[s] == 0 || component[s] != u32::MAX {
                continue;
            }
            component[s] = num_components;
            stack.push(s);
            while let Some(x) = stack.pop() {
                for &y in &indices[indptr[x]..indptr[x + 1]] {
                    if component[y as usize] == u32::MAX {
                        component[y as usize] = num_components;
                        stack.push(y as usize);
                    }
                }
            }
            num_components += 1;
        }
        let mut vol = vec![0.0f64; num_components as usize];
        for i in 0..n {
            if deg[i] > 0 {
                vol[component[i] as usize] += deg[i] as f64;
            }
        }
        let trivial = (0..n)
            .map(|i| {
                if deg[i] > 0 {
                    (deg[i] as f64 / vol[component[i] as usize]).sqrt()
                } else {
                    0.0
                }
            })
            .collect();
        Ok(NormalizedGraph {
            n,
            indptr,
            indices,
            weights,
            component,
            trivial,
            num_components: num_components as usize,
            isolated: deg.iter().filter(|&&d| d == 0).count(),
        })
    }

    /// Removes the trivial eigenvectors' components and zeroes isolated nodes: `x ← P x`.
    pub fn project(&self, x: &mut [f64]) {
        let mut c = vec![0.0f64; self.num_components];
        for i in 0..self.n {
            let comp = self.component[i];
            if comp != u32::MAX {
                c[comp as usize] += self.trivial[i] * x[i];
            }
        }
        for i in 0..self.n {
            let comp = self.component[i];
            if comp == u32::MAX {
                x[i] = 0.0;
            } else {
                x[i] -= c[comp as usize] * self.trivial[i];
            }
        }
    }

    /// `y = P D^{-1/2} A D^{-1/2} P x` (x is assumed already projected; the result is projected again).
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        for i in 0..self.n {
            let mut s = 0.0f64;
            for p in self.indptr[i]..self.indptr[i + 1] {
                s += self.weights[p] * x[self.indices[p] as usize];
            }
            y[i] = s;
        }
        self.project(y);
    }

    /// The number of non-trivial eigenpairs available (nodes with an edge minus components).
    pub fn nontrivial_dim(&self) -> usize {
        self.n - self.isolated - self.num_components
    }
}

/// Computes the SC embedding of the graph with `n` nodes and the given (training) edges.
pub fn spectral_embedding(
    n: usize,
    edges: &[[u32; 2]],
    cfg: &SpectralConfig,
    seed: u64,
) -> Result<(Embedding, SpectralInfo)> {
    let g = NormalizedGraph::new(n, edges)?;
    let k = cfg.dim.min(g.nontrivial_dim());
    let mut rng = RunRng::stream(seed, super::SC_STREAM);
    let mut cut = cfg.filter_cut;
    // When every non-trivial eigenpair is wanted (small graphs), a filter separates nothing.
    let mut degree = if k == g.nontrivial_dim() {
        1
    } else {
        cfg.filter_degree.max(1)
    };
    // Converged eigenpairs so far: (eigenvalue of S, unit vector), descending.
    let mut found: Vec<(f64, Vec<f64>)> = Vec::new();
    let (mut steps, mut max_residual) = (0usize, 0.0f64);
    let mut round = 0;
    // Every exit is a `break` inside (k == 0 ends at once: nothing to find).
    loop {
        if k == 0 {
            break;
        }
        // Round 0 finds k pairs. Lanczos from one start vector sees one direction per eigenspace, so a
        // repeated eigenvalue can be missed: each later round searches the complement of what was found
        // and admits whatever lies above the current k-th value, until a round finds nothing new.
        let want = if round == 0 {
            k
        } else {
            k.min(32).min(g.nontrivial_dim() - found.len())
        };
        if want == 0 {
            break;
        }
        let (c, h) = ((cut - 1.0) / 2.0, (cut + 1.0) / 2.0);
        let mut tmp = vec![0.0f64; n];
        let mut prev = vec![0.0f64; n];
        let mut cur = vec![0.0f64; n];
        // Chebyshev T_d on [-1, cut] mapped to [-1, 1]: x -> (S x - c x) / h.
        let mut filter = |x: &[f64], y: &mut [f64]| {
            if degree == 1 {
                g.apply(x, y);
                return;
            }
            prev.copy_from_slice(x);
            g.apply(x, &mut tmp);
            for i in 0..n {
                cur[i] = (tmp[i] - c * x[i]) / h;
            }
            for _ in 2..=degree {
                g.apply(&cur, &mut tmp);
                for i in 0..n {
                    let next = 2.0 * (tmp[i] - c * cur[i]) / h - prev[i];
                    prev[i] = cur[i];
                    cur[i] = next;
                }
            }
            y.copy_from_slice(&cur);
        };
        let mut op = |x: &[f64], y: &mut [f64]| g.apply(x, y);
        let known = &found;
        let project = |x: &mut [f64]| {
            g.project(x);
            for _ in 0..2 {
                for (_, v) in known {
                    let d = dot(v, x);
                    for (xi, vi) in x.iter_mut().zip(v) {
                        *xi -= d * vi;
                    }
                }
            }
        };
        let opts = LanczosOptions {
            k: want,
            max_steps: cfg.max_steps,
            tol: cfg.tol,
            check_every: 25,
        };
        let r = match lanczos_largest(n, &mut op, &mut filter, &project, &opts, &mut rng.0) {
            Ok(r) => r,
            // The filter amplifies rounding in directions already deflated; plain Lanczos on S does not.
            // Redo the whole solve unfiltered once before giving up.
            Err(_) if degree > 1 => {
                degree = 1;
                found.clear();
                round = 0;
                continue;
            }
            Err(e) => return Err(e),
        };
        steps += r.steps;
        let kth = *r.values.last().unwrap_or(&1.0);
        if round == 0 && r.values.len() == k && kth <= cut && degree > 1 {
            // The k-th wanted eigenvalue sits in the damped band: lower the cut below it and redo; if
            // that would put the cut near the bottom of the spectrum (the filter's range would blow up),
            // use plain Lanczos on S instead.
            if kth - 0.1 > 0.0 {
                cut = kth - 0.1;
            } else {
                degree = 1;
            }
            found.clear();
            continue;
        }
        let floor = found.last().map_or(f64::NEG_INFINITY, |f| f.0) + 10.0 * cfg.tol;
        let mut new = 0;
        for (i, &theta) in r.values.iter().enumerate() {
            if round == 0 || theta > floor {
                found.push((theta, r.vectors[i * n..(i + 1) * n].to_vec()));
                max_residual = max_residual.max(r.residuals[i]);
                new += 1;
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found.truncate(k);
        round += 1;
        if (round > 1 && new == 0) || round > 8 {
            break;
        }
    }
    let mut emb = Embedding::zeros(n, cfg.dim);
    let mut info = SpectralInfo {
        components: g.num_components,
        isolated: g.isolated,
        eigenvalues: vec![],
        max_residual: 0.0,
        lanczos_steps: 0,
        filter_cut: cut,
    };
    // An eigenvector of L can always be chosen inside one connected component (the spectrum of L is the
    // union of its components' spectra). Lanczos returns such vectors up to rounding noise (~1e-9) on the
    // other components; the noise is cleared so that every pair across components scores exactly
    // sigmoid(0) and ties as it should, instead of being ordered by noise. A vector with more than 1e-10
    // of its squared mass outside its main component (a true mix: an eigenvalue shared by components)
    // is kept as is.
    let mut mass = vec![0.0f64; g.num_components];
    for (_, v) in found.iter_mut() {
        mass.iter_mut().for_each(|m| *m = 0.0);
        for i in 0..n {
            if g.component[i] != u32::MAX {
                mass[g.component[i] as usize] += v[i] * v[i];
            }
        }
        let total: f64 = mass.iter().sum();
        let (main, &top) = mass
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .expect("a non-trivial eigenvector implies a component");
        if total - top <= 1e-10 * total {
            for i in 0..n {
                if g.component[i] != main as u32 {
                    v[i] = 0.0;
                }
            }
            let nv = dot(v, v).sqrt();
            v.iter_mut().for_each(|x| *x /= nv);
        }
    }
    for (c, (theta, v)) in found.iter().enumerate() {
        for i in 0..n {
            emb.data[i * cfg.dim + c] = v[i] as f32;
        }
        info.eigenvalues.push(1.0 - theta);
    }
    info.max_residual = max_residual;
    info.lanczos_steps = steps;
    Ok((emb, info))
}
