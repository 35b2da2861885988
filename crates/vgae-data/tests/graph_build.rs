//! `Graph` built from caller data: canonicalisation and every validation error, with its message.

use vgae_data::{CsrMatrix, Graph};

fn msg<T: std::fmt::Debug>(r: vgae_data::Result<T>) -> String {
    r.expect_err("expected a validation error").to_string()
}

fn path4() -> Graph {
    Graph::from_edges(4, &[[0, 1], [1, 2], [2, 3]]).unwrap()
}

#[test]
fn from_edges_canonicalises_and_counts_self_loops() {
    let g = Graph::from_edges(
        5,
        &[
            [3, 1],
            [1, 3],
            [1, 3],
            [0, 4],
            [4, 0],
            [2, 2],
            [4, 4],
            [0, 2],
        ],
    )
    .unwrap();
    assert_eq!(g.edges, vec![[0, 2], [0, 4], [1, 3]]);
    assert_eq!(g.self_loops_dropped, 2);
    assert_eq!(g.num_nodes, 5);
    assert_eq!(g.name, "graph");
    assert_eq!(g.num_features(), 0);
    assert!(g.features.is_none() && g.labels.is_none() && g.edge_weights.is_none());
    assert_eq!(g.num_classes, 0);
    // Isolated nodes are kept: node count is the caller's, not the largest id seen.
    assert_eq!(
        Graph::from_edges(10, &[[0, 1]])
            .unwrap()
            .info()
            .isolated_nodes,
        8
    );
    assert_eq!(Graph::from_edges(3, &[]).unwrap().edges.len(), 0);
}

#[test]
fn from_edges_rejects_bad_ids_and_empty_graphs() {
    assert_eq!(
        msg(Graph::from_edges(
            5,
            &[[0, 1], [1, 2], [2, 3], [0, 9], [7, 8]]
        )),
        "graph: edge 3 is (0, 9) but the graph has 5 nodes"
    );
    // The first endpoint alone out of range, and the boundary id == num_nodes.
    assert_eq!(
        msg(Graph::from_edges(5, &[[5, 0]])),
        "graph: edge 0 is (5, 0) but the graph has 5 nodes"
    );
    assert!(Graph::from_edges(5, &[[4, 0]]).is_ok());
    assert_eq!(
        msg(Graph::from_edges(0, &[])),
        "graph: num_nodes is 0: a graph needs at least one node"
    );
}

#[test]
fn with_name_renames() {
    assert_eq!(path4().with_name("toy").name, "toy");
}

#[test]
fn dense_features_round_trip_to_csr() {
    let data = vec![
        1.0, 0.0, 2.0, //
        0.0, 0.0, 0.0, //
        0.0, -3.5, 0.0, //
        4.0, 5.0, 6.0,
    ];
    let g = path4().with_dense_features(data.clone(), 3).unwrap();
    let x = g.features.as_ref().unwrap();
    assert_eq!((x.rows, x.cols, x.nnz()), (4, 3, 6));
    assert_eq!(x.indptr, vec![0, 2, 2, 3, 6]);
    assert_eq!(x.indices, vec![0, 2, 1, 0, 1, 2]);
    assert_eq!(x.data, vec![1.0, 2.0, -3.5, 4.0, 5.0, 6.0]);
    assert_eq!(g.num_features(), 3);
    // Densify back: every value, zeros included, in its place.
    let mut back = vec![0.0f32; 12];
    for r in 0..4 {
        let (c, v) = x.row(r);
        for (&c, &v) in c.iter().zip(v) {
            back[r * 3 + c as usize] = v;
        }
    }
    assert_eq!(back, data);
}

#[test]
fn dense_features_errors() {
    assert_eq!(
        msg(path4().with_dense_features(vec![0.0; 7], 2)),
        "graph: 7 feature values, expected 4 nodes x 2 dims = 8"
    );
    assert_eq!(
        msg(path4().with_dense_features(vec![], 0)),
        "graph: feature dim is 0: expected at least one feature per node"
    );
    let mut d = vec![1.0; 8];
    d[5] = f32::NAN;
    assert_eq!(
        msg(path4().with_dense_features(d.clone(), 2)),
        "graph: feature row 2, column 1 is NaN, expected a finite number"
    );
    d[5] = 1.0;
    d[6] = f32::NEG_INFINITY;
    assert_eq!(
        msg(path4().with_dense_features(d, 2)),
        "graph: feature row 3, column 0 is -inf, expected a finite number"
    );
}

fn csr4() -> CsrMatrix {
    CsrMatrix::from_triplets(4, 3, vec![(0, 0, 1.0), (2, 2, 2.0), (3, 1, 3.0)])
}

#[test]
fn sparse_features_accepts_valid_csr() {
    let g = path4().with_sparse_features(csr4()).unwrap();
    assert_eq!(g.features, Some(csr4()));
    assert_eq!(g.num_features(), 3);
}

