//! The fuzz targets of this crate's parsers of untrusted bytes (checkpoints with their metadata, run
//! configs, grid files), beside those of [`vgae_data::fuzz_targets`]; `fuzz/` builds them all into one
//! AFL binary and `crates/vgae-core/tests/fuzz_regressions.rs` replays the corpora that found bugs.

use crate::checkpoint;
use crate::experiments::grid::GridSpec;
use crate::graph::trainer::EpochRecord;
use crate::graph::GraphTrainConfig;
use crate::run_state::RunState;
use candle_core::Device;
use std::path::Path;

/// This crate's targets; [`targets`] lists them all.
const CORE: [&str; 3] = ["checkpoint", "run_config", "grid"];

/// Every fuzz target by name.
pub fn targets() -> Vec<&'static str> {
    vgae_data::fuzz_targets::TARGETS
        .iter()
        .chain(CORE.iter())
        .copied()
        .collect()
}

/// A checkpoint file: the safetensors header and tensors, the digests, then our metadata as a graph run
/// (format, RNG state, config, records).
pub fn checkpoint(data: &[u8]) -> bool {
    let path = Path::new("fuzz.safetensors");
    let Ok(ck) = checkpoint::from_bytes(path, data, &Device::Cpu) else {
        return false;
    };
    let Ok(state) = RunState::from_metadata(path, &ck.metadata, crate::graph::resume::KIND) else {
        return false;
    };
    let cfg = state.config_as::<GraphTrainConfig>(path, None);
    let records = state.records_as::<Vec<EpochRecord>>(path);
    cfg.is_ok() && records.is_ok()
}

/// A run's `config.json` as JSON.
pub fn run_config(data: &[u8]) -> bool {
    serde_json::from_slice::<GraphTrainConfig>(data).is_ok()
}

/// An experiment grid file (TOML).
pub fn grid(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    GridSpec::parse(Path::new("fuzz.toml"), &text).is_ok_and(|g| !g.cells().is_empty())
}

/// Runs target `name` on `data` (`Some(parsed?)`), or `None` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> Option<bool> {
    match name {
        "checkpoint" => Some(checkpoint(data)),
        "run_config" => Some(run_config(data)),
        "grid" => Some(grid(data)),
        _ => vgae_data::fuzz_targets::run(name, data),
    }
}
