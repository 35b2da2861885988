//! Typed views of decoded objects: numpy arrays, scipy `csr_matrix` fields, `defaultdict` entries.

use super::{kind, Global, Id, Obj, Pickle};
use crate::error::Result;

/// A numpy array as stored in the pickle: shape, dtype string (e.g. `<f4`) and raw bytes.
pub struct NdArray<'a> {
    /// Dimensions, C order.
    pub shape: Vec<usize>,
    /// numpy dtype string with byte order, e.g. `<f4`, `|b1`.
    pub dtype: String,
    /// The array's bytes, borrowed from the pickle.
    pub data: &'a [u8],
}

impl Pickle {
    /// (args, state, dict items) of an instance of `want`.
    #[allow(clippy::type_complexity)]
    fn instance(&self, id: Id, want: Global) -> Result<(&[Id], Option<Id>, &[(Id, Id)])> {
        match self.obj(id) {
            Obj::Instance {
                class,
                args,
                state,
                items,
            } if *class == want => Ok((args, *state, items)),
            o => Err(self.err(format!("expected a {want:?} object, found {}", kind(o)))),
        }
    }

    /// Decodes `numpy.core.multiarray._reconstruct(ndarray, (0,), 'b')` + its BUILD state.
    pub fn ndarray(&self, id: Id) -> Result<NdArray<'_>> {
        let (_, state, _) = self.instance(id, Global::Reconstruct)?;
        let state = state.ok_or_else(|| self.err("numpy array without state"))?;
        let st = self.tuple(state)?;
        if st.len() != 5 {
            return Err(self.err(format!(
                "numpy array state has {} fields, expected 5",
                st.len()
            )));
        }
        let shape = self
            .tuple(st[1])?
            .iter()
            .map(|&d| {
                let v = self.int(d)?;
                usize::try_from(v).map_err(|_| self.err(format!("negative array dimension {v}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let (dargs, dstate, _) = self.instance(st[2], Global::Dtype)?;
        let code = std::str::from_utf8(
            self.bytes(
                *dargs
                    .first()
                    .ok_or_else(|| self.err("dtype without a type code"))?,
            )?,
        )
        .map_err(|_| self.err("dtype code is not text"))?;
        let order = match dstate {
            Some(s) => {
                let t = self.tuple(s)?;
                let b = self.bytes(
                    *t.get(1)
                        .ok_or_else(|| self.err("dtype state without byte order"))?,
                )?;
                b.first().copied().unwrap_or(b'|') as char
            }
            None => return Err(self.err("dtype without byte order")),
        };
        if matches!(self.obj(st[3]), Obj::Bool(true)) {
            return Err(self.err("Fortran-ordered arrays are not supported"));
        }
        let data = self.bytes(st[4])?;
        let n: usize = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| self.err("array size overflows"))?;
        // A kind letter and a byte width (`f4`, `i8`); anything else, empty or not ASCII, is refused here
        // rather than sliced.
        let width = code
            .get(1..)
            .filter(|_| code.is_ascii())
            .and_then(|w| w.parse::<usize>().ok())
            .filter(|w| (1..=16).contains(w))
            .ok_or_else(|| self.err(format!("unknown dtype {code:?}")))?;
        if n.checked_mul(width) != Some(data.len()) {
            return Err(self.err(format!(
                "array of shape {shape:?} and dtype {code} needs {} bytes, found {}",
                n.saturating_mul(width),
                data.len()
            )));
        }
        let order = if order == '>' { '>' } else { '<' };
        Ok(NdArray {
            shape,
            dtype: format!("{order}{code}"),
            data,
        })
    }

    /// The `(key, value)` entries of a `defaultdict` instance.
    pub fn defaultdict(&self, id: Id) -> Result<&[(Id, Id)]> {
        let (_, _, items) = self.instance(id, Global::DefaultDict)?;
        Ok(items)
    }

    /// The attribute dict of a `csr_matrix` instance, as (name, value) pairs.
    pub fn csr_fields(&self, id: Id) -> Result<Vec<(String, Id)>> {
        let (_, state, _) = self.instance(id, Global::CsrMatrix)?;
        let state = state.ok_or_else(|| self.err("csr_matrix without state"))?;
        match self.obj(state) {
            Obj::Dict(kv) => kv
                .iter()
                .map(|&(k, v)| Ok((String::from_utf8_lossy(self.bytes(k)?).into_owned(), v)))
                .collect(),
            o => Err(self.err(format!("csr_matrix state is {}, expected a dict", kind(o)))),
        }
    }
}

/// Decodes a little/big-endian numeric array into `T` via `f`.
pub fn decode<T>(a: &NdArray<'_>, width: usize, f: impl Fn([u8; 8]) -> T) -> Vec<T> {
    let be = a.dtype.starts_with('>');
    a.data
        .chunks_exact(width)
        .map(|c| {
            let mut b = [0u8; 8];
            if be {
                for (i, x) in c.iter().rev().enumerate() {
                    b[i] = *x;
                }
            } else {
                b[..width].copy_from_slice(c);
            }
            f(b)
        })
        .collect()
}

/// An integer array (`i4`, `i8`, `u1`...) as i64.
pub fn ints(p: &Pickle, a: &NdArray<'_>) -> Result<Vec<i64>> {
    let code = &a.dtype[1..];
    Ok(match code {
        "i4" => decode(a, 4, |b| {
            i32::from_le_bytes(b[..4].try_into().unwrap()) as i64
        }),
        "i8" => decode(a, 8, i64::from_le_bytes),
        "u1" | "b1" => decode(a, 1, |b| b[0] as i64),
        _ => {
            return Err(p.err(format!(
                "expected an integer array, found dtype {}",
                a.dtype
            )))
        }
    })
}

/// A float array (`f4` or `f8`) as f32.
pub fn floats(p: &Pickle, a: &NdArray<'_>) -> Result<Vec<f32>> {
    let code = &a.dtype[1..];
    Ok(match code {
        "f4" => decode(a, 4, |b| f32::from_le_bytes(b[..4].try_into().unwrap())),
        "f8" => decode(a, 8, |b| f64::from_le_bytes(b) as f32),
        _ => return Err(p.err(format!("expected a float array, found dtype {}", a.dtype))),
    })
}
