//! Planetoid citation graphs (Cora, Citeseer, Pubmed) from the eight `ind.<name>.*` files, with the
//! loader semantics of Kipf & Welling's reference code.

use crate::error::{DataError, Result};
use crate::graph::{CsrMatrix, Graph};
use crate::pickle::{floats, ints, Pickle};
use std::path::{Path, PathBuf};

/// The Planetoid datasets, lower-case, as `--dataset` accepts them.
pub const NAMES: [&str; 3] = ["cora", "citeseer", "pubmed"];
/// The eight file suffixes of one dataset (`ind.<name>.<part>`), all required.
pub const PARTS: [&str; 8] = ["x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"];

/// Cora's files, committed so that the default dataset needs no network and no data directory.
pub fn embedded_cora(part: &str) -> Option<&'static [u8]> {
    Some(match part {
        "x" => include_bytes!("../data/cora/ind.cora.x"),
        "y" => include_bytes!("../data/cora/ind.cora.y"),
        "tx" => include_bytes!("../data/cora/ind.cora.tx"),
        "ty" => include_bytes!("../data/cora/ind.cora.ty"),
        "allx" => include_bytes!("../data/cora/ind.cora.allx"),
        "ally" => include_bytes!("../data/cora/ind.cora.ally"),
        "graph" => include_bytes!("../data/cora/ind.cora.graph"),
        "test.index" => include_bytes!("../data/cora/ind.cora.test.index"),
        _ => return None,
    })
}

/// `ind.<name>.<part>`, the released file name.
pub fn file_name(name: &str, part: &str) -> String {
    format!("ind.{name}.{part}")
}

/// The documented reconstruction of the lost `ind.pubmed.allx` (6 significant digits), relative to the
/// folder holding the other Planetoid files (see the shared data README).
pub const PUBMED_ALLX_APPROX: &str = "../pubmed-allx-approx/ind.pubmed.allx.approx6sig";

/// Loads `ind.<name>.*` from a directory. For Pubmed without `ind.pubmed.allx`, the documented
/// reconstruction beside it is used and `Graph::note` says so.
pub fn load_dir(name: &str, dir: &Path) -> Result<Graph> {
    let mut files = Vec::with_capacity(PARTS.len());
    let mut note = None;
    for part in PARTS {
        let mut p = dir.join(file_name(name, part));
        if name == "pubmed"
            && part == "allx"
            && !p.exists()
            && dir.join(PUBMED_ALLX_APPROX).is_file()
        {
            p = dir.join(PUBMED_ALLX_APPROX);
            note = Some(format!(
                "ind.pubmed.allx is missing; using its reconstruction {} (feature values rounded to 6 significant digits)",
                p.display()
            ));
        }
        let bytes = crate::error::read_file(&p)?;
        files.push((p, bytes));
    }
    let mut g = from_bytes(name, &files)?;
    g.note = note;
    Ok(g)
}

/// Loads the embedded copy of Cora.
pub fn load_embedded_cora() -> Result<Graph> {
    let files: Vec<(PathBuf, Vec<u8>)> = PARTS
        .iter()
        .map(|p| {
            (
                PathBuf::from(format!("<embedded>/{}", file_name("cora", p))),
                embedded_cora(p).unwrap().to_vec(),
            )
        })
        .collect();
    from_bytes("cora", &files)
}

/// Assembles a graph from the eight files, given in `PARTS` order.
pub fn from_bytes(name: &str, files: &[(PathBuf, Vec<u8>)]) -> Result<Graph> {
    assert_eq!(files.len(), PARTS.len());
    let get = |part: &str| &files[PARTS.iter().position(|p| *p == part).unwrap()];
    let csr = |part: &str| {
        let (p, b) = get(part);
        parse_csr(&Pickle::parse(p, b)?)
    };
    let labels = |part: &str| {
        let (p, b) = get(part);
        parse_onehot(&Pickle::parse(p, b)?)
    };
    let (x, allx, tx) = (csr("x")?, csr("allx")?, csr("tx")?);
    let (y, ally, ty) = (labels("y")?, labels("ally")?, labels("ty")?);
    let (ti_path, ti_bytes) = get("test.index");
    let test_index = parse_test_index(ti_path, ti_bytes)?;
    let (g_path, g_bytes) = get("graph");
    let adjacency = parse_graph(&Pickle::parse(g_path, g_bytes)?)?;

    let cols = x.cols;
    for (m, part) in [(&allx, "allx"), (&tx, "tx")] {
        if m.cols != cols {
            return Err(DataError::invalid(
                &get(part).0,
                format!(
                    "{} feature columns, expected {cols} as in ind.{name}.x",
                    m.cols
                ),
            ));
        }
    }
    if ally.0.len() != allx.rows || ty.0.len() != tx.rows || y.0.len() != x.rows {
        return Err(DataError::invalid(
            &get("ally").0,
            "label rows do not match feature rows (y/x, ty/tx, ally/allx)",
        ));
    }
    if test_index.len() != tx.rows {
        return Err(DataError::invalid(
            ti_path,
            format!(
                "{} test ids, expected {} (rows of tx)",
                test_index.len(),
                tx.rows
            ),
        ));
    }
    let num_classes = ally.1;
    // Node test_index[k] gets row k of tx; ids in the test range absent from test.index (Citeseer) stay
    // zero rows without a label.
    let lo = *test_index.iter().min().unwrap_or(&allx.rows);
    let hi = *test_index.iter().max().unwrap_or(&allx.rows);
    if lo < allx.rows {
        return Err(DataError::invalid(
            ti_path,
            format!("test id {lo} overlaps the {} allx rows", allx.rows),
        ));
    }
    // Citeseer leaves a few ids of its test range unused; anything far beyond tx's size is corruption.
    if hi - lo >= 2 * tx.rows + 16 {
        return Err(DataError::invalid(
            ti_path,
            format!(
                "test ids span {lo}..={hi}, far more than the {} rows of tx",
                tx.rows
            ),
        ));
    }
    let num_nodes = allx.rows.max(hi + 1);
    let mut row_of: Vec<Option<(bool, usize)>> = (0..num_nodes)
        .map(|i| (i < allx.rows).then_some((false, i)))
        .collect();
    for (k, &id) in test_index.iter().enumerate() {
        row_of[id] = Some((true, k));
    }
    let mut trip = Vec::with_capacity(allx.nnz() + tx.nnz());
    let mut node_labels = vec![None; num_nodes];
    for (node, src) in row_of.iter().enumerate() {
        if let Some((is_test, r)) = *src {
            let (m, l) = if is_test { (&tx, &ty) } else { (&allx, &ally) };
            let (c, v) = m.row(r);
            trip.extend(c.iter().zip(v).map(|(&c, &v)| (node as u32, c, v)));
            node_labels[node] = l.0[r];
        }
    }
    let features = CsrMatrix::from_triplets(num_nodes, cols, trip);

    let mut pairs = Vec::new();
    for (u, nbrs) in adjacency {
        for v in nbrs {
            for id in [u, v] {
                if id as usize >= num_nodes {
                    return Err(DataError::invalid(
                        g_path,
                        format!("node id {id} out of range: the features give {num_nodes} nodes"),
                    ));
                }
            }
            pairs.push((u, v));
        }
    }
    let (edges, self_loops_dropped) = Graph::canonical_edges(pairs);
    Ok(Graph {
        name: name.to_string(),
        num_nodes,
        edges,
        directed: false,
        features: Some(features),
        labels: Some(node_labels),
        num_classes,
        edge_weights: None,
        node_ids: None,
        self_loops_dropped,
        note: None,
    })
}

