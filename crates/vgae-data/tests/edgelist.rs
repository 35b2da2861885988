//! User edge lists: formats, id mapping, features, and errors with line numbers.

use vgae_data::edgelist::{load, load_with_format, Delimiter, EdgeListOptions, HeaderMode, IdType};

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
    let g = load(
        &e,
        &EdgeListOptions {
            features: Some(f),
            ..Default::default()
        },
    )
    .unwrap();
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
    let msg = load(
        &e,
        &EdgeListOptions {
            features: Some(f),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("f.csv") && msg.contains("line 2") && msg.contains("zzz"),
        "{msg}"
    );
}

fn auto() -> EdgeListOptions {
    EdgeListOptions::default()
}

#[test]
fn a_header_of_any_name_is_found_and_reported() {
    let d = tempfile::tempdir().unwrap();
    // Integer ids under a header the old reader did not know: 3 nodes / 2 edges, not 5 / 3.
    let p = write(&d, "k.csv", "person_a,person_b\n0,1\n1,2\n");
    let (g, f) = load_with_format(&p, &auto()).unwrap();
    assert_eq!((g.num_nodes, g.edges.len()), (3, 2));
    assert!(f.header && f.header_reason.contains("column 1"), "{f:?}");
    assert_eq!(
        f.columns.as_deref(),
        Some(&["person_a".to_string(), "person_b".to_string()][..])
    );
    assert_eq!(
        (f.delimiter, f.id_type, f.weight_column.clone()),
        (Delimiter::Comma, IdType::Integer, None)
    );
    // String ids: the header's names appear on no later row.
    let p = write(
        &d,
        "m.csv",
        "source,target\nMyriel,Napoleon\nMyriel,Mlle.Baptistine\n",
    );
    let (g, f) = load_with_format(&p, &auto()).unwrap();
    assert_eq!((g.num_nodes, f.id_type), (3, IdType::String));
    assert!(f.header_reason.contains("neither"), "{f:?}");
    // --header no keeps the first row as an edge, --header yes drops it.
    let p = write(&d, "s.csv", "a,b\nb,c\n");
    assert_eq!(load(&p, &auto()).unwrap().edges.len(), 2);
    let yes = EdgeListOptions {
        header: HeaderMode::Yes,
        ..auto()
    };
    assert_eq!(load(&p, &yes).unwrap().edges.len(), 1);
    let p = write(&d, "k2.csv", "person_a,person_b\n0,1\n");
    let no = EdgeListOptions {
        header: HeaderMode::No,
        ..auto()
    };
    assert_eq!(load(&p, &no).unwrap().num_nodes, 4);
}

#[test]
fn quoted_fields_comments_and_each_delimiter() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        &d,
        "q.csv",
        "# exported by hand\n\"Smith, John\",\"Doe, Jane\"\n\"Doe, Jane\",Roe\n\n# end\n",
    );
    let (g, f) = load_with_format(&p, &auto()).unwrap();
    assert_eq!(
        g.node_ids.as_deref().unwrap(),
        ["Smith, John", "Doe, Jane", "Roe"]
    );
    assert!(!f.header, "{f:?}");
    let p = write(&d, "t.tsv", "u\tv\n\"a b\"\tc\nc\td\n");
    let (g, f) = load_with_format(&p, &auto()).unwrap();
    assert_eq!(
        (f.delimiter, f.header, g.num_nodes),
        (Delimiter::Tab, true, 3)
    );
    assert_eq!(g.node_ids.as_ref().unwrap()[0], "a b");
    let p = write(&d, "w.txt", "  1   2  0.5\n2 3\t 1.5\n");
    let (g, f) = load_with_format(&p, &auto()).unwrap();
    assert_eq!(f.delimiter, Delimiter::Whitespace);
    assert_eq!(g.edge_weights.as_deref(), Some(&[0.5f32, 1.5][..]));
    // A given delimiter wins over detection.
    let p = write(&d, "semi.txt", "a,x b,y\nb,y c\n");
    let ws = EdgeListOptions {
        delimiter: Some(Delimiter::Whitespace),
        ..auto()
    };
    assert_eq!(
        load(&p, &ws).unwrap().node_ids.unwrap(),
        ["a,x", "b,y", "c"]
    );
    let p = write(&d, "open.csv", "a,b\n\"c,d\n");
    let e = load(&p, &auto()).unwrap_err().to_string();
    assert!(e.contains("open.csv"), "{e}");
}

#[test]
fn weights_are_kept_and_enter_the_fingerprint() {
    let d = tempfile::tempdir().unwrap();
    let plain = write(&d, "p.csv", "a,b\nb,c\nc,d\n");
    let w = write(
        &d,
        "w.csv",
        "source,target,weight\na,b,2\nb,c,0.5\nc,d,1\nd,e,0\nb,a,7\n",
    );
    let w2 = write(
        &d,
        "w2.csv",
        "source,target,weight\na,b,2\nb,c,0.5\nc,d,3\n",
    );
    let gp = load(&plain, &auto()).unwrap();
    let (gw, f) = load_with_format(&w, &auto()).unwrap();
    assert_eq!(gw.edges, gp.edges);
    assert_eq!(gw.edge_weights.as_deref(), Some(&[2.0f32, 0.5, 1.0][..]));
    assert_eq!(f.weight_column.as_deref(), Some("weight"));
    assert_eq!(
        (f.rows_nonpositive_weight, f.duplicate_weights_differing),
        (1, 1)
    );
    assert_ne!(gw.fingerprint(), gp.fingerprint());
    assert_ne!(gw.fingerprint(), load(&w2, &auto()).unwrap().fingerprint());
    // Rows must agree on their width.
    let mixed = write(&d, "mixed.csv", "1,2\n2,3,1\n");
    let e = load(&mixed, &auto()).unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("every row"), "{e}");
}

#[test]
fn node_ids_are_kept_and_fingerprinted() {
    let d = tempfile::tempdir().unwrap();
    let a = write(&d, "a.csv", "x,y\ny,z\n");
    let b = write(&d, "b.csv", "p,q\nq,r\n");
    let (ga, gb) = (load(&a, &auto()).unwrap(), load(&b, &auto()).unwrap());
    assert_eq!(ga.node_ids.as_deref().unwrap(), ["x", "y", "z"]);
    assert_eq!(
        (ga.node_id(2), ga.edges.clone()),
        ("z".to_string(), gb.edges.clone())
    );
    assert_ne!(ga.fingerprint(), gb.fingerprint());
    let bare = vgae_data::Graph::from_edges(3, &[[0, 1], [1, 2]]).unwrap();
    assert_eq!(bare.node_id(2), "2");
    assert!(bare
        .clone()
        .with_node_ids(vec!["a".into(), "a".into(), "b".into()])
        .is_err());
    assert!(bare.with_node_ids(vec!["a".into()]).is_err());
}
