//! Planetoid loading against the statistics of ../shared/data/README.md, and bad input.

use std::path::PathBuf;
use vgae_data::planetoid::{self, file_name, PARTS};
use vgae_data::source::DataSource;
use vgae_data::DataError;

/// The shared data directory; a test that needs it fails (never skips) when it is missing.
fn data_dir() -> PathBuf {
    let d = std::env::var_os("VGAE_DATA_DIR").map(PathBuf::from).expect(
        "VGAE_DATA_DIR is not set: these tests need the real Planetoid files (set it to ../shared/data, as .ci/run does)",
    );
    assert!(
        d.join("planetoid").is_dir(),
        "VGAE_DATA_DIR={} has no planetoid/ folder",
        d.display()
    );
    d
}

#[test]
#[allow(clippy::type_complexity)]
fn statistics_match_the_data_readme() {
    let src = DataSource::new(Some(data_dir()));
    // (name, nodes, undirected edges, features, classes, label counts, feature nnz, self-loops)
    let want: [(&str, usize, usize, usize, usize, &[usize], usize, usize); 3] = [
        (
            "cora",
            2708,
            5278,
            1433,
            7,
            &[351, 217, 418, 818, 426, 298, 180],
            17955 + 31261,
            0,
        ),
        (
            "citeseer",
            3327,
            4552,
            3703,
            6,
            &[249, 590, 668, 701, 596, 508],
            31992 + 73173,
            248,
        ),
        (
            "pubmed",
            19717,
            44324,
            500,
            3,
            &[4103, 7739, 7875],
            988031,
            6,
        ),
    ];
    for (name, nodes, edges, feats, classes, counts, nnz, loops) in want {
        let g = src.load_graph(name).unwrap();
        let i = g.info();
        assert_eq!(
            (i.nodes, i.edges, i.features, i.classes),
            (nodes, edges, feats, classes),
            "{name}"
        );
        assert_eq!(i.label_counts, counts, "{name}");
        assert_eq!(i.feature_nnz, nnz, "{name} feature nnz (allx + tx)");
        assert_eq!(i.self_loops_dropped, loops, "{name}");
        assert!(g.edges.iter().all(|&[u, v]| u < v && (v as usize) < nodes));
    }
}

#[test]
fn citeseer_pads_isolated_test_ids_and_reorders_test_rows() {
    let g = DataSource::new(Some(data_dir()))
        .load_graph("citeseer")
        .unwrap();
    let f = g.features.as_ref().unwrap();
    let labels = g.labels.as_ref().unwrap();
    // 15 ids in the test range are absent from test.index: zero feature rows, no label.
    let text =
        std::fs::read_to_string(data_dir().join("planetoid/ind.citeseer.test.index")).unwrap();
    let test: Vec<usize> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    let missing: Vec<usize> = (2312..3327).filter(|i| !test.contains(i)).collect();
    assert_eq!(missing.len(), 15);
    for &m in &missing {
        assert_eq!(f.row(m).0.len(), 0);
        assert_eq!(labels[m], None);
    }
    assert_eq!(labels.iter().filter(|l| l.is_some()).count(), 3312);
}

#[test]
fn embedded_cora_equals_the_shared_files() {
    let a = planetoid::load_embedded_cora().unwrap();
    let b = planetoid::load_dir("cora", &data_dir().join("planetoid")).unwrap();
    assert_eq!(a.edges, b.edges);
    assert_eq!(a.features, b.features);
    assert_eq!(a.labels, b.labels);
    // Cora's test rows are reordered: node test.index[0] carries row 0 of tx.
    let tx = std::fs::read_to_string(data_dir().join("planetoid/ind.cora.test.index")).unwrap();
    let first: usize = tx.lines().next().unwrap().trim().parse().unwrap();
    assert!(first >= 1708);
}

fn cora_files() -> Vec<(PathBuf, Vec<u8>)> {
    PARTS
        .iter()
        .map(|p| {
            let path = data_dir().join("planetoid").join(file_name("cora", p));
            (path.clone(), std::fs::read(path).unwrap())
        })
        .collect()
}