pub(crate) fn parse_csr(p: &Pickle) -> Result<CsrMatrix> {
    let fields = p.csr_fields(p.root)?;
    let field = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| *v)
            .ok_or_else(|| p.err(format!("csr_matrix has no '{n}' field")))
    };
    let shape = p.tuple(field("_shape")?)?;
    if shape.len() != 2 {
        return Err(p.err("csr_matrix shape is not 2-D"));
    }
    let dim = |i: usize| -> Result<usize> {
        let v = p.int(shape[i])?;
        usize::try_from(v).map_err(|_| p.err(format!("negative dimension {v}")))
    };
    let (rows, cols) = (dim(0)?, dim(1)?);
    let indptr = ints(p, &p.ndarray(field("indptr")?)?)?;
    let indices = ints(p, &p.ndarray(field("indices")?)?)?;
    let data = floats(p, &p.ndarray(field("data")?)?)?;
    if indptr.len() != rows + 1 || indptr[0] != 0 {
        return Err(p.err(format!(
            "indptr has {} entries, expected {}",
            indptr.len(),
            rows + 1
        )));
    }
    if indptr.windows(2).any(|w| w[0] > w[1]) || indptr[rows] as usize != indices.len() {
        return Err(p.err("indptr is not non-decreasing up to nnz"));
    }
    if indices.len() != data.len() {
        return Err(p.err("indices and data differ in length"));
    }
    if let Some(c) = indices.iter().find(|&&c| c < 0 || c as usize >= cols) {
        return Err(p.err(format!("column index {c} outside 0..{cols}")));
    }
    let trip = (0..rows)
        .flat_map(|r| (indptr[r] as usize..indptr[r + 1] as usize).map(move |k| (r, k)))
        .map(|(r, k)| (r as u32, indices[k] as u32, data[k]))
        .collect();
    Ok(CsrMatrix::from_triplets(rows, cols, trip))
}

/// One-hot label matrix → (label per row, number of classes). All-zero rows have no label.
pub(crate) fn parse_onehot(p: &Pickle) -> Result<(Vec<Option<u32>>, usize)> {
    let a = p.ndarray(p.root)?;
    if a.shape.len() != 2 {
        return Err(p.err(format!(
            "label array has shape {:?}, expected [rows, classes]",
            a.shape
        )));
    }
    let (rows, classes) = (a.shape[0], a.shape[1]);
    let v = ints(p, &a)?;
    let labels = (0..rows)
        .map(|r| {
            let row = &v[r * classes..(r + 1) * classes];
            row.iter().position(|&x| x != 0).map(|c| c as u32)
        })
        .collect();
    Ok((labels, classes))
}

pub(crate) fn parse_graph(p: &Pickle) -> Result<Vec<(u32, Vec<u32>)>> {
    let node = |id| -> Result<u32> {
        let v = p.int(id)?;
        u32::try_from(v).map_err(|_| p.err(format!("node id {v} is not a valid index")))
    };
    p.defaultdict(p.root)?
        .iter()
        .map(|&(k, v)| {
            Ok((
                node(k)?,
                p.list(v)?
                    .iter()
                    .map(|&n| node(n))
                    .collect::<Result<Vec<_>>>()?,
            ))
        })
        .collect()
}

pub(crate) fn parse_test_index(path: &Path, bytes: &[u8]) -> Result<Vec<usize>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| DataError::invalid(path, "not UTF-8 text"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            l.trim().parse::<usize>().map_err(|_| DataError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                msg: format!("expected a node id, found '{}'", l.trim()),
            })
        })
        .collect()
}
