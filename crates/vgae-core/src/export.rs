//! Writing a matrix (e.g. node embeddings) as `.safetensors`, `.npy` or `.csv`, chosen by extension.

use crate::{Error, Result};
use candle_core::Tensor;
use std::path::Path;

/// Writes `t` (`[rows, cols]`, f32) to `path`; the format follows the extension.
pub fn write_matrix(path: &Path, name: &str, t: &Tensor) -> Result<()> {
    write_matrix_with_ids(path, name, t, None)
}

/// The sidecar of a `.npy` file that names its rows: `z.npy` → `z.ids.txt`.
pub fn ids_sidecar(path: &Path) -> std::path::PathBuf {
    path.with_extension("ids.txt")
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// [`write_matrix`], naming row `i` by `ids[i]` when given: `.csv` gets a header `id,z0,z1,...` and the id
/// first on each row; `.npy` a sidecar [`ids_sidecar`] with one id per line; `.safetensors` the ids as JSON
/// in its metadata key `node_ids`. Fails when `ids` does not have one entry per row.
pub fn write_matrix_with_ids(
    path: &Path,
    name: &str,
    t: &Tensor,
    ids: Option<&[String]>,
) -> Result<()> {
    let (rows, cols) = t.dims2()?;
    if let Some(ids) = ids {
        if ids.len() != rows {
            return Err(Error::msg(format!(
                "{} ids for a matrix of {rows} rows",
                ids.len()
            )));
        }
    }
    let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = match ext.as_str() {
        "safetensors" => {
            let mut meta = std::collections::HashMap::from([(
                "rows".to_string(),
                "nodes in dataset order".to_string(),
            )]);
            if let Some(ids) = ids {
                let j = serde_json::to_string(ids).map_err(|e| Error::msg(e.to_string()))?;
                meta.insert("node_ids".to_string(), j);
            }
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
            if let Some(ids) = ids {
                let mut text = ids.join("\n");
                text.push('\n');
                vgae_data::split::atomic_write(&ids_sidecar(path), text.as_bytes())?;
            }
            b
        }
        "csv" => {
            let mut s = String::with_capacity(rows * cols * 12);
            if ids.is_some() {
                let head: Vec<String> = (0..cols).map(|c| format!("z{c}")).collect();
                s.push_str(&format!("id,{}\n", head.join(",")));
            }
            for (i, r) in v.chunks(cols.max(1)).enumerate() {
                let line: Vec<String> = r.iter().map(|x| format!("{x}")).collect();
                if let Some(ids) = ids {
                    s.push_str(&csv_field(&ids[i]));
                    s.push(',');
                }
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
