//! The GCN propagation matrix Â = D^-1/2 (A + I) D^-1/2, built from the training edges only; with edge
//! weights, A holds the weights and D the weighted degrees (the self-loop keeps weight 1). Directed graphs
//! use the gravity paper's out-degree normalisation D_out^-1 (A + I), which is not symmetric.

use vgae_data::CsrMatrix;

/// Â for `n` nodes and undirected training edges (`u < v`, each once).
pub fn normalized_adjacency(n: usize, edges: &[[u32; 2]]) -> CsrMatrix {
    let mut deg = vec![1f64; n]; // the self-loop
    for &[u, v] in edges {
        deg[u as usize] += 1.0;
        deg[v as usize] += 1.0;
    }
    let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    let w = |u: u32, v: u32| (inv_sqrt[u as usize] * inv_sqrt[v as usize]) as f32;
    let mut t = Vec::with_capacity(2 * edges.len() + n);
    for &[u, v] in edges {
        t.push((u, v, w(u, v)));
        t.push((v, u, w(u, v)));
    }
    t.extend((0..n as u32).map(|i| (i, i, w(i, i))));
    CsrMatrix::from_triplets(n, n, t)
}

/// Weighted Â: entry (u, v) = w_uv / sqrt(d_u d_v) with d_u = 1 + Σ_v w_uv, for undirected training edges
/// (`u < v`, each once) and their positive weights.
pub fn weighted_normalized_adjacency(n: usize, edges: &[[u32; 2]], weights: &[f32]) -> CsrMatrix {
    let mut deg = vec![1f64; n]; // the self-loop, weight 1
    for (&[u, v], &w) in edges.iter().zip(weights) {
        deg[u as usize] += w as f64;
        deg[v as usize] += w as f64;
    }
    let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    let a = |u: u32, v: u32, w: f64| (w * inv_sqrt[u as usize] * inv_sqrt[v as usize]) as f32;
    let mut t = Vec::with_capacity(2 * edges.len() + n);
    for (&[u, v], &w) in edges.iter().zip(weights) {
        t.push((u, v, a(u, v, w as f64)));
        t.push((v, u, a(u, v, w as f64)));
    }
    t.extend((0..n as u32).map(|i| (i, i, a(i, i, 1.0))));
    CsrMatrix::from_triplets(n, n, t)
}

/// The directed propagation matrix D_out^-1 (A + I) of the gravity paper (Section 3.3.1): row i averages
/// node i and its out-neighbours, A_ij = 1 (or the arc's weight) for each training arc i → j.
pub fn out_degree_normalized_adjacency(
    n: usize,
    arcs: &[[u32; 2]],
    weights: Option<&[f32]>,
) -> CsrMatrix {
    let w = |k: usize| weights.map_or(1.0, |w| w[k] as f64);
    let mut deg = vec![1f64; n]; // the self-loop, weight 1
    for (k, &[u, _]) in arcs.iter().enumerate() {
        deg[u as usize] += w(k);
    }
    let mut t = Vec::with_capacity(arcs.len() + n);
    for (k, &[u, v]) in arcs.iter().enumerate() {
        t.push((u, v, (w(k) / deg[u as usize]) as f32));
    }
    t.extend((0..n as u32).map(|i| (i, i, (1.0 / deg[i as usize]) as f32)));
    CsrMatrix::from_triplets(n, n, t)
}
