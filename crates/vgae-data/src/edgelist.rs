//! User graphs from edge lists, read with the `csv` crate: comma, tab or whitespace delimited, `"quoted"`
//! fields, `#` comment lines, an optional header ([`HeaderMode`], with an explainable auto rule), an optional
//! weight column kept as [`Graph::edge_weights`], and string or integer node ids mapped to dense ids in order
//! of first appearance, the table kept as [`Graph::node_ids`].

pub use crate::edgelist_format::{Delimiter, EdgeListFormat, HeaderMode, IdType, HEADER_RULE};

use crate::edgelist_format::{decide_header, is_number};
use crate::error::{DataError, Result};
use crate::graph::{CsrMatrix, Graph};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How to read an edge list (recorded in a run's config, so the same graph is read back).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeListOptions {
    /// Optional node-feature file: `id,f1,f2,...` per row (same id space as the edges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<PathBuf>,
    /// Whether the first row is a header (default: auto, see [`HEADER_RULE`]).
    #[serde(default)]
    pub header: HeaderMode,
    /// The field delimiter; `None` detects it (see [`Delimiter::detect`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// Keep each row's orientation: `source,target` is the arc source → target ([`Graph::directed`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub directed: bool,
}

/// One data row: its 1-based line number and trimmed, non-empty fields.
type Row = (usize, Vec<String>);

/// Reads the rows of a delimited text file (blank lines and `#` comments skipped), naming the line of a
/// CSV-level error (an unclosed quote, invalid UTF-8).
fn read_rows(path: &Path, text: &[u8], delimiter: Delimiter) -> Result<Vec<Row>> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .delimiter(delimiter.byte())
        .from_reader(text);
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            DataError::Line {
                path: path.to_path_buf(),
                line,
                msg: format!("cannot read the row: {e}"),
            }
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let f: Vec<String> = rec
            .iter()
            .map(str::trim)
            .filter(|s| !(s.is_empty() && delimiter == Delimiter::Whitespace))
            .map(String::from)
            .collect();
        if f.iter().all(|s| s.is_empty()) || f[0].starts_with('#') {
            continue;
        }
        rows.push((line, f));
    }
    Ok(rows)
}

fn utf8_or_bytes(path: &Path) -> Result<(Vec<u8>, String)> {
    let bytes = crate::error::read_file(path)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok((bytes, text))
}

/// Reads an edge list into a [`Graph`] named after the file's stem (see [`load_with_format`]).
pub fn load(path: &Path, opts: &EdgeListOptions) -> Result<Graph> {
    load_with_format(path, opts).map(|(g, _)| g)
}

/// Reads an edge list: every data row is `source,target` or `source,target,weight` (all rows alike), node
/// ids in order of first appearance, self-loops dropped (counted), rows with weight `<= 0` skipped (no edge),
/// a repeated edge keeping its first weight. Returns the graph and what was decided about the file's layout.
/// Fails, naming the file and line, on a malformed row or when no edge is found.
pub fn load_with_format(path: &Path, opts: &EdgeListOptions) -> Result<(Graph, EdgeListFormat)> {
    let (bytes, text) = utf8_or_bytes(path)?;
    parse_with_format(path, &bytes, &text, opts)
}