fn with_part(part: &str, bytes: Vec<u8>) -> Result<vgae_data::Graph, DataError> {
    let mut files = cora_files();
    let i = PARTS.iter().position(|p| *p == part).unwrap();
    files[i].1 = bytes;
    planetoid::from_bytes("cora", &files)
}

#[test]
fn truncated_pickles_are_errors_naming_the_file() {
    let files = cora_files();
    for part in ["x", "y", "graph", "allx"] {
        let full = &files[PARTS.iter().position(|p| *p == part).unwrap()].1;
        for cut in [0, 1, 2, 40, full.len() / 3, full.len() / 2, full.len() - 1] {
            let err = with_part(part, full[..cut].to_vec()).expect_err("truncated file must fail");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("ind.cora.{part}")),
                "error does not name the file: {msg}"
            );
        }
    }
}

#[test]
fn declared_lengths_beyond_the_file_are_rejected_without_allocating() {
    let files = cora_files();
    let x = files[0].1.clone();
    // The first BINSTRING ('T' + u32 length) holds indptr bytes: claim 4 GB.
    let pos = x.iter().position(|&b| b == b'T').unwrap();
    let mut bad = x.clone();
    bad[pos + 1..pos + 5].copy_from_slice(&u32::MAX.to_le_bytes());
    let msg = with_part("x", bad).unwrap_err().to_string();
    assert!(
        msg.contains("ind.cora.x") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn pickles_naming_other_globals_are_refused() {
    // A protocol-2 pickle calling os.system('echo pwned').
    let evil = b"\x80\x02cos\nsystem\nq\x00U\x0becho pwnedq\x01\x85q\x02Rq\x03.".to_vec();
    let msg = with_part("graph", evil).unwrap_err().to_string();
    assert!(
        msg.contains("os.system") && msg.contains("ind.cora.graph"),
        "{msg}"
    );
    // builtins.eval via the Python 2 module name.
    let evil = b"\x80\x02c__builtin__\neval\nq\x00.".to_vec();
    assert!(with_part("x", evil)
        .unwrap_err()
        .to_string()
        .contains("__builtin__.eval"));
}

#[test]
fn wrong_shapes_and_bad_test_index_are_errors() {
    let files = cora_files();
    // tx given as x: column count agrees but the label rows no longer match.
    assert!(with_part("tx", files[0].1.clone()).is_err());
    let msg = with_part("test.index", b"1708\n1709\nnot-a-number\n".to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 3") && msg.contains("ind.cora.test.index"),
        "{msg}"
    );
    // A node id far outside the graph in test.index.
    let msg = with_part("test.index", b"999999999\n".to_vec())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ind.cora.test.index"), "{msg}");
}

#[test]
fn unknown_and_missing_datasets_say_what_was_expected() {
    let src = DataSource::new(Some(data_dir()));
    let msg = src.load_graph("coraa").unwrap_err().to_string();
    assert!(
        msg.contains("unknown dataset 'coraa'") && msg.contains("citeseer"),
        "{msg}"
    );
}

#[test]
fn empty_or_non_ascii_dtype_codes_are_errors_not_panics() {
    // ind.cora.x holds `numpy.dtype('i4', 0, 1)` as SHORT_BINSTRING `U\x02i4`: make the code empty, then
    // a two-byte UTF-8 letter (slicing either at byte 1 used to panic).
    let files = cora_files();
    let x = &files[0].1;
    let find = |needle: &[u8]| x.windows(needle.len()).position(|w| w == needle).unwrap();
    let at = find(b"U\x02i4K\x00K\x01");
    for code in [&b"U\x00"[..], &b"U\x02\xc3\xa9"[..], &b"U\x02f0"[..]] {
        let mut bad = x[..at].to_vec();
        bad.extend_from_slice(code);
        bad.extend_from_slice(&x[at + 4..]);
        let msg = with_part("x", bad).unwrap_err().to_string();
        assert!(
            msg.contains("ind.cora.x") && msg.contains("unknown dtype"),
            "{msg}"
        );
    }
}
