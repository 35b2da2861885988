//! The opcode stack machine: executes nothing, only records objects in the arena.

use super::{Global, Id, Obj, Pickle};
use crate::error::{DataError, Result};
use std::path::Path;

/// Runs the restricted machine over `bytes`; `path` only names the file in errors.
pub(super) fn run(path: &Path, bytes: &[u8]) -> Result<Pickle> {
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
