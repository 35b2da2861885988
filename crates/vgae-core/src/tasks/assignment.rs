//! The assignment problem (Hungarian method, shortest augmenting paths with potentials, O(r² c)): the
//! matching of rows to distinct columns of largest total weight, as `scipy.optimize.linear_sum_assignment`
//! with `maximize=True` finds it.
//!
//! Hand-written rather than `pathfinding::kuhn_munkres`: fifty lines against a dependency, and it takes f64
//! weights and rectangular matrices either way round.

/// The best matching of a `[rows, cols]` row-major weight matrix: `(total weight, column of each row)` when
/// `rows <= cols`, else `(total weight, row of each column)` — every item of the shorter side is matched.
pub fn max_weight_matching(w: &[f64], rows: usize, cols: usize) -> (f64, Vec<usize>) {
    assert_eq!(w.len(), rows * cols, "weights must be [rows, cols]");
    if rows <= cols {
        let m = min_cost(&|i, j| -w[i * cols + j], rows, cols);
        (m.iter().enumerate().map(|(i, &j)| w[i * cols + j]).sum(), m)
    } else {
        let m = min_cost(&|j, i| -w[i * cols + j], cols, rows);
        (m.iter().enumerate().map(|(j, &i)| w[i * cols + j]).sum(), m)
    }
}

/// Minimum-cost assignment of `n <= m` rows to distinct columns; returns the column of each row.
fn min_cost(cost: &dyn Fn(usize, usize) -> f64, n: usize, m: usize) -> Vec<usize> {
    // 1-based arrays: u / v are row / column potentials, p[j] the row matched to column j (0 = none).
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; m + 1]);
    let (mut p, mut way) = (vec![0usize; m + 1], vec![0usize; m + 1]);
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=m {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            col_of[p[j] - 1] = j - 1;
        }
    }
    col_of
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every matching of the shorter side, by brute force.
    fn brute(w: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(w: &[f64], r: usize, rows: usize, cols: usize, used: &mut Vec<bool>) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.max(w[r * cols + c] + go(w, r + 1, rows, cols, used));
                    used[c] = false;
                }
            }
            best
        }
        if rows <= cols {
            go(w, 0, rows, cols, &mut vec![false; cols])
        } else {
            let t: Vec<f64> = (0..cols * rows)
                .map(|k| w[(k % rows) * cols + k / rows])
                .collect();
            go(&t, 0, cols, rows, &mut vec![false; rows])
        }
    }

    #[test]
    fn matches_brute_force_on_small_matrices() {
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) % 10) as f64
        };
        for (r, c) in [(1, 1), (3, 3), (4, 6), (6, 4), (5, 5), (2, 7)] {
            for _ in 0..20 {
                let w: Vec<f64> = (0..r * c).map(|_| next()).collect();
                let (total, m) = max_weight_matching(&w, r, c);
                assert_eq!(total, brute(&w, r, c), "{r}x{c} {w:?}");
                let mut seen = m.clone();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), r.min(c), "matching is injective");
            }
        }
    }
}
