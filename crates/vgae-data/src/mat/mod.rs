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
//!
//! Here: the public API, the header and the top-level element loop; `elements` reads tags and matrices,
//! `inflate` decompresses `miCOMPRESSED` elements, `writer` writes files for the tests.

mod elements;
mod inflate;
mod writer;

pub use writer::write;

use crate::error::{read_file, DataError, Result};
use elements::{matrix, Cur};
use inflate::inflate;
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
