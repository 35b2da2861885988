//! IDX files (LeCun's MNIST format, also used by Fashion-MNIST), plain or gzipped.
//!
//! Layout: a big-endian magic `0x0000TTNN` (`TT` = element type, `NN` = number of dimensions), then `NN`
//! big-endian `u32` sizes, then the elements in row-major order. Only unsigned bytes (`TT = 0x08`) are used
//! by the image datasets and supported here. Every size is checked against the bytes actually present before
//! anything is allocated: a header that declares more data than the file holds is an error naming the file
//! and the byte offset, never a panic or a huge allocation.

use crate::error::{read_file, DataError, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// Element type code of unsigned bytes.
pub const TYPE_U8: u8 = 0x08;

/// A decoded IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes, outermost first (images: `[n, rows, cols]`; labels: `[n]`).
    pub dims: Vec<usize>,
    /// Elements in row-major order; `data.len()` equals the product of `dims`.
    pub data: Vec<u8>,
}

/// Deflate cannot expand data by more than about 1032:1; a gzipped header declaring more than this times the
/// compressed size is rejected before decompressing.
const MAX_DEFLATE_RATIO: u64 = 1032;

fn fmt_err(path: &Path, offset: u64, msg: impl Into<String>) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        offset,
        msg: msg.into(),
    }
}

/// Reads an IDX file; gzip is detected from its magic bytes (`1f 8b`), not from the file name.
pub fn read(path: &Path) -> Result<IdxArray> {
    let bytes = read_file(path)?;
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        parse_gz(&bytes, path)
    } else {
        parse(&bytes, path)
    }
}

/// Parses the magic and dimensions from the start of `head`; returns (dims, header length, element count).
fn header(head: &[u8], path: &Path, what: &str) -> Result<(Vec<usize>, usize, u64)> {
    if head.len() < 4 {
        return Err(fmt_err(
            path,
            0,
            format!(
                "{what} is {} bytes, too short for the 4-byte IDX magic",
                head.len()
            ),
        ));
    }
    if head[0] != 0 || head[1] != 0 {
        return Err(fmt_err(
            path,
            0,
            format!(
                "wrong magic {:02x} {:02x} {:02x} {:02x}: an IDX file starts with two zero bytes (e.g. 00 00 08 03 for images, 00 00 08 01 for labels)",
                head[0], head[1], head[2], head[3]
            ),
        ));
    }
    if head[2] != TYPE_U8 {
        return Err(fmt_err(
            path,
            2,
            format!(
                "element type 0x{:02x} is not supported: expected 0x08 (unsigned byte)",
                head[2]
            ),
        ));
    }
    let nd = head[3] as usize;
    if nd == 0 {
        return Err(fmt_err(path, 3, "IDX header declares 0 dimensions"));
    }
    let hlen = 4 + 4 * nd;
    if head.len() < hlen {
        return Err(fmt_err(
            path,
            head.len() as u64,
            format!(
                "truncated header: {nd} dimensions need {hlen} header bytes, {what} has {}",
                head.len()
            ),
        ));
    }
    let mut dims = Vec::with_capacity(nd);
    let mut count: u64 = 1;
    for i in 0..nd {
        let o = 4 + 4 * i;
        let d = u32::from_be_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]]);
        count = count
            .checked_mul(d as u64)
            .ok_or_else(|| fmt_err(path, o as u64, "dimension product overflows"))?;
        dims.push(d as usize);
    }
    Ok((dims, hlen, count))
}