#[test]
fn sparse_features_errors() {
    let with = |f: fn(&mut CsrMatrix)| {
        let mut x = csr4();
        f(&mut x);
        msg(path4().with_sparse_features(x))
    };
    assert_eq!(
        msg(path4().with_sparse_features(CsrMatrix::identity(3))),
        "graph: features have 3 rows, expected one per node (4)"
    );
    assert_eq!(
        with(|x| x.cols = 0),
        "graph: features have 0 columns: expected at least one"
    );
    assert_eq!(
        with(|x| {
            x.indptr.pop();
        }),
        "graph: features indptr has length 4, expected rows + 1 = 5"
    );
    assert_eq!(
        with(|x| {
            x.data.pop();
        }),
        "graph: features have 3 column indices but 2 values, expected equal counts"
    );
    assert_eq!(
        with(|x| x.indptr = vec![1, 1, 1, 2, 3]),
        "graph: features indptr starts at 1, expected 0"
    );
    assert_eq!(
        with(|x| x.indptr = vec![0, 2, 1, 2, 3]),
        "graph: features indptr decreases at row 1 (2 then 1), expected non-decreasing"
    );
    assert_eq!(
        with(|x| x.indptr = vec![0, 1, 1, 2, 2]),
        "graph: features indptr ends at 2, expected nnz = 3"
    );
    assert_eq!(
        with(|x| x.indices[1] = 3),
        "graph: features row 2 holds column 3, but the matrix has 3 columns"
    );
    assert_eq!(
        with(|x| x.data[2] = f32::INFINITY),
        "graph: feature row 3, column 1 is inf, expected a finite number"
    );
}

#[test]
fn labels_set_num_classes() {
    let g = path4()
        .with_labels(vec![Some(2), None, Some(0), Some(6)])
        .unwrap();
    assert_eq!(g.num_classes, 7);
    assert_eq!(g.labels, Some(vec![Some(2), None, Some(0), Some(6)]));
    assert_eq!(g.info().label_counts, vec![1, 0, 1, 0, 0, 0, 1]);
    assert_eq!(path4().with_labels(vec![None; 4]).unwrap().num_classes, 0);
    assert_eq!(
        msg(path4().with_labels(vec![Some(0); 3])),
        "graph: 3 labels, expected one per node (4; None where unlabelled)"
    );
}

#[test]
fn edge_weights_checked_and_fingerprinted() {
    let plain = path4();
    let g = path4().with_edge_weights(vec![1.0, 0.5, 2.0]).unwrap();
    assert_eq!(g.edge_weights, Some(vec![1.0, 0.5, 2.0]));
    assert_ne!(g.fingerprint(), plain.fingerprint());
    let g2 = path4().with_edge_weights(vec![1.0, 0.5, 3.0]).unwrap();
    assert_ne!(g.fingerprint(), g2.fingerprint());
    assert_eq!(
        msg(path4().with_edge_weights(vec![1.0, 1.0])),
        "graph: 2 edge weights, expected one per edge (3, in `edges` order)"
    );
    assert_eq!(
        msg(path4().with_edge_weights(vec![1.0, 0.0, 1.0])),
        "graph: edge weight 1 (edge (1, 2)) is 0, expected a finite number > 0"
    );
    assert_eq!(
        msg(path4().with_edge_weights(vec![1.0, 1.0, f32::NAN])),
        "graph: edge weight 2 (edge (2, 3)) is NaN, expected a finite number > 0"
    );
    assert!(path4().with_edge_weights(vec![1.0, -1.0, 1.0]).is_err());
}

#[test]
fn unweighted_fingerprint_is_unchanged() {
    // The value checkpoints and saved splits already carry for this graph (computed before edge weights
    // existed); a change here orphans them.
    assert_eq!(path4().fingerprint(), PATH4_FINGERPRINT);
}

#[test]
fn train_graph_keeps_weights_aligned() {
    use rand::SeedableRng;
    let pairs: Vec<[u32; 2]> = (0..30u32).map(|i| [i, (i * 7 + 3) % 30]).collect();
    let g = Graph::from_edges(30, &pairs).unwrap();
    let w: Vec<f32> = (0..g.edges.len()).map(|i| 1.0 + i as f32).collect();
    let g = g.with_edge_weights(w.clone()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let s = vgae_data::EdgeSplit::new(&g, &Default::default(), 3, &mut rng).unwrap();
    let t = s.train_graph(&g);
    let tw = t.edge_weights.as_ref().unwrap();
    assert_eq!(tw.len(), t.edges.len());
    assert!(t.edges.len() < g.edges.len());
    for (e, x) in t.edges.iter().zip(tw) {
        assert_eq!(*x, w[g.edges.binary_search(e).unwrap()]);
    }
}

#[test]
fn from_edge_list_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("toy.csv");
    std::fs::write(&p, "source,target\na,b\nb,c\nc,a\n").unwrap();
    let g = Graph::from_edge_list(&p).unwrap();
    assert_eq!((g.name.as_str(), g.num_nodes), ("toy", 3));
    assert_eq!(g.edges, vec![[0, 1], [0, 2], [1, 2]]);
    assert!(Graph::from_edge_list(dir.path().join("missing.csv")).is_err());
}

/// sha256(4u64 LE, then (0,1) (1,2) (2,3) as u32 LE)[..8]: the pre-weights fingerprint formula.
const PATH4_FINGERPRINT: &str = "974beb5d8b18e75a";
