//! The GCN propagation matrix Â = D^-1/2 (A + I) D^-1/2, built from the training edges only.

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