/// Parses an uncompressed IDX image held in memory. `path` is only used in error messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let (dims, hlen, count) = header(bytes, path, "the file")?;
    let have = (bytes.len() - hlen) as u64;
    if count > have {
        return Err(fmt_err(
            path,
            hlen as u64,
            format!("header declares {dims:?} = {count} bytes of data, but only {have} follow the header"),
        ));
    }
    if count < have {
        return Err(fmt_err(
            path,
            hlen as u64 + count,
            format!(
                "{} trailing bytes after the {count} declared by the header {dims:?}",
                have - count
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[hlen..].to_vec(),
    })
}

/// Parses a gzipped IDX image held in memory, decompressing no more than the header declares.
pub fn parse_gz(gz: &[u8], path: &Path) -> Result<IdxArray> {
    let gzerr = |e: std::io::Error, at: u64| {
        fmt_err(
            path,
            at,
            format!("gzip stream is corrupt or truncated (after {at} decompressed bytes): {e}"),
        )
    };
    let mut dec = GzDecoder::new(gz);
    // Magic, then the dimensions.
    let mut head = vec![0u8; 4];
    read_full(&mut dec, &mut head).map_err(|e| gzerr(e, 0))?;
    let nd = head[3] as usize;
    if head[0] == 0 && head[1] == 0 && head[2] == TYPE_U8 && nd > 0 {
        head.resize(4 + 4 * nd, 0);
        let got = read_full(&mut dec, &mut head[4..]).map_err(|e| gzerr(e, 4))?;
        head.truncate(4 + got);
    }
    let (dims, hlen, count) = header(&head, path, "the decompressed stream")?;
    let bound = (gz.len() as u64).saturating_mul(MAX_DEFLATE_RATIO);
    if count > bound {
        return Err(fmt_err(
            path,
            hlen as u64,
            format!(
                "header declares {dims:?} = {count} bytes of data, more than a {}-byte gzip file can hold",
                gz.len()
            ),
        ));
    }
    // `take` bounds the read; `read_to_end` grows the buffer only as data actually arrives.
    let mut data = Vec::new();
    (&mut dec)
        .take(count)
        .read_to_end(&mut data)
        .map_err(|e| gzerr(e, hlen as u64))?;
    if (data.len() as u64) < count {
        return Err(fmt_err(
            path,
            hlen as u64 + data.len() as u64,
            format!(
                "header declares {dims:?} = {count} bytes of data, but the decompressed stream ends after {}",
                data.len()
            ),
        ));
    }
    let mut extra = [0u8; 1];
    match dec.read(&mut extra) {
        Ok(0) => {}
        Ok(_) => {
            return Err(fmt_err(
                path,
                hlen as u64 + count,
                format!("trailing data after the {count} bytes declared by the header {dims:?}"),
            ))
        }
        Err(e) => return Err(gzerr(e, hlen as u64 + count)),
    }
    Ok(IdxArray { dims, data })
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads an image file (`[n, rows, cols]`); returns (n, rows, cols, pixels).
pub fn read_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let a = read(path)?;
    match a.dims[..] {
        [n, r, c] => Ok((n, r, c, a.data)),
        _ => Err(fmt_err(
            path,
            3,
            format!(
                "expected an image file with 3 dimensions [n, rows, cols], found {:?}",
                a.dims
            ),
        )),
    }
}

/// Reads a label file (`[n]`), checking every label is below `classes`.
pub fn read_labels(path: &Path, classes: u8) -> Result<Vec<u8>> {
    let a = read(path)?;
    if a.dims.len() != 1 {
        return Err(fmt_err(
            path,
            3,
            format!(
                "expected a label file with 1 dimension [n], found {:?}",
                a.dims
            ),
        ));
    }
    if let Some(i) = a.data.iter().position(|&l| l >= classes) {
        return Err(fmt_err(
            path,
            8 + i as u64,
            format!("label {} of item {i} is not below {classes}", a.data[i]),
        ));
    }
    Ok(a.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(data);
        v
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn roundtrip_plain_and_gz() {
        let p = Path::new("x.idx");
        let b = idx(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let a = parse(&b, p).unwrap();
        assert_eq!(a.dims, vec![2, 2, 3]);
        assert_eq!(a.data[11], 12);
        assert_eq!(parse_gz(&gz(&b), p).unwrap(), a);
    }

    #[test]
    fn huge_declared_size_is_rejected_without_allocating() {
        let p = Path::new("x.idx");
        let b = idx(&[u32::MAX, u32::MAX, 1], &[0; 4]);
        let e = parse(&b, p).unwrap_err().to_string();
        assert!(e.contains("x.idx") && e.contains("at byte 16"), "{e}");
        let e = parse_gz(&gz(&b), p).unwrap_err().to_string();
        assert!(e.contains("more than a"), "{e}");
    }

    #[test]
    fn short_and_bad_headers() {
        let p = Path::new("y");
        for b in [
            &[][..],
            &[0, 0, 8][..],
            &[0, 0, 8, 3, 0, 0][..],
            &[0, 0, 8, 0][..],
            &[0, 0, 9, 1, 0, 0, 0, 0][..],
        ] {
            assert!(parse(b, p).is_err());
            assert!(parse_gz(&gz(b), p).is_err());
        }
        assert!(parse_gz(&[0x1f, 0x8b, 8, 0, 0], p).is_err());
    }
}
