//! The checkpoint file: the state of a training run as named, typed fields in a versioned,
//! checksummed container, replaced atomically on every save.
//!
//! A [`Checkpoint`] is an ordered list of fields, each a name and a [`Value`]. Training puts
//! its configuration and data shape in some fields and its state (weights, optimizer state,
//! generator positions, best weights, early-stopping counter, report so far) in others; a run
//! that resumes builds the fields of its own configuration and calls
//! [`Checkpoint::check_fields`], which refuses a checkpoint of another run with an error that
//! names the first differing field.
//!
//! # Format, version 1
//!
//! Every integer and float is little-endian.
//!
//! | size | field |
//! | --- | --- |
//! | 8 | magic: the bytes `89 4E 4E 43 4B 0D 0A 1A` (`\x89NNCK\r\n\x1a`) |
//! | 4 | format version, `u32` = 1 |
//! | 4 | the number of sections `S`, `u32` |
//! | | `S` sections, each: the name's length `n` (`u8`, 1..=255), `n` bytes of UTF-8 name, the value kind (`u8`, see [`Value`]), the payload's length in bytes `p` (`u64`), `p` bytes of payload |
//! | 4 | CRC-32C (Castagnoli) of every byte before it, `u32` |
//!
//! Payloads: `u64` and `f64` take 8 bytes; arrays of `f32`, `f64` and `u64` are their elements
//! one after another (`p` a multiple of the element size); bytes as they are; a string as
//! UTF-8. Names are unique.
//!
//! Reading checks the magic, the version (an unknown one is named), every section's lengths
//! against the bytes present before anything is allocated, that the checksum is the last four
//! bytes exactly, the checksum itself, and then the names and payloads. Every truncation and
//! every single-bit flip is an [`Error::Format`].
//!
//! ```
//! use nnet::checkpoint::Checkpoint;
//! let mut c = Checkpoint::new();
//! c.put_u64("epoch", 7).unwrap();
//! c.put_f32s("weights", &[0.5, -1.0]).unwrap();
//! let back = Checkpoint::from_bytes(&c.to_bytes().unwrap()).unwrap();
//! assert_eq!(back.get_u64("epoch").unwrap(), 7);
//! assert_eq!(back.get_f32s("weights").unwrap(), &[0.5, -1.0]);
//! ```

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model_file::crc32c;
use crate::rng::{RngState, SeededRng};

/// The first eight bytes of every checkpoint file.
pub const MAGIC: [u8; 8] = [0x89, b'N', b'N', b'C', b'K', b'\r', b'\n', 0x1a];
/// The checkpoint format version written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// The value of one field; the number in brackets is the kind byte of the file format.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// (1) An unsigned integer.
    U64(u64),
    /// (2) A double; compared bit for bit by [`Checkpoint::check_fields`].
    F64(f64),
    /// (3) An array of floats (weights, optimizer moments).
    F32s(Vec<f32>),
    /// (4) An array of doubles (per-epoch errors).
    F64s(Vec<f64>),
    /// (5) An array of unsigned integers (a sample order).
    U64s(Vec<u64>),
    /// (6) Raw bytes (a generator state).
    Bytes(Vec<u8>),
    /// (7) A UTF-8 string.
    Str(String),
}

impl Value {
    fn kind(&self) -> u8 {
        match self {
            Value::U64(_) => 1,
            Value::F64(_) => 2,
            Value::F32s(_) => 3,
            Value::F64s(_) => 4,
            Value::U64s(_) => 5,
            Value::Bytes(_) => 6,
            Value::Str(_) => 7,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Value::U64(_) => "an integer",
            Value::F64(_) => "a double",
            Value::F32s(_) => "an array of floats",
            Value::F64s(_) => "an array of doubles",
            Value::U64s(_) => "an array of integers",
            Value::Bytes(_) => "bytes",
            Value::Str(_) => "a string",
        }
    }

    fn payload_len(&self) -> Option<usize> {
        match self {
            Value::U64(_) | Value::F64(_) => Some(8),
            Value::F32s(v) => v.len().checked_mul(4),
            Value::F64s(v) => v.len().checked_mul(8),
            Value::U64s(v) => v.len().checked_mul(8),
            Value::Bytes(v) => Some(v.len()),
            Value::Str(s) => Some(s.len()),
        }
    }

