//! MATLAB level-5 MAT-files (`save -v6` / `-v7`): numeric and char arrays, stored plainly (`miMATRIX`) or
//! zlib-compressed (`miCOMPRESSED`), either byte order. Enough for Frey Face (`frey_rawface.mat`, variable
//! `ff`, uint8 560 × 1965).
//!
//! Layout: a 128-byte header (116 bytes of text starting `MATLAB 5.0 MAT-file`, 8 bytes subsystem offset, a
//! `u16` version 0x0100 and the endian indicator `IM` (little-endian) or `MI` (big-endian)), then data
//! elements, each an 8-byte tag (type, byte count) — or a 4-byte "small element" tag with up to 4 data
//! bytes — followed by its data padded to 8 bytes. A matrix holds sub-elements: array flags (class),
//! dimensions, name, real part, optional imaginary part. Cells, structs, objects and sparse arrays are
//! listed with their class but their data is not decoded.
//!
//! Every byte count is checked against what the file (or the decompressed element) actually holds before
//! anything is allocated; a declared length beyond the end is an error naming the file and byte offset.

use crate::error::{read_file, DataError, Result};
use flate2::read::ZlibDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// `miINT8`. (The `MI_*` codes are data element types: every element's tag says which its bytes hold.)
pub const MI_INT8: u32 = 1;
/// `miUINT8`.
pub const MI_UINT8: u32 = 2;
/// `miINT16`.
pub const MI_INT16: u32 = 3;
/// `miUINT16`.
pub const MI_UINT16: u32 = 4;
/// `miINT32`.
pub const MI_INT32: u32 = 5;
/// `miUINT32`.
pub const MI_UINT32: u32 = 6;
/// `miSINGLE` (f32).
pub const MI_SINGLE: u32 = 7;
/// `miDOUBLE` (f64).
pub const MI_DOUBLE: u32 = 9;
/// `miINT64`.
pub const MI_INT64: u32 = 12;
/// `miUINT64`.
pub const MI_UINT64: u32 = 13;
/// `miMATRIX`: an array with its flags, dimensions, name and data as sub-elements.
pub const MI_MATRIX: u32 = 14;
/// `miCOMPRESSED`: a zlib stream holding one more element.
pub const MI_COMPRESSED: u32 = 15;
/// `miUTF8` text.
pub const MI_UTF8: u32 = 16;
/// `miUTF16` text.
pub const MI_UTF16: u32 = 17;
/// `miUTF32` text.
pub const MI_UTF32: u32 = 18;

/// `mxCHAR_CLASS`: a char array (MATLAB array classes, `mxCLASS`, name what a matrix holds).
pub const MX_CHAR: u8 = 4;
/// `mxDOUBLE_CLASS`: f64 values.
pub const MX_DOUBLE: u8 = 6;
/// `mxUINT8_CLASS`: byte values (Frey Face's pixels).
pub const MX_UINT8: u8 = 9;

const MAX_DEFLATE_RATIO: u64 = 1032;

/// One top-level variable.
#[derive(Debug, Clone, PartialEq)]
pub struct MatVar {
    /// Variable name as saved (e.g. `ff`).
    pub name: String,
    /// `mxCLASS` code (6 double, 7 single, 8..15 int8..uint64, 4 char, 1 cell, 2 struct, 5 sparse...).
    pub class: u8,
    /// Dimensions, MATLAB order (rows first).
    pub dims: Vec<usize>,
    /// Real part in MATLAB's column-major order (empty for classes whose data is not decoded).
    pub data: Vec<f64>,
    /// Whether the array is complex; only the real part is decoded.
    pub complex: bool,
    /// False for cells, structs, objects and sparse arrays, whose data is skipped.
    pub decoded: bool,
}

impl MatVar {
    /// [`class_name`] of this variable's class, for messages.
    pub fn class_name(&self) -> &'static str {
        class_name(self.class)
    }

    /// The values as bytes, if every value is an integer in 0..=255.
    pub fn to_u8(&self) -> Option<Vec<u8>> {
        self.data
            .iter()
            .map(|&v| (v.fract() == 0.0 && (0.0..=255.0).contains(&v)).then_some(v as u8))
            .collect()
    }
}

/// The MATLAB name of an `mxCLASS` code ("uint8", "double", "cell"...), for messages.
pub fn class_name(c: u8) -> &'static str {
    match c {
        1 => "cell",
        2 => "struct",
        3 => "object",
        4 => "char",
        5 => "sparse",
        6 => "double",
        7 => "single",
        8 => "int8",
        9 => "uint8",
        10 => "int16",
        11 => "uint16",
        12 => "int32",
        13 => "uint32",
        14 => "int64",
        15 => "uint64",
        _ => "unknown",
    }
}