/// [`load_with_format`] on bytes already read (`text` their lossy UTF-8 view); `path` names the graph and
/// appears in errors.
pub fn parse_with_format(
    path: &Path,
    bytes: &[u8],
    text: &str,
    opts: &EdgeListOptions,
) -> Result<(Graph, EdgeListFormat)> {
    let delimiter = opts.delimiter.unwrap_or_else(|| Delimiter::detect(text));
    let mut rows = read_rows(path, bytes, delimiter)?;
    if rows.is_empty() {
        return Err(DataError::invalid(
            path,
            "no edges found: expected rows 'source,target[,weight]'",
        ));
    }
    let (header, header_reason) = match opts.header {
        HeaderMode::Yes => (true, "given".to_string()),
        HeaderMode::No => (false, "given".to_string()),
        HeaderMode::Auto => {
            let rest: Vec<Vec<String>> = rows[1..].iter().map(|(_, f)| f.clone()).collect();
            decide_header(&rows[0].1, &rest)
        }
    };
    let columns = header.then(|| rows.remove(0).1);
    let Some((first_line, first)) = rows.first() else {
        return Err(DataError::invalid(
            path,
            "no edges found: the file holds only a header",
        ));
    };
    let width = first.len();
    if !(2..=3).contains(&width) {
        return Err(DataError::Line {
            path: path.to_path_buf(),
            line: *first_line,
            msg: format!(
                "expected 'source,target' or 'source,target,weight', found {width} field(s) in {:?} \
                 (delimiter: {})",
                first,
                delimiter.name()
            ),
        });
    }
    let weighted = width == 3;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut weights: HashMap<[u32; 2], f32> = HashMap::new();
    let (mut pairs, mut nonpositive, mut differing) = (Vec::new(), 0usize, 0usize);
    for (line, f) in &rows {
        let err = |msg: String| DataError::Line {
            path: path.to_path_buf(),
            line: *line,
            msg,
        };
        if f.len() != width {
            return Err(err(format!(
                "{} field(s), but the first data row (line {first_line}) has {width}: every row must be \
                 'source,target' or every row 'source,target,weight'",
                f.len()
            )));
        }
        if f[0].is_empty() || f[1].is_empty() {
            return Err(err("an empty node id".into()));
        }
        let w = if weighted {
            let w = f[2]
                .parse::<f32>()
                .ok()
                .filter(|w| w.is_finite())
                .ok_or_else(|| err(format!("weight '{}' is not a finite number", f[2])))?;
            if w <= 0.0 {
                nonpositive += 1;
                continue;
            }
            w
        } else {
            1.0
        };
        let mut intern = |s: &str| -> u32 {
            *ids.entry(s.to_string()).or_insert_with(|| {
                order.push(s.to_string());
                (order.len() - 1) as u32
            })
        };
        let (u, v) = (intern(&f[0]), intern(&f[1]));
        pairs.push((u, v));
        if weighted && u != v {
            let key = if opts.directed {
                [u, v]
            } else {
                [u.min(v), u.max(v)]
            };
            let prev = *weights.entry(key).or_insert(w);
            differing += (prev != w) as usize;
        }
    }
    if pairs.is_empty() {
        return Err(DataError::invalid(
            path,
            "no edges found: expected rows 'source,target[,weight]' with weight > 0",
        ));
    }
    let id_type = if order.iter().all(|s| s.parse::<i64>().is_ok()) {
        IdType::Integer
    } else {
        IdType::String
    };
    let num_nodes = order.len();
    let (edges, self_loops_dropped) = match opts.directed {
        true => Graph::canonical_arcs(pairs),
        false => Graph::canonical_edges(pairs),
    };
    let features = match &opts.features {
        Some(fp) => Some(load_features(fp, &ids, num_nodes)?),
        None => None,
    };
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("edgelist")
        .to_string();
    let built = match opts.directed {
        true => Graph::from_arcs(num_nodes, &edges)?,
        false => Graph::from_edges(num_nodes, &edges)?,
    };
    let mut g = built.with_name(name).with_node_ids(order)?;
    g.self_loops_dropped = self_loops_dropped;
    g.features = features;
    if weighted {
        let w = g.edges.iter().map(|e| weights[e]).collect();
        g = g.with_edge_weights(w)?;
    }
    // A header may name fewer columns than the rows hold (found by fuzzing: it used to index past it).
    let weight_column = weighted.then(|| {
        columns
            .as_ref()
            .and_then(|c| c.get(2).cloned())
            .unwrap_or_else(|| "column 3".to_string())
    });
    let format = EdgeListFormat {
        delimiter,
        delimiter_given: opts.delimiter.is_some(),
        header,
        header_reason,
        columns,
        id_type,
        weight_column,
        rows: rows.len(),
        rows_nonpositive_weight: nonpositive,
        duplicate_weights_differing: differing,
    };
    Ok((g, format))
}

/// Reads `id,f1,...,fd` rows (same delimiter rule and quoting as edge lists; the first row is a header iff
/// one of its values is not a number); nodes without a row get zeros.
fn load_features(path: &Path, ids: &HashMap<String, u32>, n: usize) -> Result<CsrMatrix> {
    let (bytes, text) = utf8_or_bytes(path)?;
    let rows = read_rows(path, &bytes, Delimiter::detect(&text))?;
    let mut dim: Option<usize> = None;
    let mut trip = Vec::new();
    for (k, (line, f)) in rows.iter().enumerate() {
        let err = |msg: String| DataError::Line {
            path: path.to_path_buf(),
            line: *line,
            msg,
        };
        let vals: Option<Vec<f32>> = f[1..]
            .iter()
            .map(|s| is_number(s).then(|| s.parse::<f32>().ok()).flatten())
            .collect();
        let Some(vals) = vals else {
            if k == 0 {
                continue; // header
            }
            return Err(err(format!(
                "expected 'id,f1,f2,...' with numeric features, found {f:?}"
            )));
        };
        let d = *dim.get_or_insert(vals.len());
        if vals.len() != d || d == 0 {
            return Err(err(format!("{} feature values, expected {d}", vals.len())));
        }
        let Some(&node) = ids.get(&f[0]) else {
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

/// One row of a pairs file: its 1-based line number and its first two fields.
pub type IdPair = (usize, String, String);

/// Reads node-id pairs (e.g. the pairs `vgae score` answers): the delimiter rule, quoting and comments of
/// edge lists; fields after the second are ignored. No header handling: the caller knows the ids.
pub fn read_id_pairs(path: &Path) -> Result<Vec<IdPair>> {
    let (bytes, text) = utf8_or_bytes(path)?;
    let rows = read_rows(path, &bytes, Delimiter::detect(&text))?;
    rows.into_iter()
        .map(|(line, mut f)| {
            if f.len() < 2 {
                return Err(DataError::Line {
                    path: path.to_path_buf(),
                    line,
                    msg: format!("expected two node ids 'u,v', found {f:?}"),
                });
            }
            let v = f.swap_remove(1);
            Ok((line, f.swap_remove(0), v))
        })
        .collect()
}