    fn put_payload(&self, out: &mut Vec<u8>) {
        match self {
            Value::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::F32s(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Value::F64s(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Value::U64s(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Value::Bytes(v) => out.extend_from_slice(v),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        }
    }

    /// Equal for [`Checkpoint::check_fields`]: floats bit for bit (NaN equals NaN).
    fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits(),
            (Value::F32s(a), Value::F32s(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (Value::F64s(a), Value::F64s(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (a, b) => a == b,
        }
    }

    /// A short rendering for error messages (arrays by length).
    fn describe(&self) -> String {
        match self {
            Value::U64(v) => v.to_string(),
            Value::F64(v) => v.to_string(),
            Value::Str(s) => format!("{s:?}"),
            Value::F32s(v) => format!("{} floats", v.len()),
            Value::F64s(v) => format!("{} doubles", v.len()),
            Value::U64s(v) => format!("{} integers", v.len()),
            Value::Bytes(v) => format!("{} bytes", v.len()),
        }
    }
}

/// The named, typed fields of one checkpoint, in the order they were put.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checkpoint {
    fields: Vec<(String, Value)>,
}

fn format_err(msg: String) -> Error {
    Error::Format(msg)
}

fn missing(name: &str) -> Error {
    format_err(format!("the checkpoint has no field `{name}`"))
}

/// Reads little-endian values from a byte slice, failing with a message on a short read.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(format_err(format!(
                "truncated checkpoint: {what} needs {n} bytes at offset {}, only {} remain",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// Decodes `payload` as `T`s of `N` bytes into a fallibly allocated vector.
fn decode<T, const N: usize>(
    payload: &[u8],
    name: &str,
    from: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>> {
    if !payload.len().is_multiple_of(N) {
        return Err(format_err(format!(
            "field `{name}`: {} bytes are not a whole number of {N}-byte elements",
            payload.len()
        )));
    }
    let mut v = Vec::new();
    v.try_reserve_exact(payload.len() / N).map_err(|_| {
        Error::OutOfMemory(format!("cannot allocate field `{name}` of the checkpoint"))
    })?;
    for c in payload.chunks_exact(N) {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        v.push(from(a));
    }
    Ok(v)
}

fn decode_value(kind: u8, payload: &[u8], name: &str) -> Result<Value> {
    let scalar = |what: &str| -> Result<[u8; 8]> {
        <[u8; 8]>::try_from(payload).map_err(|_| {
            format_err(format!(
                "field `{name}`: {what} takes 8 bytes, the section has {}",
                payload.len()
            ))
        })
    };
    Ok(match kind {
        1 => Value::U64(u64::from_le_bytes(scalar("an integer")?)),
        2 => Value::F64(f64::from_le_bytes(scalar("a double")?)),
        3 => Value::F32s(decode(payload, name, f32::from_le_bytes)?),
        4 => Value::F64s(decode(payload, name, f64::from_le_bytes)?),
        5 => Value::U64s(decode(payload, name, u64::from_le_bytes)?),
        6 => Value::Bytes(decode(payload, name, |[b]: [u8; 1]| b)?),
        7 => Value::Str(
            std::str::from_utf8(payload)
                .map_err(|e| format_err(format!("field `{name}` is not UTF-8: {e}")))?
                .to_owned(),
        ),
        k => {
            return Err(format_err(format!(
                "field `{name}` has unknown value kind {k}"
            )));
        }
    })
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    /// The value of field `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets field `name` to `value`, replacing a field of that name. Errors on a name that is
    /// empty or longer than 255 bytes.
    pub fn put(&mut self, name: &str, value: Value) -> Result<()> {
        if name.is_empty() || name.len() > 255 {
            return Err(Error::InvalidArgument(format!(
                "a checkpoint field name takes 1 to 255 bytes, `{name}` has {}",
                name.len()
            )));
        }
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name.to_owned(), value)),
        }
        Ok(())
    }

    /// Sets an integer field.
    pub fn put_u64(&mut self, name: &str, v: u64) -> Result<()> {
        self.put(name, Value::U64(v))
    }

    /// Sets a double field.
    pub fn put_f64(&mut self, name: &str, v: f64) -> Result<()> {
        self.put(name, Value::F64(v))
    }

    /// Sets a float-array field.
    pub fn put_f32s(&mut self, name: &str, v: &[f32]) -> Result<()> {
        self.put(name, Value::F32s(v.to_vec()))
    }

    /// Sets a double-array field.
    pub fn put_f64s(&mut self, name: &str, v: &[f64]) -> Result<()> {
        self.put(name, Value::F64s(v.to_vec()))
    }

    /// Sets an integer-array field.
    pub fn put_u64s(&mut self, name: &str, v: &[u64]) -> Result<()> {
        self.put(name, Value::U64s(v.to_vec()))
    }

    /// Sets a bytes field.
    pub fn put_bytes(&mut self, name: &str, v: &[u8]) -> Result<()> {
        self.put(name, Value::Bytes(v.to_vec()))
    }

    /// Sets a string field.
    pub fn put_str(&mut self, name: &str, v: &str) -> Result<()> {
        self.put(name, Value::Str(v.to_owned()))
    }

    /// The field `name`, or an [`Error::Format`] naming it when it is missing.
    fn field(&self, name: &str) -> Result<&Value> {
        self.get(name).ok_or_else(|| missing(name))
    }

    fn wrong_kind(name: &str, want: &str, got: &Value) -> Error {
        format_err(format!(
            "checkpoint field `{name}` is {}, expected {want}",
            got.kind_name()
        ))
    }

    /// An integer field; an [`Error::Format`] naming the field when it is missing or of
    /// another kind (so are the other getters).
    pub fn get_u64(&self, name: &str) -> Result<u64> {
        match self.field(name)? {
            Value::U64(v) => Ok(*v),
            v => Err(Self::wrong_kind(name, "an integer", v)),
        }
    }

    /// An integer field that must fit a `u32` (an epoch, a counter).
    pub fn get_u32(&self, name: &str) -> Result<u32> {
        let v = self.get_u64(name)?;
        u32::try_from(v)
            .map_err(|_| format_err(format!("checkpoint field `{name}` = {v} exceeds u32")))
    }

    /// A double field.
    pub fn get_f64(&self, name: &str) -> Result<f64> {
        match self.field(name)? {
            Value::F64(v) => Ok(*v),
            v => Err(Self::wrong_kind(name, "a double", v)),
        }
    }

    /// A float-array field.
    pub fn get_f32s(&self, name: &str) -> Result<&[f32]> {
        match self.field(name)? {
            Value::F32s(v) => Ok(v),
            v => Err(Self::wrong_kind(name, "an array of floats", v)),
        }
    }

    /// A float-array field of exactly `len` elements (weights of a known network).
    pub fn get_f32s_len(&self, name: &str, len: usize) -> Result<&[f32]> {
        let v = self.get_f32s(name)?;
        if v.len() != len {
            return Err(format_err(format!(
                "checkpoint field `{name}` has {} floats, expected {len}",
                v.len()
            )));
        }
        Ok(v)
    }

    /// A double-array field.
    pub fn get_f64s(&self, name: &str) -> Result<&[f64]> {
        match self.field(name)? {
            Value::F64s(v) => Ok(v),
            v => Err(Self::wrong_kind(name, "an array of doubles", v)),
        }
    }

    /// An integer-array field.
    pub fn get_u64s(&self, name: &str) -> Result<&[u64]> {
        match self.field(name)? {
            Value::U64s(v) => Ok(v),
            v => Err(Self::wrong_kind(name, "an array of integers", v)),
        }
    }

    /// A bytes field.
    pub fn get_bytes(&self, name: &str) -> Result<&[u8]> {
        match self.field(name)? {
            Value::Bytes(v) => Ok(v),
            v => Err(Self::wrong_kind(name, "bytes", v)),
        }
    }

    /// A string field.
    pub fn get_str(&self, name: &str) -> Result<&str> {
        match self.field(name)? {
            Value::Str(v) => Ok(v),
            v => Err(Self::wrong_kind(name, "a string", v)),
        }
    }

    /// Stores a generator's state (its key and stream position) as a bytes field.
    pub(crate) fn put_rng(&mut self, name: &str, rng: &SeededRng) -> Result<()> {
        self.put_bytes(name, &rng.state().to_bytes())
    }

    /// A generator that continues the stream saved by [`Checkpoint::put_rng`].
    pub(crate) fn get_rng(&self, name: &str) -> Result<SeededRng> {
        let b = self.get_bytes(name)?;
        let bad = || {
            format_err(format!(
                "checkpoint field `{name}` is not a generator state ({} bytes)",
                b.len()
            ))
        };
        let arr = <&[u8; RngState::BYTES]>::try_from(b).map_err(|_| bad())?;
        let state = RngState::from_bytes(arr).ok_or_else(bad)?;
        Ok(SeededRng::from_state(&state))
    }

    /// Checks that this checkpoint holds every field of `expected` with the same value
    /// (floats bit for bit): `expected` holds the configuration and data shape of the run
    /// that resumes. The error, an [`Error::InvalidArgument`], names the first field that
    /// differs or is missing and both values.
    ///
    /// ```
    /// use nnet::checkpoint::Checkpoint;
    /// let mut saved = Checkpoint::new();
    /// saved.put_f64("learning_rate", 0.01).unwrap();
    /// saved.put_u64("rows", 100).unwrap();
    /// let mut this_run = Checkpoint::new();
    /// this_run.put_f64("learning_rate", 0.01).unwrap();
    /// this_run.put_u64("rows", 99).unwrap();
    /// let e = saved.check_fields(&this_run).unwrap_err();
    /// assert!(e.message().contains("`rows` is 100 in the checkpoint, 99 in this run"), "{e}");
    /// ```
    pub fn check_fields(&self, expected: &Checkpoint) -> Result<()> {
        for (name, want) in &expected.fields {
            match self.get(name) {
                None => {
                    return Err(Error::InvalidArgument(format!(
                        "the checkpoint does not match this run: it has no field `{name}` \
                         (this run has {})",
                        want.describe()
                    )));
                }
                Some(have) if !have.same(want) => {
                    let (h, w) = (have.describe(), want.describe());
                    let detail = if h == w { " (the contents differ)" } else { "" };
                    return Err(Error::InvalidArgument(format!(
                        "the checkpoint does not match this run: `{name}` is {h} in the \
                         checkpoint, {w} in this run{detail}"
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The checkpoint as file bytes (see the [module docs](crate::checkpoint)).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let too_big = || Error::Overflow("the checkpoint's size overflows usize".into());
        let mut len = 8 + 4 + 4 + 4usize;
        for (name, v) in &self.fields {
            let p = v.payload_len().ok_or_else(too_big)?;
            len = len
                .checked_add(1 + name.len() + 1 + 8)
                .and_then(|l| l.checked_add(p))
                .ok_or_else(too_big)?;
        }
        let count = u32::try_from(self.fields.len())
            .map_err(|_| Error::Overflow("more than 2^32 checkpoint fields".into()))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| {
            Error::OutOfMemory(format!("cannot allocate {len} bytes for the checkpoint"))
        })?;
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        for (name, v) in &self.fields {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            out.push(v.kind());
            let p = v.payload_len().ok_or_else(too_big)?;
            out.extend_from_slice(&(p as u64).to_le_bytes());
            v.put_payload(&mut out);
        }
        let crc = crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), len);
        Ok(out)
    }

    /// A checkpoint from bytes written by [`Checkpoint::to_bytes`] or [`Checkpoint::save`];
    /// an [`Error::Format`] for anything else (see the [module docs](crate::checkpoint)).
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(8, "the magic number")?;
        if magic != MAGIC {
            return Err(format_err(format!(
                "not an nnet checkpoint: the first bytes are {magic:02x?}, expected {MAGIC:02x?}"
            )));
        }
        let version = r.u32("the format version")?;
        if version != FORMAT_VERSION {
            return Err(format_err(format!(
                "unknown checkpoint format version {version} (this build reads version {FORMAT_VERSION})"
            )));
        }
        let count = r.u32("the number of sections")? as usize;
        // a section takes at least 11 bytes: bound the count before allocating for it
        if count > r.remaining() / 11 {
            return Err(format_err(format!(
                "truncated checkpoint: {count} sections cannot fit in {} bytes",
                r.remaining()
            )));
        }
        // the raw sections first: lengths and checksum before any payload is decoded
        let mut raw = Vec::with_capacity(count);
        for i in 0..count {
            let n = r.u8("a section name's length")? as usize;
            let name = r.take(n, "a section name")?;
            let kind = r.u8("a section's value kind")?;
            let p = r.u64("a section's length")?;
            let p = usize::try_from(p)
                .ok()
                .filter(|&p| p <= r.remaining())
                .ok_or_else(|| {
                    format_err(format!(
                        "truncated checkpoint: section {i} declares {p} bytes, only {} remain",
                        r.remaining()
                    ))
                })?;
            let payload = r.take(p, "a section's payload")?;
            raw.push((name, kind, payload));
        }
        if r.remaining() != 4 {
            return Err(format_err(format!(
                "the checkpoint's sections end {} bytes before the end of the file, expected 4 (the checksum){}",
                r.remaining(),
                if r.remaining() < 4 {
                    " (truncated)"
                } else {
                    ""
                }
            )));
        }
        let end = bytes.len() - 4;
        let stored =
            u32::from_le_bytes([bytes[end], bytes[end + 1], bytes[end + 2], bytes[end + 3]]);
        let actual = crc32c(&bytes[..end]);
        if stored != actual {
            return Err(format_err(format!(
                "checksum mismatch: the checkpoint says {stored:#010x}, its contents give {actual:#010x} (corrupt file)"
            )));
        }
        let mut c = Checkpoint::new();
        for (i, (name, kind, payload)) in raw.into_iter().enumerate() {
            let name = std::str::from_utf8(name)
                .map_err(|e| format_err(format!("section {i}'s name is not UTF-8: {e}")))?;
            if name.is_empty() {
                return Err(format_err(format!("section {i} has an empty name")));
            }
            if c.get(name).is_some() {
                return Err(format_err(format!(
                    "the checkpoint holds field `{name}` twice"
                )));
            }
            let v = decode_value(kind, payload, name)?;
            c.fields.push((name.to_owned(), v));
        }
        Ok(c)
    }

    /// Writes the checkpoint to `path`, replacing the file atomically
    /// ([`write_atomic`](crate::atomic_file::write_atomic)): a crash in the middle of a save
    /// leaves the previous checkpoint as it was.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::atomic_file::write_bytes_atomic(path, &self.to_bytes()?)
    }

    /// Reads a checkpoint written by [`Checkpoint::save`]; an [`Error::Io`] when the file
    /// cannot be read and as [`Checkpoint::from_bytes`] on its contents.
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::Io(format!("cannot read {}: {e}", path.display()));
        let mut file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let len = usize::try_from(len).map_err(|_| {
            Error::OutOfMemory(format!("{} is too large ({len} bytes)", path.display()))
        })?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|_| {
            Error::OutOfMemory(format!(
                "cannot allocate {len} bytes to read {}",
                path.display()
            ))
        })?;
        file.read_to_end(&mut bytes).map_err(io)?;
        Checkpoint::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One field of every kind, with awkward values.
    fn sample() -> Checkpoint {
        let mut c = Checkpoint::new();
        c.put_u64("epoch", 12).unwrap();
        c.put_f64("best_val", f64::INFINITY).unwrap();
        c.put_f32s("weights", &[0.5, -0.0, 3.25e-7, f32::MAX])
            .unwrap();
        c.put_f64s("train_errors", &[0.25, 0.125]).unwrap();
        c.put_u64s("order", &[2, 0, 1]).unwrap();
        c.put_bytes("raw", &[0, 255, 7]).unwrap();
        c.put_str("optimizer", "adam").unwrap();
        c.put_f32s("empty", &[]).unwrap();
        c
    }

    fn reseal(bytes: &mut [u8]) {
        let n = bytes.len();
        let crc = crc32c(&bytes[..n - 4]);
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    }

    fn expect_format(bytes: &[u8], needle: &str) {
        match Checkpoint::from_bytes(bytes) {
            Err(Error::Format(m)) => assert!(m.contains(needle), "message {m:?} lacks {needle:?}"),
            other => panic!("expected a format error containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let c = sample();
        let bytes = c.to_bytes().unwrap();
        assert_eq!(&bytes[..8], &MAGIC);
        let back = Checkpoint::from_bytes(&bytes).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.to_bytes().unwrap(), bytes);
        assert_eq!(
            back.names().collect::<Vec<_>>(),
            [
                "epoch",
                "best_val",
                "weights",
                "train_errors",
                "order",
                "raw",
                "optimizer",
                "empty"
            ]
        );
        assert_eq!(back.get_u64("epoch").unwrap(), 12);
        assert_eq!(back.get_u32("epoch").unwrap(), 12);
        assert_eq!(back.get_f64("best_val").unwrap(), f64::INFINITY);
        let w = back.get_f32s_len("weights", 4).unwrap();
        assert_eq!(w[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(back.get_f64s("train_errors").unwrap(), &[0.25, 0.125]);
        assert_eq!(back.get_u64s("order").unwrap(), &[2, 0, 1]);
        assert_eq!(back.get_bytes("raw").unwrap(), &[0, 255, 7]);
        assert_eq!(back.get_str("optimizer").unwrap(), "adam");
        assert!(back.get_f32s("empty").unwrap().is_empty());
        // an empty checkpoint: magic, version, count, checksum
        let empty = Checkpoint::new().to_bytes().unwrap();
        assert_eq!(empty.len(), 20);
        assert_eq!(Checkpoint::from_bytes(&empty).unwrap(), Checkpoint::new());
    }

    #[test]
    fn getters_name_missing_and_mistyped_fields() {
        let c = sample();
        let e = c.get_u64("nope").unwrap_err();
        assert!(
            matches!(&e, Error::Format(m) if m.contains("`nope`")),
            "{e:?}"
        );
        let e = c.get_u64("weights").unwrap_err();
        assert!(
            matches!(&e, Error::Format(m) if m.contains("`weights` is an array of floats, expected an integer")),
            "{e:?}"
        );
        let e = c.get_f32s_len("weights", 5).unwrap_err();
        assert!(e.message().contains("4 floats, expected 5"), "{e}");
        let mut big = Checkpoint::new();
        big.put_u64("n", u64::from(u32::MAX) + 1).unwrap();
        assert!(
            big.get_u32("n")
                .unwrap_err()
                .message()
                .contains("exceeds u32")
        );
        assert!(matches!(big.put_u64("", 1), Err(Error::InvalidArgument(_))));
        assert!(big.put_u64(&"x".repeat(256), 1).is_err());
        assert!(big.put_u64(&"x".repeat(255), 1).is_ok());
        // put replaces a field of the same name, keeping its place
        big.put_str("n", "now a string").unwrap();
        assert_eq!(big.names().next(), Some("n"));
        assert_eq!(big.get_str("n").unwrap(), "now a string");
    }

    #[test]
    fn check_fields_names_the_difference() {
        let c = sample();
        // a subset with equal values passes; NaN equals NaN, bit for bit
        let mut same = Checkpoint::new();
        same.put_u64("epoch", 12).unwrap();
        same.put_str("optimizer", "adam").unwrap();
        assert!(c.check_fields(&same).is_ok());
        let mut nan = Checkpoint::new();
        nan.put_f64("x", f64::NAN).unwrap();
        assert!(nan.check_fields(&nan.clone()).is_ok());
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                Value::U64(13),
                "epoch",
                "`epoch` is 12 in the checkpoint, 13 in this run",
            ),
            (
                Value::Str("sgd".into()),
                "optimizer",
                "`optimizer` is \"adam\" in the checkpoint, \"sgd\" in this run",
            ),
            (
                Value::U64s(vec![2, 1, 0]),
                "order",
                "`order` is 3 integers in the checkpoint, 3 integers in this run (the contents differ)",
            ),
            (Value::U64(1), "rows", "it has no field `rows`"),
            (
                Value::F64(0.0),
                "epoch",
                "`epoch` is 12 in the checkpoint, 0 in this run",
            ),
        ];
        for (v, name, needle) in cases {
            let mut want = same.clone();
            want.put(name, v).unwrap();
            match c.check_fields(&want) {
                Err(Error::InvalidArgument(m)) => {
                    assert!(m.contains(needle), "{m:?} lacks {needle:?}")
                }
                other => panic!("expected a mismatch naming {name}, got {other:?}"),
            }
        }
        // -0.0 and 0.0 differ bit for bit
        let mut z = Checkpoint::new();
        z.put_f64s("e", &[0.0]).unwrap();
        let mut nz = Checkpoint::new();
        nz.put_f64s("e", &[-0.0]).unwrap();
        assert!(z.check_fields(&nz).is_err());
    }

    #[test]
    fn a_generator_state_round_trips() {
        let mut g = SeededRng::new(5, 11);
        for _ in 0..37 {
            g.below(10);
        }
        let mut c = Checkpoint::new();
        c.put_rng("order_rng", &g).unwrap();
        let back = Checkpoint::from_bytes(&c.to_bytes().unwrap()).unwrap();
        let mut h = back.get_rng("order_rng").unwrap();
        for _ in 0..100 {
            assert_eq!(g.below(1 << 40), h.below(1 << 40));
        }
        c.put_bytes("short", &[0; 47]).unwrap();
        let e = c
            .get_rng("short")
            .err()
            .expect("47 bytes are no generator state");
        assert!(e.message().contains("47 bytes"), "{e}");
        let mut beyond = [0u8; 48];
        beyond[47] = 1;
        c.put_bytes("beyond", &beyond).unwrap();
        assert!(c.get_rng("beyond").is_err());
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = sample().to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(
                matches!(Checkpoint::from_bytes(&bytes[..len]), Err(Error::Format(_))),
                "truncation to {len} of {} bytes was accepted",
                bytes.len()
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        expect_format(&longer, "before the end of the file");
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let bytes = sample().to_bytes().unwrap();
        let mut flipped = bytes.clone();
        for bit in 0..bytes.len() * 8 {
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(Checkpoint::from_bytes(&flipped), Err(Error::Format(_))),
                "flipping bit {bit} was not detected"
            );
            flipped[bit / 8] ^= 1 << (bit % 8);
        }
        assert!(Checkpoint::from_bytes(&flipped).is_ok());
    }

    #[test]
    fn bad_contents_are_named_even_with_a_valid_checksum() {
        let mut one = Checkpoint::new();
        one.put_u64("a", 1).unwrap();
        let good = one.to_bytes().unwrap();
        // layout: 16-byte header, len 1, "a", kind, u64 length, 8 payload bytes, crc
        let mut b = good.clone();
        b[8..12].copy_from_slice(&2u32.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "version 2");
        let mut b = good.clone();
        b[18] = 9;
        reseal(&mut b);
        expect_format(&b, "unknown value kind 9");
        let mut b = good.clone();
        b[17] = 0xff;
        reseal(&mut b);
        expect_format(&b, "not UTF-8");
        let mut b = good.clone();
        b[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "cannot fit");
        // a payload length far beyond the file, and one of the wrong size for its kind
        let mut b = good.clone();
        b[19..27].copy_from_slice(&u64::MAX.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "declares");
        let mut odd = Checkpoint::new();
        odd.put_bytes("a", &[1, 2, 3, 4, 5]).unwrap();
        let mut b = odd.to_bytes().unwrap();
        b[18] = 3; // bytes relabelled as floats: 5 bytes are not whole floats
        reseal(&mut b);
        expect_format(&b, "whole number");
        b[18] = 1;
        reseal(&mut b);
        expect_format(&b, "takes 8 bytes");
        // a name given twice
        let mut two = Checkpoint::new();
        two.put_u64("a", 1).unwrap();
        two.put_u64("b", 2).unwrap();
        let mut b = two.to_bytes().unwrap();
        let second = 16 + 1 + 1 + 1 + 8 + 8;
        b[second + 1] = b'a';
        reseal(&mut b);
        expect_format(&b, "twice");
        expect_format(b"\x89NNET\r\n\x1a and more", "not an nnet checkpoint");
    }

    #[test]
    fn save_and_load_a_file() {
        let c = sample();
        let dir = std::env::temp_dir().join(format!("nnet-ckpt-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.ckpt");
        c.save(&path).unwrap();
        let mut d = c.clone();
        d.put_u64("epoch", 13).unwrap();
        d.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), d);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(Checkpoint::load(&path), Err(Error::Io(_))));
    }
}