fn elem_size(t: u32) -> Option<usize> {
    Some(match t {
        MI_INT8 | MI_UINT8 | MI_UTF8 => 1,
        MI_INT16 | MI_UINT16 | MI_UTF16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE | MI_UTF32 => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        _ => return None,
    })
}

/// A read position inside one buffer: the whole file, or one decompressed element.
struct Cur<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
    path: &'a Path,
    /// For a decompressed element: the file offset of its `miCOMPRESSED` tag.
    compressed_at: Option<u64>,
}

impl<'a> Cur<'a> {
    fn err(&self, at: usize, msg: impl Into<String>) -> DataError {
        let msg = msg.into();
        match self.compressed_at {
            None => DataError::Format {
                path: self.path.to_path_buf(),
                offset: at as u64,
                msg,
            },
            Some(c) => DataError::Format {
                path: self.path.to_path_buf(),
                offset: c,
                msg: format!("in the compressed element, at decompressed byte {at}: {msg}"),
            },
        }
    }

    fn u32_at(&self, at: usize) -> Result<u32> {
        let b = self.buf.get(at..at + 4).ok_or_else(|| {
            self.err(
                at,
                format!(
                    "truncated: need 4 bytes, {} left",
                    self.buf.len().saturating_sub(at)
                ),
            )
        })?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    /// Reads a tag at `pos`; returns (type, data slice, data offset) and moves past the padded element.
    fn element(&mut self, pad_to_8: bool) -> Result<(u32, &'a [u8], usize)> {
        let at = self.pos;
        let first = self.u32_at(at)?;
        if first >> 16 != 0 {
            // Small data element: type in the low 16 bits, byte count (<= 4) in the high ones.
            let (t, n) = (first & 0xffff, (first >> 16) as usize);
            if n > 4 {
                return Err(self.err(
                    at,
                    format!("small data element declares {n} bytes, at most 4 fit"),
                ));
            }
            let d = self
                .buf
                .get(at + 4..at + 8)
                .ok_or_else(|| self.err(at, "truncated small data element"))?;
            self.pos = at + 8;
            return Ok((t, &d[..n], at + 4));
        }
        let n = self.u32_at(at + 4)? as usize;
        let start = at + 8;
        let left = self.buf.len().saturating_sub(start);
        if n > left {
            return Err(self.err(
                at,
                format!("data element of type {first} declares {n} bytes, but only {left} remain"),
            ));
        }
        let end = start + n;
        self.pos = if pad_to_8 { (end + 7) & !7 } else { end }.min(self.buf.len());
        Ok((first, &self.buf[start..end], start))
    }
}

/// Reads every top-level variable of a MAT-file.
pub fn read(path: &Path) -> Result<Vec<MatVar>> {
    let bytes = read_file(path)?;
    parse(&bytes, path)
}

/// Reads one variable by name; the error lists the variables present.
pub fn read_var(path: &Path, name: &str) -> Result<MatVar> {
    let vars = read(path)?;
    let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    vars.into_iter().find(|v| v.name == name).ok_or_else(|| {
        DataError::invalid(
            path,
            format!(
                "no variable '{name}' in the MAT-file (it holds: {})",
                names.join(", ")
            ),
        )
    })
}

/// Parses a MAT-file held in memory. `path` is only used in error messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<MatVar>> {
    let fe = |offset: u64, msg: String| DataError::Format {
        path: PathBuf::from(path),
        offset,
        msg,
    };
    if bytes.len() < 128 {
        return Err(fe(
            0,
            format!(
                "{} bytes is too short for the 128-byte MAT-file header",
                bytes.len()
            ),
        ));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(fe(
                126,
                format!("endian indicator is {other:?}, expected \"IM\" or \"MI\": not a MATLAB level-5 MAT-file"),
            ))
        }
    };
    if bytes.starts_with(&[0x89, b'H', b'D', b'F']) || !bytes.starts_with(b"MATLAB") {
        return Err(fe(
            0,
            "header text does not start with \"MATLAB\" (v7.3 files are HDF5 and not supported)"
                .into(),
        ));
    }
    let version = if big_endian {
        u16::from_be_bytes([bytes[124], bytes[125]])
    } else {
        u16::from_le_bytes([bytes[124], bytes[125]])
    };
    if version != 0x0100 {
        return Err(fe(124, format!("version 0x{version:04x}, expected 0x0100")));
    }
    let mut cur = Cur {
        buf: bytes,
        pos: 128,
        big_endian,
        path,
        compressed_at: None,
    };
    let mut vars = Vec::new();
    while cur.pos < bytes.len() {
        if bytes.len() - cur.pos < 8 && bytes[cur.pos..].iter().all(|&b| b == 0) {
            break; // trailing padding
        }
        let at = cur.pos;
        let peek = cur.u32_at(at)?;
        let compressed = peek == MI_COMPRESSED;
        let (t, data, _) = cur.element(!compressed)?;
        match t {
            MI_MATRIX => vars.push(matrix(&cur, data, at + 8)?),
            MI_COMPRESSED => {
                let inner = inflate(data, path, at as u64, big_endian)?;
                let mut c = Cur {
                    buf: &inner,
                    pos: 0,
                    big_endian,
                    path,
                    compressed_at: Some(at as u64),
                };
                let (t2, d2, off2) = c.element(true)?;
                if t2 != MI_MATRIX {
                    return Err(c.err(0, format!("compressed element holds type {t2}, expected miMATRIX (14)")));
                }
                vars.push(matrix(&c, d2, off2)?);
            }
            other => return Err(cur.err(at, format!("top-level element of type {other}, expected miMATRIX (14) or miCOMPRESSED (15)"))),
        }
    }
    Ok(vars)
}

