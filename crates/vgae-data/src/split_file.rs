//! The split file: safetensors with one int64 `[k, 2]` tensor per part and the split's metadata.

use crate::error::{DataError, Result};
use crate::fsio::atomic_write;
use crate::split::EdgeSplit;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

/// The `format` metadata value of split files this version writes and accepts.
pub const FORMAT: &str = "vgae-split/1";

impl EdgeSplit {
    /// Saves as safetensors: int64 `[k, 2]` tensors plus metadata (dataset fingerprint, seed, fractions).
    pub fn save(&self, path: &Path) -> Result<()> {
        let bufs: Vec<(&str, Vec<u8>, usize)> = self
            .parts()
            .iter()
            .map(|(name, v)| {
                let bytes = v
                    .iter()
                    .flat_map(|p| p.iter().flat_map(|&x| (x as i64).to_le_bytes()))
                    .collect();
                (*name, bytes, v.len())
            })
            .collect();
        let views = bufs
            .iter()
            .map(|(name, b, k)| {
                Ok((
                    name.to_string(),
                    TensorView::new(Dtype::I64, vec![*k, 2], b)
                        .map_err(|e| DataError::Other(e.to_string()))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta: HashMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("dataset", self.dataset.clone()),
            ("fingerprint", self.fingerprint.clone()),
            ("num_nodes", self.num_nodes.to_string()),
            ("seed", self.seed.to_string()),
            ("config", serde_json::to_string(&self.config).unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let bytes = safetensors::tensor::serialize(views, Some(meta))
            .map_err(|e| DataError::invalid(path, e.to_string()))?;
        atomic_write(path, &bytes)
    }

    /// Reads a split saved by [`EdgeSplit::save`].
    pub fn load(path: &Path) -> Result<EdgeSplit> {
        let bytes = crate::error::read_file(path)?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses a split file's bytes, checking its format tag, metadata, tensor shapes and that every pair
    /// lies inside `0..num_nodes`; `path` only names the file in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<EdgeSplit> {
        let bad = |m: String| DataError::invalid(path, m);
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |k: &str| {
            meta.get(k)
                .cloned()
                .ok_or_else(|| bad(format!("metadata has no '{k}': not a vgae split file")))
        };
        let format = field("format")?;
        if format != FORMAT {
            return Err(bad(format!("split format '{format}', expected '{FORMAT}'")));
        }
        let num = |k: &str| -> Result<u64> {
            field(k)?
                .parse()
                .map_err(|_| bad(format!("metadata '{k}' is not a number")))
        };
        let num_nodes = num("num_nodes")? as usize;
        let pairs = |name: &str| -> Result<Vec<[u32; 2]>> {
            let t = st
                .tensor(name)
                .map_err(|_| bad(format!("missing tensor '{name}'")))?;
            if t.dtype() != Dtype::I64 || t.shape().len() != 2 || t.shape()[1] != 2 {
                return Err(bad(format!(
                    "tensor '{name}' is {:?} {:?}, expected I64 [k, 2]",
                    t.dtype(),
                    t.shape()
                )));
            }
            t.data()
                .chunks_exact(16)
                .map(|c| {
                    let a = i64::from_le_bytes(c[..8].try_into().unwrap());
                    let b = i64::from_le_bytes(c[8..].try_into().unwrap());
                    if a < 0 || b < 0 || a as usize >= num_nodes || b as usize >= num_nodes {
                        return Err(bad(format!(
                            "tensor '{name}' holds pair ({a}, {b}) outside 0..{num_nodes}"
                        )));
                    }
                    Ok([a as u32, b as u32])
                })
                .collect()
        };
        Ok(EdgeSplit {
            dataset: field("dataset")?,
            fingerprint: field("fingerprint")?,
            num_nodes,
            seed: num("seed")?,
            config: serde_json::from_str(&field("config")?)
                .map_err(|e| bad(format!("metadata 'config': {e}")))?,
            train_pos: pairs("train_pos")?,
            val_pos: pairs("val_pos")?,
            val_neg: pairs("val_neg")?,
            test_pos: pairs("test_pos")?,
            test_neg: pairs("test_neg")?,
        })
    }
}
