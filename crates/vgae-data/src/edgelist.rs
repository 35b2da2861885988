//! User graphs from edge lists: CSV, TSV or whitespace-separated, optional header, optional weight column,
//! string or integer node ids mapped to dense ids in order of first appearance.

use crate::error::{DataError, Result};
use crate::graph::{CsrMatrix, Graph};
use std::collections::HashMap;
use std::path::Path;

/// What to read besides the edge list itself.
#[derive(Debug, Clone, Default)]
pub struct EdgeListOptions {
    /// Optional node-feature file: `id,f1,f2,...` per line (same id space as the edges).
    pub features: Option<std::path::PathBuf>,
}

fn fields(line: &str) -> Vec<&str> {
    let sep: &[char] = if line.contains(',') {
        &[',']
    } else if line.contains('\t') {
        &['\t']
    } else {
        &[' ']
    };
    line.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Lines that are neither blank nor `#` comments, with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Reads an edge list into a [`Graph`] named after the file's stem: node ids in order of first appearance,
/// self-loops dropped (counted), an optional header line skipped, rows with weight `<= 0` skipped (a
/// positive weight just means "edge"). Fails, naming the line, on a malformed row or when no edge is found.
pub fn load(path: &Path, opts: &EdgeListOptions) -> Result<Graph> {
    let bytes = crate::error::read_file(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        DataError::invalid(path, format!("not UTF-8 text (byte {})", e.valid_up_to()))
    })?;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut intern = |s: &str| -> u32 {
        *ids.entry(s.to_string()).or_insert_with(|| {
            order.push(s.to_string());
            (order.len() - 1) as u32
        })
    };
    let mut pairs = Vec::new();
    for (k, (line_no, line)) in data_lines(text).enumerate() {
        let f = fields(line);
        let err = |msg: String| DataError::Line {
            path: path.to_path_buf(),
            line: line_no,
            msg,
        };
        if f.len() < 2 || f.len() > 3 {
            return Err(err(format!(
                "expected 'source,target' or 'source,target,weight', found {} field(s) in '{line}'",
                f.len()
            )));
        }
        if f.len() == 3 && f[2].parse::<f64>().map(|w| !w.is_finite()).unwrap_or(true) {
            // A non-numeric third column on the first line is a header; elsewhere it is an error.
            if k == 0 {
                continue;
            }
            return Err(err(format!("weight '{}' is not a finite number", f[2])));
        }
        if k == 0 && f.len() == 2 && is_header(&f) {
            continue;
        }
        // Weights are accepted but the inner-product decoder models a binary graph; positive weight = edge.
        if f.len() == 3 && f[2].parse::<f64>().unwrap() <= 0.0 {
            continue;
        }
        pairs.push((intern(f[0]), intern(f[1])));
    }
    if pairs.is_empty() {
        return Err(DataError::invalid(
            path,
            "no edges found: expected lines 'source,target[,weight]'",
        ));
    }
    let num_nodes = order.len();
    let (edges, self_loops_dropped) = Graph::canonical_edges(pairs);
    let features = match &opts.features {
        Some(fp) => Some(load_features(fp, &ids, num_nodes)?),
        None => None,
    };
    Ok(Graph {
        name: path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("edgelist")
            .to_string(),
        num_nodes,
        edges,
        features,
        labels: None,
        num_classes: 0,
        edge_weights: None,
        self_loops_dropped,
        note: None,
    })
}

fn is_header(f: &[&str]) -> bool {
    let lower: Vec<String> = f.iter().map(|s| s.to_ascii_lowercase()).collect();
    ["source", "src", "from", "node1", "u", "id1"].contains(&lower[0].as_str())
}

/// Reads `id,f1,...,fd` rows; nodes without a row get zeros.
fn load_features(path: &Path, ids: &HashMap<String, u32>, n: usize) -> Result<CsrMatrix> {
    let bytes = crate::error::read_file(path)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| DataError::invalid(path, "not UTF-8 text"))?;
    let mut dim: Option<usize> = None;
    let mut trip = Vec::new();
    for (line_no, line) in data_lines(text) {
        let f = fields(line);
        let err = |msg: String| DataError::Line {
            path: path.to_path_buf(),
            line: line_no,
            msg,
        };
        let vals: std::result::Result<Vec<f32>, _> =
            f[1..].iter().map(|s| s.parse::<f32>()).collect();
        let Ok(vals) = vals else {
            if dim.is_none() && trip.is_empty() {
                continue; // header
            }
            return Err(err(format!(
                "expected 'id,f1,f2,...' with numeric features, found '{line}'"
            )));
        };
        let d = *dim.get_or_insert(vals.len());
        if vals.len() != d || d == 0 {
            return Err(err(format!("{} feature values, expected {d}", vals.len())));
        }
        let Some(&node) = ids.get(f[0]) else {
            return Err(err(format!(
                "node '{}' does not appear in the edge list",
                f[0]
            )));
        };
        trip.extend(
            vals.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(c, &v)| (node, c as u32, v)),
        );
    }
    let d = dim.ok_or_else(|| DataError::invalid(path, "no feature rows found"))?;
    Ok(CsrMatrix::from_triplets(n, d, trip))
}
