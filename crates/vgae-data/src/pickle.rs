//! A restricted reader for the Python-2 pickles (protocol 2) of the Planetoid files.
//!
//! It is a stack machine over an object arena that understands only the opcodes and globals these files use
//! (scipy `csr_matrix`, numpy arrays, `collections.defaultdict(list)`). It executes nothing: every other
//! global is rejected, and every length is checked against the bytes left before anything is allocated.

use crate::error::{DataError, Result};
use std::path::{Path, PathBuf};

/// Index of an object in a [`Pickle`]'s arena; objects refer to each other by id.
pub type Id = usize;

/// The only callables a Planetoid pickle may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    /// `numpy.core.multiarray._reconstruct`: how numpy arrays are pickled.
    Reconstruct,
    /// `numpy.ndarray`, the class `_reconstruct` is given.
    NdArray,
    /// `numpy.dtype`.
    Dtype,
    /// `scipy.sparse.csr.csr_matrix` (the feature matrices).
    CsrMatrix,
    /// `collections.defaultdict` (the adjacency dict of `ind.*.graph`).
    DefaultDict,
    /// `__builtin__.list`, the defaultdict's default factory.
    List,
}

impl Global {
    fn parse(module: &str, name: &str) -> Option<Self> {
        Some(match (module, name) {
            ("numpy.core.multiarray", "_reconstruct") => Global::Reconstruct,
            ("numpy", "ndarray") => Global::NdArray,
            ("numpy", "dtype") => Global::Dtype,
            ("scipy.sparse.csr", "csr_matrix") => Global::CsrMatrix,
            ("collections", "defaultdict") => Global::DefaultDict,
            ("__builtin__", "list") => Global::List,
            _ => return None,
        })
    }
}

/// One decoded Python value in the arena.
#[derive(Debug, Clone)]
pub enum Obj {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// Any integer opcode (`BININT*`, `LONG1`), widened.
    Int(i64),
    /// `BINFLOAT`.
    Float(f64),
    /// A Python-2 `str` / unicode: raw bytes.
    Bytes(Vec<u8>),
    /// A tuple of object ids.
    Tuple(Vec<Id>),
    /// A list of object ids.
    List(Vec<Id>),
    /// A dict as (key, value) id pairs, in pickle order.
    Dict(Vec<(Id, Id)>),
    /// A reference to a whitelisted callable.
    Global(Global),
    /// The result of calling a whitelisted global: recorded, never run.
    Instance {
        /// The callable.
        class: Global,
        /// Its arguments.
        args: Vec<Id>,
        /// The `BUILD` state, if one was applied.
        state: Option<Id>,
        /// Items set on it with `SETITEM(S)` (a defaultdict's entries).
        items: Vec<(Id, Id)>,
    },
}

/// A decoded pickle: the arena of objects and the id of the root.
pub struct Pickle {
    /// The file it came from, named in every error.
    pub path: PathBuf,
    objs: Vec<Obj>,
    /// The object `STOP` returned.
    pub root: Id,
}

struct Machine<'a> {
    path: &'a Path,
    buf: &'a [u8],
    pos: usize,
    objs: Vec<Obj>,
    stack: Vec<Option<Id>>, // None marks a MARK
    memo: Vec<Option<Id>>,
}

