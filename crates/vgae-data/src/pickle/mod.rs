//! A restricted reader for the Python-2 pickles (protocol 2) of the Planetoid files.
//!
//! It is a stack machine over an object arena that understands only the opcodes and globals these files use
//! (scipy `csr_matrix`, numpy arrays, `collections.defaultdict(list)`). It executes nothing: every other
//! global is rejected, and every length is checked against the bytes left before anything is allocated.
//!
//! [`Pickle::parse`] runs the opcode machine (`machine`); the typed views of what it decoded (numpy arrays,
//! scipy csr fields, defaultdict entries) live in `values`.

mod machine;
mod values;

pub use values::{decode, floats, ints, NdArray};

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

impl Pickle {
    /// Runs the restricted machine over `bytes`; `path` only names the file in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Pickle> {
        machine::run(path, bytes)
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
