//! One entry point per parser of untrusted bytes, as the fuzz targets in `fuzz/` and the regression replay
//! in `crates/vgae-core/tests/fuzz_regressions.rs` call them. Each takes raw bytes and must return (an
//! error is fine) without panicking, hanging or allocating beyond what the input's size justifies.

use crate::edgelist::{parse_with_format, EdgeListOptions};
use crate::pickle::Pickle;
use crate::{idx, mat, planetoid, planetoid_split, EdgeSplit};
use std::path::Path;

/// The fuzz targets by name, as `fuzz/` builds them and `scripts/fuzz.sh` runs them.
pub const TARGETS: [&str; 8] = [
    "pickle_csr",
    "pickle_onehot",
    "pickle_graph",
    "test_index",
    "idx",
    "mat",
    "edge_list",
    "split",
];

/// The restricted unpickler and the scipy CSR view on top of it (`ind.*.x`, `allx`, `tx`).
pub fn pickle_csr(data: &[u8]) -> bool {
    let path = Path::new("fuzz.x");
    Pickle::parse(path, data)
        .and_then(|p| planetoid::parse_csr(&p))
        .is_ok()
}

/// The unpickler and the one-hot label view (`ind.*.y`, `ally`, `ty`).
pub fn pickle_onehot(data: &[u8]) -> bool {
    let path = Path::new("fuzz.y");
    Pickle::parse(path, data)
        .and_then(|p| planetoid::parse_onehot(&p))
        .is_ok()
}

/// The unpickler and the adjacency-dict view (`ind.*.graph`).
pub fn pickle_graph(data: &[u8]) -> bool {
    let path = Path::new("fuzz.graph");
    Pickle::parse(path, data)
        .and_then(|p| planetoid::parse_graph(&p))
        .is_ok()
}

/// The test-index text file, alone and with a label file for the public split.
pub fn test_index(data: &[u8]) -> bool {
    let path = Path::new("fuzz.test.index");
    let y = planetoid::embedded_cora("y").unwrap_or_default();
    let split =
        planetoid_split::PublicSplit::from_bytes((Path::new("ind.cora.y"), y), (path, data));
    planetoid::parse_test_index(path, data).is_ok() && split.is_ok()
}

/// IDX files, plain and gzipped.
pub fn idx(data: &[u8]) -> bool {
    let path = Path::new("fuzz-idx3-ubyte");
    let plain = idx::parse(data, path).is_ok();
    idx::parse_gz(data, path).is_ok() || plain
}

/// MAT v5 files (plain and zlib-compressed elements).
pub fn mat(data: &[u8]) -> bool {
    mat::parse(data, Path::new("fuzz.mat")).is_ok()
}

/// Edge lists: delimiter and header detection, quoting, ids, weights.
pub fn edge_list(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let opts = EdgeListOptions::default();
    parse_with_format(Path::new("fuzz.csv"), data, &text, &opts).is_ok()
}

/// Split files (`vgae split make`): safetensors with our metadata.
pub fn split(data: &[u8]) -> bool {
    EdgeSplit::from_bytes(Path::new("fuzz.split.safetensors"), data).is_ok()
}

/// Runs target `name` on `data`; `None` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> Option<bool> {
    Some(match name {
        "pickle_csr" => pickle_csr(data),
        "pickle_onehot" => pickle_onehot(data),
        "pickle_graph" => pickle_graph(data),
        "test_index" => test_index(data),
        "idx" => idx(data),
        "mat" => mat(data),
        "edge_list" => edge_list(data),
        "split" => split(data),
        _ => return None,
    })
}
