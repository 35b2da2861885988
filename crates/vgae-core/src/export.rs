//! Writing a matrix (e.g. node embeddings) as `.safetensors`, `.npy` or `.csv`, chosen by extension.

use crate::{Error, Result};
use candle_core::Tensor;
use std::path::Path;

/// Writes `t` (`[rows, cols]`, f32) to `path`; the format follows the extension.
pub fn write_matrix(path: &Path, name: &str, t: &Tensor) -> Result<()> {
    let (rows, cols) = t.dims2()?;
    let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = match ext.as_str() {
        "safetensors" => {
            let meta = std::collections::HashMap::from([(
                "rows".to_string(),
                "nodes in dataset order".to_string(),
            )]);
            return crate::checkpoint::save(path, &[(name.to_string(), t.clone())], &meta);
        }
        "npy" => {
            let header =
                format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
            // Magic, version 1.0, header padded with spaces to a multiple of 64 bytes, ending in a newline.
            let pad = 64 - (10 + header.len() + 1) % 64;
            let header = format!("{header}{}\n", " ".repeat(pad % 64));
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend((header.len() as u16).to_le_bytes());
            b.extend(header.as_bytes());
            b.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            b
        }
        "csv" => {
            let mut s = String::with_capacity(rows * cols * 12);
            for r in v.chunks(cols.max(1)) {
                let line: Vec<String> = r.iter().map(|x| format!("{x}")).collect();
                s.push_str(&line.join(","));
                s.push('\n');
            }
            s.into_bytes()
        }
        _ => {
            return Err(Error::msg(format!(
                "--out {}: unknown extension '{ext}': expected .safetensors, .npy or .csv",
                path.display()
            )))
        }
    };
    vgae_data::split::atomic_write(path, &bytes)?;
    Ok(())
}