impl<'a> Machine<'a> {
    fn err(&self, msg: impl Into<String>) -> DataError {
        DataError::Format {
            path: self.path.to_path_buf(),
            offset: self.pos as u64,
            msg: msg.into(),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() - self.pos {
            return Err(self.err(format!(
                "truncated pickle: needs {n} bytes, {} left",
                self.buf.len() - self.pos
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn line(&mut self) -> Result<&'a str> {
        let rest = &self.buf[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("unterminated GLOBAL line"))?;
        let s =
            std::str::from_utf8(&rest[..end]).map_err(|_| self.err("GLOBAL name is not UTF-8"))?;
        self.pos += end + 1;
        Ok(s)
    }
    fn alloc(&mut self, o: Obj) -> Id {
        self.objs.push(o);
        self.objs.len() - 1
    }
    fn push(&mut self, o: Obj) {
        let id = self.alloc(o);
        self.stack.push(Some(id));
    }
    fn pop(&mut self) -> Result<Id> {
        match self.stack.pop() {
            Some(Some(id)) => Ok(id),
            Some(None) => Err(self.err("unexpected MARK on the stack")),
            None => Err(self.err("stack underflow")),
        }
    }
    fn top(&self) -> Result<Id> {
        match self.stack.last() {
            Some(Some(id)) => Ok(*id),
            _ => Err(self.err("expected an object on top of the stack")),
        }
    }
    /// Pops everything down to the last MARK.
    fn pop_mark(&mut self) -> Result<Vec<Id>> {
        let m = self
            .stack
            .iter()
            .rposition(|s| s.is_none())
            .ok_or_else(|| self.err("no MARK on the stack"))?;
        let items = self.stack.split_off(m + 1);
        self.stack.pop();
        Ok(items.into_iter().map(|s| s.unwrap()).collect())
    }
    fn memo_put(&mut self, idx: usize) -> Result<()> {
        let id = self.top()?;
        if idx > self.buf.len() {
            return Err(self.err(format!("memo index {idx} larger than the file")));
        }
        if self.memo.len() <= idx {
            self.memo.resize(idx + 1, None);
        }
        self.memo[idx] = Some(id);
        Ok(())
    }
    fn memo_get(&mut self, idx: usize) -> Result<()> {
        let id = self
            .memo
            .get(idx)
            .copied()
            .flatten()
            .ok_or_else(|| self.err(format!("memo index {idx} was never stored")))?;
        self.stack.push(Some(id));
        Ok(())
    }
    fn append(&mut self, list: Id, items: Vec<Id>) -> Result<()> {
        match &mut self.objs[list] {
            Obj::List(v) => {
                v.extend(items);
                Ok(())
            }
            _ => Err(self.err("APPEND to something that is not a list")),
        }
    }
    fn set_items(&mut self, target: Id, kv: Vec<Id>) -> Result<()> {
        if !kv.len().is_multiple_of(2) {
            return Err(self.err("SETITEMS with an odd number of items"));
        }
        let pairs = kv.chunks(2).map(|c| (c[0], c[1]));
        match &mut self.objs[target] {
            Obj::Dict(v) => v.extend(pairs),
            Obj::Instance {
                class: Global::DefaultDict,
                items,
                ..
            } => items.extend(pairs),
            _ => return Err(self.err("SETITEMS on something that is not a dict")),
        }
        Ok(())
    }
    fn call(&mut self, callable: Id, args: Id) -> Result<()> {
        let class = match &self.objs[callable] {
            Obj::Global(g) => *g,
            _ => {
                return Err(self.err("REDUCE/NEWOBJ on something that is not a whitelisted global"))
            }
        };
        let args = match &self.objs[args] {
            Obj::Tuple(a) => a.clone(),
            _ => return Err(self.err("REDUCE/NEWOBJ arguments are not a tuple")),
        };
        self.push(Obj::Instance {
            class,
            args,
            state: None,
            items: Vec::new(),
        });
        Ok(())
    }

    fn run(mut self) -> Result<Pickle> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 2 {
                        return Err(self.err(format!("pickle protocol {proto}, expected 2")));
                    }
                }
                b'.' => {
                    let root = self.pop()?;
                    return Ok(Pickle {
                        path: self.path.to_path_buf(),
                        objs: self.objs,
                        root,
                    });
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = Global::parse(module, name).ok_or_else(|| {
                        self.err(format!(
                            "refusing global '{module}.{name}': only numpy arrays, scipy csr_matrix \
                             and defaultdict(list) are allowed in a Planetoid file"
                        ))
                    })?;
                    self.push(Obj::Global(g));
                }
                b'q' => {
                    let i = self.u8()? as usize;
                    self.memo_put(i)?
                }
                b'r' => {
                    let i = self.u32()? as usize;
                    self.memo_put(i)?
                }
                b'h' => {
                    let i = self.u8()? as usize;
                    self.memo_get(i)?
                }
                b'j' => {
                    let i = self.u32()? as usize;
                    self.memo_get(i)?
                }
                b'(' => self.stack.push(None),
                b')' => self.push(Obj::Tuple(vec![])),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items))
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>>>()?;
                    items.reverse();
                    self.push(Obj::Tuple(items))
                }
                b'N' => self.push(Obj::None),
                0x88 => self.push(Obj::Bool(true)),
                0x89 => self.push(Obj::Bool(false)),
                b'K' => {
                    let v = self.u8()? as i64;
                    self.push(Obj::Int(v))
                }
                b'M' => {
                    let b = self.take(2)?;
                    self.push(Obj::Int(u16::from_le_bytes([b[0], b[1]]) as i64))
                }
                b'J' => {
                    let v = self.u32()? as i32 as i64;
                    self.push(Obj::Int(v))
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    if n > 8 {
                        return Err(self.err(format!("LONG1 of {n} bytes does not fit in 64 bits")));
                    }
                    let b = self.take(n)?;
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= (x as i64) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.push(Obj::Int(v))
                }
                b'G' => {
                    let b = self.take(8)?;
                    self.push(Obj::Float(f64::from_be_bytes(b.try_into().unwrap())))
                }
                b'U' => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(b))
                }
                b'T' | b'X' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(b))
                }
                b']' => self.push(Obj::List(vec![])),
                b'}' => self.push(Obj::Dict(vec![])),
                b'a' => {
                    let v = self.pop()?;
                    let l = self.top()?;
                    self.append(l, vec![v])?
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    let l = self.top()?;
                    self.append(l, items)?
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let d = self.top()?;
                    self.set_items(d, vec![k, v])?
                }
                b'u' => {
                    let kv = self.pop_mark()?;
                    let d = self.top()?;
                    self.set_items(d, kv)?
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.call(callable, args)?
                }
                b'b' => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    match &mut self.objs[target] {
                        Obj::Instance { state: s, .. } => *s = Some(state),
                        _ => return Err(self.err("BUILD on something that is not an object")),
                    }
                }
                other => {
                    return Err(self.err(format!(
                        "unsupported pickle opcode 0x{other:02x} (not used by Planetoid files)"
                    )))
                }
            }
        }
    }
}

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
    /// Runs the restricted machine over `bytes`; `path` only names the file in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Pickle> {
        Machine {
            path,
            buf: bytes,
            pos: 0,
            objs: Vec::new(),
            stack: Vec::new(),
            memo: Vec::new(),
        }
        .run()
    }

    /// The object with this id. Panics on an id not from this pickle.
    pub fn obj(&self, id: Id) -> &Obj {
        &self.objs[id]
    }

    /// An [`DataError::Invalid`] naming this pickle's file.
    pub fn err(&self, msg: impl Into<String>) -> DataError {
        DataError::invalid(&self.path, msg)
    }

    /// The integer `id` holds; an error names what it holds instead. So do the other typed getters.
    pub fn int(&self, id: Id) -> Result<i64> {
        match self.obj(id) {
            Obj::Int(v) => Ok(*v),
            o => Err(self.err(format!("expected an integer, found {}", kind(o)))),
        }
    }

    /// The string (bytes) `id` holds.
    pub fn bytes(&self, id: Id) -> Result<&[u8]> {
        match self.obj(id) {
            Obj::Bytes(b) => Ok(b),
            o => Err(self.err(format!("expected a string, found {}", kind(o)))),
        }
    }

    /// The tuple `id` holds.
    pub fn tuple(&self, id: Id) -> Result<&[Id]> {
        match self.obj(id) {
            Obj::Tuple(t) => Ok(t),
            o => Err(self.err(format!("expected a tuple, found {}", kind(o)))),
        }
    }

    /// The list `id` holds.
    pub fn list(&self, id: Id) -> Result<&[Id]> {
        match self.obj(id) {
            Obj::List(t) => Ok(t),
            o => Err(self.err(format!("expected a list, found {}", kind(o)))),
        }
    }

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
        let width = code[1..]
            .parse::<usize>()
            .map_err(|_| self.err(format!("unknown dtype '{code}'")))?;
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

fn kind(o: &Obj) -> &'static str {
    match o {
        Obj::None => "None",
        Obj::Bool(_) => "a bool",
        Obj::Int(_) => "an integer",
        Obj::Float(_) => "a float",
        Obj::Bytes(_) => "a string",
        Obj::Tuple(_) => "a tuple",
        Obj::List(_) => "a list",
        Obj::Dict(_) => "a dict",
        Obj::Global(_) => "a class",
        Obj::Instance { .. } => "an object",
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
