//! Data elements: tags (plain and small), matrices and their sub-elements, numeric decoding.

use super::{
    MatVar, MI_DOUBLE, MI_INT16, MI_INT32, MI_INT64, MI_INT8, MI_SINGLE, MI_UINT16, MI_UINT32,
    MI_UINT64, MI_UINT8, MI_UTF16, MI_UTF32, MI_UTF8, MX_CHAR,
};
use crate::error::{DataError, Result};
use std::path::Path;

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
pub(super) struct Cur<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    pub(super) big_endian: bool,
    pub(super) path: &'a Path,
    /// For a decompressed element: the file offset of its `miCOMPRESSED` tag.
    pub(super) compressed_at: Option<u64>,
}

impl<'a> Cur<'a> {
    pub(super) fn err(&self, at: usize, msg: impl Into<String>) -> DataError {
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

    pub(super) fn u32_at(&self, at: usize) -> Result<u32> {
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
    pub(super) fn element(&mut self, pad_to_8: bool) -> Result<(u32, &'a [u8], usize)> {
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

pub(super) fn matrix(cur: &Cur, data: &[u8], base: usize) -> Result<MatVar> {
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
