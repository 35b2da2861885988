//! Checkpoints: one safetensors file with named tensors (parameters, optimiser state) and string metadata
//! (config, epoch, RNG state, format version), written atomically. The metadata also holds the sha256 of each
//! tensor's bytes ([`DIGESTS_KEY`]), checked on every load: a flipped bit is an error naming the tensor, not
//! silently different numbers. Files written before the digests existed load without the check.

use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The metadata key holding the checkpoint format version, read by [`check_format`].
pub const FORMAT_KEY: &str = "format";
/// The metadata key holding `{"tensor name": "sha256 of its bytes, hex", ...}` as JSON.
pub const DIGESTS_KEY: &str = "tensor_sha256";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// What [`verify`] found in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Tensors in the file.
    pub tensors: usize,
    /// Bytes of tensor data.
    pub bytes: usize,
    /// Whether the file records digests (and all matched); false for files written before they existed.
    pub digests: bool,
}

/// Checks every tensor of `st` against the digests in `metadata`, if it has them.
fn check_digests(
    path: &Path,
    st: &SafeTensors<'_>,
    metadata: &HashMap<String, String>,
) -> Result<Verified> {
    let bad = |m: String| Error::msg(format!("{}: corrupt checkpoint: {m}", path.display()));
    let tensors = st.tensors();
    let bytes = tensors.iter().map(|(_, v)| v.data().len()).sum();
    let Some(text) = metadata.get(DIGESTS_KEY) else {
        return Ok(Verified {
            tensors: tensors.len(),
            bytes,
            digests: false,
        });
    };
    let want: BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| bad(format!("unreadable '{DIGESTS_KEY}' metadata: {e}")))?;
    for (name, view) in &tensors {
        match want.get(name) {
            Some(d) if *d == sha256_hex(view.data()) => {}
            Some(_) => {
                return Err(bad(format!(
                    "tensor '{name}' does not match the sha256 recorded when it was saved"
                )))
            }
            None => return Err(bad(format!("tensor '{name}' has no recorded sha256"))),
        }
    }
    if let Some(name) = want.keys().find(|n| !tensors.iter().any(|(t, _)| t == *n)) {
        return Err(bad(format!("tensor '{name}' was saved but is missing")));
    }
    Ok(Verified {
        tensors: tensors.len(),
        bytes,
        digests: true,
    })
}

/// Reads a checkpoint and checks its structure and every tensor's sha256, without building tensors or a
/// model (`vgae eval --verify-only`).
pub fn verify(path: &Path) -> Result<Verified> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(open(path, &bytes)?.2)
}

/// Parses a checkpoint's header and tensor table and checks the digests: the tensor views, the metadata and
/// what the check found.
pub(crate) fn open<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<(SafeTensors<'a>, HashMap<String, String>, Verified)> {
    let bad = |m: String| Error::msg(format!("{}: not a valid checkpoint: {m}", path.display()));
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let verified = check_digests(path, &st, &metadata)?;
    Ok((st, metadata, verified))
}

/// A checkpoint as read back by [`load`].
pub struct Checkpoint {
    /// Every tensor in the file by name, on the device given to [`load`], with its saved dtype and shape.
    pub tensors: HashMap<String, Tensor>,
    /// The string metadata (format, kind, config, epoch, RNG state, …); empty if the file has none.
    pub metadata: HashMap<String, String>,
}

