//! `miCOMPRESSED` elements: a zlib stream holding one more element, inflated no further than its tag says.

use crate::error::{DataError, Result};
use flate2::read::ZlibDecoder;
use std::io::Read;
use std::path::Path;

const MAX_DEFLATE_RATIO: u64 = 1032;

/// Decompresses one `miCOMPRESSED` element, reading no more than its own tag declares.
pub(super) fn inflate(z: &[u8], path: &Path, at: u64, big_endian: bool) -> Result<Vec<u8>> {
    let zerr = |msg: String| DataError::Format {
        path: path.to_path_buf(),
        offset: at,
        msg: format!("compressed element: {msg}"),
    };
    let mut dec = ZlibDecoder::new(z);
    let mut tag = [0u8; 8];
    dec.read_exact(&mut tag).map_err(|e| {
        zerr(format!(
            "zlib stream is corrupt or too short for a tag: {e}"
        ))
    })?;
    let declared = if big_endian {
        u32::from_be_bytes([tag[4], tag[5], tag[6], tag[7]])
    } else {
        u32::from_le_bytes([tag[4], tag[5], tag[6], tag[7]])
    } as u64;
    let bound = (z.len() as u64).saturating_mul(MAX_DEFLATE_RATIO);
    if declared > bound {
        return Err(zerr(format!(
            "inner element declares {declared} bytes, more than {} compressed bytes can hold",
            z.len()
        )));
    }
    let mut out = tag.to_vec();
    (&mut dec)
        .take(declared)
        .read_to_end(&mut out)
        .map_err(|e| zerr(format!("zlib stream is corrupt: {e}")))?;
    if ((out.len() - 8) as u64) < declared {
        return Err(zerr(format!(
            "inner element declares {declared} bytes, but the zlib stream ends after {}",
            out.len() - 8
        )));
    }
    Ok(out)
}
