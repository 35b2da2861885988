//! Checkpoints of host buffers too large to copy: streamed to a temporary file from the buffers themselves
//! (no tensor or byte copy of a 10⁷-row table), fsynced and renamed; read back with every tensor's sha256
//! checked, as [`crate::checkpoint`] does for its files.

use crate::checkpoint::{open, sha256_hex, DIGESTS_KEY};
use crate::{Error, Result};
use safetensors::tensor::{Dtype, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// An f32 buffer with its shape, viewed as safetensors bytes in place.
struct HostView<'a> {
    data: &'a [f32],
    shape: Vec<usize>,
}

impl View for HostView<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        le_bytes(self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len() * 4
    }
}

/// The little-endian bytes of `v`: the floats themselves on little-endian machines, a copy elsewhere.
fn le_bytes(v: &[f32]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(v))
    } else {
        Cow::Owned(v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// Writes `tensors` (name, floats, shape) and `metadata` to `path` atomically. A NaN or infinity is an error
/// and leaves the previous file in place.
pub fn save(
    path: &Path,
    tensors: &[(&str, &[f32], Vec<usize>)],
    metadata: &HashMap<String, String>,
) -> Result<()> {
    let mut digests = BTreeMap::new();
    for (name, data, shape) in tensors {
        if shape.iter().product::<usize>() != data.len() {
            return Err(Error::msg(format!(
                "{name}: {} floats for shape {shape:?}",
                data.len()
            )));
        }
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            return Err(Error::msg(format!(
                "refusing to write {}: tensor '{name}' holds {} at index {i} (training diverged); the \
                 previous checkpoint is kept",
                path.display(),
                data[i]
            )));
        }
        digests.insert(name.to_string(), sha256_hex(&le_bytes(data)));
    }
    let mut metadata = metadata.clone();
    metadata.insert(
        DIGESTS_KEY.to_string(),
        serde_json::to_string(&digests).map_err(|e| Error::msg(e.to_string()))?,
    );
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let tmp = dir.unwrap_or(Path::new(".")).join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("checkpoint"),
        std::process::id()
    ));
    let views = tensors.iter().map(|(n, d, s)| {
        (
            n.to_string(),
            HostView {
                data: d,
                shape: s.clone(),
            },
        )
    });
    let written = safetensors::tensor::serialize_to_file(views, Some(metadata), &tmp)
        .map_err(|e| Error::msg(format!("{}: {e}", tmp.display())))
        .and_then(|()| {
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(&tmp, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A checkpoint read by [`load`]: f32 tensors by name (floats, shape) and the metadata.
pub struct HostCheckpoint {
    /// Every tensor of the file.
    pub tensors: HashMap<String, (Vec<f32>, Vec<usize>)>,
    /// The string metadata.
    pub metadata: HashMap<String, String>,
}

/// Reads a file written by [`save`], checking its digests; an error names the file.
pub fn load(path: &Path) -> Result<HostCheckpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (st, metadata, _) = open(path, &bytes)?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::msg(format!(
                "{}: tensor '{name}' is {:?}, expected f32",
                path.display(),
                view.dtype()
            )));
        }
        let floats = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(name, (floats, view.shape().to_vec()));
    }
    Ok(HostCheckpoint { tensors, metadata })
}