/// The tensor's little-endian bytes; a NaN or infinity in a float tensor is an error, so a diverged run
/// never replaces a good checkpoint with a poisoned one.
fn host_bytes(path: &Path, name: &str, t: &Tensor) -> Result<(Dtype, Vec<u8>)> {
    let t = t.flatten_all()?;
    let poisoned = |i: usize, v: f64| {
        Error::msg(format!(
            "refusing to write {}: tensor '{name}' holds {v} at index {i} (training diverged); \
             the previous checkpoint is kept",
            path.display()
        ))
    };
    Ok(match t.dtype() {
        DType::F32 => {
            let v = t.to_vec1::<f32>()?;
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(poisoned(i, v[i] as f64));
            }
            (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        DType::F64 => {
            let v = t.to_vec1::<f64>()?;
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(poisoned(i, v[i]));
            }
            (Dtype::F64, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        DType::U32 => (
            Dtype::U32,
            t.to_vec1::<u32>()?
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
        ),
        DType::I64 => (
            Dtype::I64,
            t.to_vec1::<i64>()?
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
        ),
        d => return Err(Error::msg(format!("cannot checkpoint a {d:?} tensor"))),
    })
}

/// Writes `tensors` and `metadata` to `path` through a temporary file, fsync and rename, so a crash never
/// leaves a half-written checkpoint. Tensors may be f32, f64, u32 or i64, on any device.
///
/// A round trip through [`load`]:
///
/// ```
/// use candle_core::{Device, Tensor};
/// use std::collections::{BTreeMap, HashMap};
/// use vgae_core::checkpoint::{load, save, FORMAT_KEY};
///
/// let path = std::env::temp_dir().join(format!("vgae-core-doc-ckpt-{}.safetensors", std::process::id()));
/// let w = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu)?;
/// let meta = HashMap::from([(FORMAT_KEY.to_string(), "test/1".to_string())]);
/// save(&path, &[("w".to_string(), w)], &meta)?;
///
/// let ck = load(&path, &Device::Cpu)?;
/// std::fs::remove_file(&path).unwrap();
/// let w = &ck.tensors["w"];
/// assert_eq!(w.dims(), &[2, 3]);
/// assert_eq!(w.to_vec2::<f32>()?, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
/// assert_eq!(ck.metadata[FORMAT_KEY], "test/1");
/// # Ok::<(), vgae_core::Error>(())
/// ```
pub fn save(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: &HashMap<String, String>,
) -> Result<()> {
    let bufs = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), host_bytes(path, n, t)?, t.dims().to_vec())))
        .collect::<Result<Vec<_>>>()?;
    let views = bufs
        .iter()
        .map(|(n, (dt, b), shape)| {
            Ok((
                n.clone(),
                TensorView::new(*dt, shape.clone(), b).map_err(|e| Error::msg(e.to_string()))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let digests: BTreeMap<&str, String> = bufs
        .iter()
        .map(|(n, (_, b), _)| (n.as_str(), sha256_hex(b)))
        .collect();
    let mut metadata = metadata.clone();
    metadata.insert(
        DIGESTS_KEY.to_string(),
        serde_json::to_string(&digests).map_err(|e| Error::msg(e.to_string()))?,
    );
    let bytes = safetensors::tensor::serialize(views, Some(metadata))
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    vgae_data::split::atomic_write(path, &bytes)?;
    Ok(())
}

/// Reads a checkpoint written by [`save`], placing its tensors on `device`; a truncated or corrupt file is an
/// error naming it. See [`save`] for a round trip.
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(path, &bytes, device)
}

/// [`load`] on bytes already read; `path` appears in errors.
pub fn from_bytes(path: &Path, bytes: &[u8], device: &Device) -> Result<Checkpoint> {
    let bad = |m: String| Error::msg(format!("{}: not a valid checkpoint: {m}", path.display()));
    let (st, metadata, _) = open(path, bytes)?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let dt = match view.dtype() {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
            Dtype::U32 => DType::U32,
            Dtype::I64 => DType::I64,
            d => return Err(bad(format!("tensor '{name}' has unsupported dtype {d:?}"))),
        };
        let t = Tensor::from_raw_buffer(view.data(), dt, view.shape(), device)
            .map_err(|e| bad(format!("tensor '{name}': {e}")))?;
        tensors.insert(name, t);
    }
    Ok(Checkpoint { tensors, metadata })
}

/// Checks that a checkpoint holds exactly the expected parameters with the expected shapes; the error lists
/// every missing, unexpected and mis-shaped tensor.
pub fn check_params(
    path: &Path,
    ck: &Checkpoint,
    expected: &[(String, Vec<usize>)],
    ignore_prefix: &str,
) -> Result<()> {
    let mut problems = Vec::new();
    for (name, shape) in expected {
        match ck.tensors.get(name) {
            None => problems.push(format!("missing tensor '{name}' {shape:?}")),
            Some(t) if t.dims() != shape.as_slice() => problems.push(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                t.dims()
            )),
            _ => {}
        }
    }
    let mut extra: Vec<&String> = ck
        .tensors
        .keys()
        .filter(|k| !k.starts_with(ignore_prefix) && !expected.iter().any(|(n, _)| n == *k))
        .collect();
    extra.sort();
    problems.extend(
        extra
            .into_iter()
            .map(|k| format!("unexpected tensor '{k}'")),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "{}: checkpoint does not fit this model: {}",
            path.display(),
            problems.join("; ")
        )))
    }
}

/// Only the metadata of a checkpoint (reads the header, not the tensors).
pub fn load_metadata(path: &Path) -> Result<HashMap<String, String>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|e| Error::msg(format!("{}: not a valid checkpoint: {e}", path.display())))?;
    let n = u64::from_le_bytes(len);
    if n > file_len.saturating_sub(8) || n > 100_000_000 {
        return Err(Error::msg(format!(
            "{}: not a valid checkpoint: header of {n} bytes in a {file_len}-byte file",
            path.display()
        )));
    }
    let mut buf = vec![0u8; 8 + n as usize];
    buf[..8].copy_from_slice(&len);
    f.read_exact(&mut buf[8..])
        .map_err(|e| Error::msg(format!("{}: not a valid checkpoint: {e}", path.display())))?;
    #[derive(serde::Deserialize)]
    struct Header {
        #[serde(rename = "__metadata__", default)]
        metadata: HashMap<String, String>,
    }
    let h: Header = serde_json::from_slice(&buf[8..]).map_err(|e| {
        Error::msg(format!(
            "{}: not a valid checkpoint header: {e}",
            path.display()
        ))
    })?;
    Ok(h.metadata)
}

/// Checks the format version and kind recorded in a checkpoint's metadata.
pub fn check_format(
    path: &Path,
    meta: &HashMap<String, String>,
    format: &str,
    kind: &str,
) -> Result<()> {
    let got = meta.get(FORMAT_KEY).map(String::as_str).unwrap_or("<none>");
    if got != format {
        return Err(Error::msg(format!(
            "{}: checkpoint format '{got}', this build reads '{format}' (a newer or foreign file?)",
            path.display()
        )));
    }
    let got = meta.get("kind").map(String::as_str).unwrap_or("<none>");
    if got != kind {
        return Err(Error::msg(format!(
            "{}: this is a '{got}' checkpoint, expected a '{kind}' checkpoint",
            path.display()
        )));
    }
    Ok(())
}