/// Decompresses one `miCOMPRESSED` element, reading no more than its own tag declares.
fn inflate(z: &[u8], path: &Path, at: u64, big_endian: bool) -> Result<Vec<u8>> {
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

fn matrix(cur: &Cur, data: &[u8], base: usize) -> Result<MatVar> {
    let mut c = Cur {
        buf: data,
        pos: 0,
        big_endian: cur.big_endian,
        path: cur.path,
        compressed_at: cur.compressed_at,
    };
    // Offsets inside `c` are relative to `data`; shift error offsets to the enclosing buffer.
    let shift = |e: DataError| match e {
        DataError::Format { path, offset, msg } if cur.compressed_at.is_none() => {
            DataError::Format {
                path,
                offset: offset + base as u64,
                msg,
            }
        }
        other => other,
    };
    let inner = |c: &mut Cur<'_>| -> Result<MatVar> {
        let (t, flags, at) = c.element(true)?;
        if t != MI_UINT32 || flags.len() != 8 {
            return Err(c.err(
                at,
                format!(
                    "array flags: expected 8 bytes of miUINT32 (6), found {} bytes of type {t}",
                    flags.len()
                ),
            ));
        }
        let f0 = c.u32_at(at)?;
        let class = (f0 & 0xff) as u8;
        let complex = f0 & 0x0800 != 0;
        let (t, dimb, at) = c.element(true)?;
        if t != MI_INT32 || dimb.len() % 4 != 0 || dimb.len() < 8 {
            return Err(c.err(at, format!("dimensions: expected at least 2 miINT32 (5) values, found {} bytes of type {t}", dimb.len())));
        }
        let mut dims = Vec::with_capacity(dimb.len() / 4);
        let mut count: u64 = 1;
        for i in 0..dimb.len() / 4 {
            let d = c.u32_at(at + 4 * i)? as i32;
            if d < 0 {
                return Err(c.err(at + 4 * i, format!("negative dimension {d}")));
            }
            count = count
                .checked_mul(d as u64)
                .ok_or_else(|| c.err(at, "dimension product overflows"))?;
            dims.push(d as usize);
        }
        let (t, nameb, at) = c.element(true)?;
        if t != MI_INT8 && t != MI_UTF8 && t != MI_UINT8 {
            return Err(c.err(
                at,
                format!("array name: expected miINT8 (1), found type {t}"),
            ));
        }
        let name = String::from_utf8_lossy(nameb).into_owned();
        let numeric = (6..=15).contains(&class) || class == MX_CHAR;
        if !numeric {
            return Ok(MatVar {
                name,
                class,
                dims,
                data: Vec::new(),
                complex,
                decoded: false,
            });
        }
        let (t, real, at) = c.element(true)?;
        let size = elem_size(t)
            .ok_or_else(|| c.err(at, format!("real part has unsupported data type {t}")))?;
        if real.len() as u64 != count.saturating_mul(size as u64) {
            return Err(c.err(
                at,
                format!(
                    "real part holds {} bytes of type {t} ({} values), but dimensions {dims:?} need {count} values",
                    real.len(),
                    real.len() / size
                ),
            ));
        }
        let data = decode(real, t, c.big_endian);
        Ok(MatVar {
            name,
            class,
            dims,
            data,
            complex,
            decoded: true,
        })
    };
    inner(&mut c).map_err(shift)
}

