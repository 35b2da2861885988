//! User edge lists: formats, id mapping, features, and errors with line numbers.

use vgae_data::edgelist::{load, EdgeListOptions};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn csv_tsv_and_whitespace_with_headers_weights_and_string_ids() {
    let d = tempfile::tempdir().unwrap();
    let csv = write(&d, "g.csv", "source,target,weight\nalice,bob,1.0\nbob,carol,2\ncarol,alice,0.5\nalice,alice,1\nbob,alice,1\n");
    let g = load(&csv, &EdgeListOptions::default()).unwrap();
    assert_eq!(g.num_nodes, 3);
    assert_eq!(g.edges, vec![[0, 1], [0, 2], [1, 2]]);
    assert_eq!(g.self_loops_dropped, 1);
    let tsv = write(&d, "g.tsv", "# comment\n10\t20\n20\t30\n");
    let g = load(&tsv, &EdgeListOptions::default()).unwrap();
    assert_eq!((g.num_nodes, g.edges.len()), (3, 2));
    let ws = write(&d, "g.txt", "1 2\n2 3\n3 4\n");
    assert_eq!(
        load(&ws, &EdgeListOptions::default()).unwrap().edges.len(),
        3
    );
}

#[test]
fn features_file_maps_to_the_same_ids() {
    let d = tempfile::tempdir().unwrap();
    let e = write(&d, "e.csv", "a,b\nb,c\n");
    let f = write(&d, "f.csv", "id,f0,f1\nc,0,1.5\na,2,0\n");
    let g = load(&e, &EdgeListOptions { features: Some(f) }).unwrap();
    let x = g.features.unwrap();
    assert_eq!((x.rows, x.cols), (3, 2));
    assert_eq!(x.row(0), (&[0u32][..], &[2.0f32][..])); // a
    assert_eq!(x.row(1).0.len(), 0); // b has no row
    assert_eq!(x.row(2), (&[1u32][..], &[1.5f32][..])); // c
}

#[test]
fn malformed_lines_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(&d, "bad.csv", "1,2\n2,3\n4\n");
    let msg = load(&p, &EdgeListOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("bad.csv") && msg.contains("line 3"), "{msg}");
    let p = write(&d, "w.csv", "1,2,1\n2,3,abc\n");
    let msg = load(&p, &EdgeListOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("line 2") && msg.contains("weight"), "{msg}");
    let p = write(&d, "empty.csv", "# nothing\n");
    assert!(load(&p, &EdgeListOptions::default())
        .unwrap_err()
        .to_string()
        .contains("no edges"));
    let e = write(&d, "e.csv", "a,b\n");
    let f = write(&d, "f.csv", "a,1\nzzz,2\n");
    let msg = load(&e, &EdgeListOptions { features: Some(f) })
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("f.csv") && msg.contains("line 2") && msg.contains("zzz"),
        "{msg}"
    );
}