fn decode(b: &[u8], t: u32, be: bool) -> Vec<f64> {
    macro_rules! conv {
        ($ty:ty, $n:expr) => {
            b.chunks_exact($n)
                .map(|ch| {
                    let a: [u8; $n] = ch.try_into().expect("chunk size");
                    (if be {
                        <$ty>::from_be_bytes(a)
                    } else {
                        <$ty>::from_le_bytes(a)
                    }) as f64
                })
                .collect()
        };
    }
    match t {
        MI_INT8 => b.iter().map(|&v| v as i8 as f64).collect(),
        MI_UINT8 | MI_UTF8 => b.iter().map(|&v| v as f64).collect(),
        MI_INT16 => conv!(i16, 2),
        MI_UINT16 | MI_UTF16 => conv!(u16, 2),
        MI_INT32 => conv!(i32, 4),
        MI_UINT32 | MI_UTF32 => conv!(u32, 4),
        MI_SINGLE => conv!(f32, 4),
        MI_DOUBLE => conv!(f64, 8),
        MI_INT64 => conv!(i64, 8),
        MI_UINT64 => conv!(u64, 8),
        _ => Vec::new(),
    }
}

/// Writes variables as a level-5 MAT-file (little-endian), each either plain or zlib-compressed. Used by the
/// tests to build inputs; real numeric data only, stored as doubles unless every value fits a byte and
/// `class` is uint8.
pub fn write(vars: &[(&str, u8, &[usize], &[f64])], compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut text = b"MATLAB 5.0 MAT-file, written by vgae-data".to_vec();
    text.resize(116, b' ');
    out.extend(text);
    out.extend([0u8; 8]);
    out.extend(0x0100u16.to_le_bytes());
    out.extend(b"IM");
    for (name, class, dims, data) in vars {
        let mut m = Vec::new();
        let sub = |m: &mut Vec<u8>, t: u32, d: &[u8]| {
            m.extend(t.to_le_bytes());
            m.extend((d.len() as u32).to_le_bytes());
            m.extend(d);
            while !m.len().is_multiple_of(8) {
                m.push(0);
            }
        };
        let mut flags = (*class as u32).to_le_bytes().to_vec();
        flags.extend([0u8; 4]);
        sub(&mut m, MI_UINT32, &flags);
        let db: Vec<u8> = dims
            .iter()
            .flat_map(|&d| (d as i32).to_le_bytes())
            .collect();
        sub(&mut m, MI_INT32, &db);
        sub(&mut m, MI_INT8, name.as_bytes());
        if *class == MX_UINT8 {
            let b: Vec<u8> = data.iter().map(|&v| v as u8).collect();
            sub(&mut m, MI_UINT8, &b);
        } else {
            let b: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            sub(&mut m, MI_DOUBLE, &b);
        }
        let mut el = MI_MATRIX.to_le_bytes().to_vec();
        el.extend((m.len() as u32).to_le_bytes());
        el.extend(m);
        if compress {
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&el).expect("writing to a Vec");
            let z = e.finish().expect("writing to a Vec");
            out.extend(MI_COMPRESSED.to_le_bytes());
            out.extend((z.len() as u32).to_le_bytes());
            out.extend(z);
        } else {
            out.extend(el);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_plain_and_compressed() {
        let vals: Vec<f64> = (0..6).map(|v| v as f64 * 10.0).collect();
        let dbl = [1.5, -2.0];
        for compress in [false, true] {
            let b = write(
                &[
                    ("ff", MX_UINT8, &[2, 3], &vals),
                    ("x", MX_DOUBLE, &[1, 2], &dbl),
                ],
                compress,
            );
            let v = parse(&b, Path::new("t.mat")).unwrap();
            assert_eq!(v.len(), 2);
            assert_eq!(v[0].name, "ff");
            assert_eq!(v[0].class_name(), "uint8");
            assert_eq!(v[0].dims, vec![2, 3]);
            assert_eq!(v[0].data, vals);
            assert_eq!(v[1].data, dbl.to_vec());
        }
    }

    #[test]
    fn bad_inputs_error() {
        let b = write(&[("ff", MX_UINT8, &[2, 3], &[1.0; 6])], false);
        let p = Path::new("t.mat");
        for cut in [0, 100, 127, 130, 140, b.len() - 1] {
            assert!(parse(&b[..cut], p).is_err(), "cut at {cut}");
        }
        let mut bad = b.clone();
        bad[126..128].copy_from_slice(b"XX");
        assert!(parse(&bad, p).unwrap_err().to_string().contains("endian"));
        let mut huge = b.clone();
        huge[132..136].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = parse(&huge, p).unwrap_err().to_string();
        assert!(e.contains("at byte 128") && e.contains("declares"), "{e}");
        let bz = write(&[("ff", MX_UINT8, &[2, 3], &[1.0; 6])], true);
        for cut in [136, 140, bz.len() - 3] {
            assert!(parse(&bz[..cut], p).is_err(), "cut at {cut}");
        }
    }
}
