//! The model file: a network saved as versioned, checksummed bytes.
//!
//! [`Network::save`] / [`Network::load`] write and read a file; [`Network::to_bytes`] /
//! [`Network::from_bytes`] give the same bytes in memory (the C ABI's `nnet_save`,
//! `nnet_load`, `nnet_save_to_buffer` and `nnet_load_from_buffer` use them).
//!
//! # Format, version 1
//!
//! Every integer and float is little-endian. `n` is the number of layer sizes (`L + 1`),
//! `D` the number of weights.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic: the bytes `89 4E 4E 45 54 0D 0A 1A` (`\x89NNET\r\n\x1a`) |
//! | 8 | 4 | format version, `u32` = 1 |
//! | 12 | 4 | output transform, `u32`: 0 linear, 1 tanh |
//! | 16 | 4 | flags, `u32`: bit 0 the network holds a [`Scaling`], bit 1 it also standardizes targets (needs bit 0); every other bit 0 |
//! | 20 | 4 | `n`, `u32`, at least 2 |
//! | 24 | 8 n | the layer sizes `d(0) .. d(L)`, `u64` each, every one >= 1 |
//! | 24 + 8 n | 8 | `D`, `u64`; must equal `sum (d(l-1)+1) d(l)` |
//! | | 8 d(0) | with bit 0: the input means, then the input standard deviations, `f32` |
//! | | 8 d(L) | with bit 1: the target means, then the target standard deviations, `f32` |
//! | | 4 D | the weights in the flat layout of [`Network`], `f32` |
//! | end - 4 | 4 | CRC-32C (Castagnoli) of every byte before it, `u32` |
//!
//! A 2-3-1 network without scaling (D = 13) takes 24 + 24 + 8 + 52 + 4 = 112 bytes.
//!
//! Loading checks, in order: the magic, the version (an unknown one is an error naming it),
//! the declared sizes against the bytes present (before anything is allocated, so a header
//! claiming a 65536-65536-65536 network fails at once), that the length is exact, the
//! checksum (every truncation and every single-bit flip is detected), and then the values:
//! finite weights and means, standard deviations finite and > 0. Every failure is an
//! [`Error::Format`] (or [`Error::Io`] for the file itself).
//!
//! The kernel set is not saved: a loaded network computes with [`Kernels::selected`](crate::Kernels::selected).
//!
//! ```
//! use nnet::{Network, Output};
//! let net = Network::new(&[2, 3, 1], Output::Tanh, 5, 0.5).unwrap();
//! let bytes = net.to_bytes().unwrap();
//! assert_eq!(bytes.len(), 112);
//! let back = Network::from_bytes(&bytes).unwrap();
//! assert_eq!(back.weights(), net.weights());
//! ```

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result, check_finite, try_zeroed};
use crate::network::{Network, Output, layer_offsets};
use crate::scaling::Scaling;

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = [0x89, b'N', b'N', b'E', b'T', b'\r', b'\n', 0x1a];
/// The format version written by this crate.
pub const FORMAT_VERSION: u32 = 1;

const FLAG_SCALING: u32 = 1;
const FLAG_TARGET_SCALING: u32 = 2;
const FIXED_HEADER: usize = 24;

/// The CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) lookup table.
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32C of `bytes` (initial value and final xor 0xFFFFFFFF, as in iSCSI and ext4).
pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = CRC32C_TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn format_err(msg: String) -> Error {
    Error::Format(msg)
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
                "truncated model: {what} needs {n} bytes at offset {}, only {} remain",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
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

    /// `n` floats, allocated fallibly after checking that the bytes are present.
    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>> {
        let bytes = n
            .checked_mul(4)
            .ok_or_else(|| format_err(format!("{what}: {n} floats overflow the byte count")))?;
        let b = self.take(bytes, what)?;
        let mut v = try_zeroed(n, what)?;
        for (dst, src) in v.iter_mut().zip(b.chunks_exact(4)) {
            *dst = f32::from_le_bytes([src[0], src[1], src[2], src[3]]);
        }
        Ok(v)
    }
}

/// The number of bytes a model with these parts takes, or `None` on overflow.
fn encoded_len(n_layers: usize, d: usize, scaling_floats: usize) -> Option<usize> {
    FIXED_HEADER
        .checked_add(n_layers.checked_mul(8)?)?
        .checked_add(8)?
        .checked_add(scaling_floats.checked_mul(4)?)?
        .checked_add(d.checked_mul(4)?)?
        .checked_add(4)
}

fn put_f32s(out: &mut Vec<u8>, v: &[f32]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

impl Network {
    /// The network as model-file bytes (see the [module docs](crate::model_file) for the
    /// format). Errors only when the buffer cannot be allocated.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let layers = self.layers();
        let scaling = self.scaling();
        let n_in = self.num_inputs();
        let n_out = self.num_outputs();
        let mut flags = 0;
        let mut scaling_floats = 0usize;
        if let Some(s) = scaling {
            flags |= FLAG_SCALING;
            scaling_floats += 2 * n_in;
            if s.target_mean().is_some() {
                flags |= FLAG_TARGET_SCALING;
                scaling_floats += 2 * n_out;
            }
        }
        let len = encoded_len(layers.len(), self.num_weights(), scaling_floats)
            .ok_or_else(|| Error::Overflow("the model size overflows usize".into()))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| {
            Error::OutOfMemory(format!("cannot allocate {len} bytes for the saved model"))
        })?;
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.output().to_u32().to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(layers.len() as u32).to_le_bytes());
        for &d in layers {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        out.extend_from_slice(&(self.num_weights() as u64).to_le_bytes());
        if let Some(s) = scaling {
            put_f32s(&mut out, s.input_mean());
            put_f32s(&mut out, s.input_std());
            if let (Some(m), Some(sd)) = (s.target_mean(), s.target_std()) {
                put_f32s(&mut out, m);
                put_f32s(&mut out, sd);
            }
        }
        put_f32s(&mut out, self.weights());
        let crc = crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), len);
        Ok(out)
    }

    /// A network from model-file bytes written by [`Network::to_bytes`] or [`Network::save`].
    ///
    /// Errors with [`Error::Format`] on a wrong magic, an unknown version, a truncated or
    /// over-long buffer, a checksum mismatch, sizes that do not add up, or values that are not
    /// finite; nothing is allocated for sizes that the buffer does not hold.
    pub fn from_bytes(bytes: &[u8]) -> Result<Network> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(8, "the magic number")?;
        if magic != MAGIC {
            return Err(format_err(format!(
                "not an nnet model: the first bytes are {magic:02x?}, expected {MAGIC:02x?}"
            )));
        }
        let version = r.u32("the format version")?;
        if version != FORMAT_VERSION {
            return Err(format_err(format!(
                "unknown model format version {version} (this build reads version {FORMAT_VERSION})"
            )));
        }
        let output_raw = r.u32("the output kind")?;
        let flags = r.u32("the flags")?;
        let n_layers = r.u32("the number of layer sizes")? as usize;
        if n_layers < 2 {
            return Err(format_err(format!(
                "the model declares {n_layers} layer sizes (at least 2 are needed)"
            )));
        }
        // Bound n_layers by the bytes present before allocating anything for it.
        if n_layers > r.remaining() / 8 {
            return Err(format_err(format!(
                "truncated model: {n_layers} layer sizes need {} bytes, only {} remain",
                n_layers as u128 * 8,
                r.remaining()
            )));
        }
        let mut layers = Vec::with_capacity(n_layers);
        for l in 0..n_layers {
            let d = r.u64("a layer size")?;
            let d = usize::try_from(d).map_err(|_| {
                format_err(format!("layer size d({l}) = {d} does not fit this machine"))
            })?;
            layers.push(d);
        }
        let offsets =
            layer_offsets(&layers).map_err(|e| format_err(format!("bad layer sizes: {e}")))?;
        let d = *offsets.last().expect("at least two offsets");
        let declared = r.u64("the number of weights")?;
        if declared != d as u64 {
            return Err(format_err(format!(
                "the model declares {declared} weights, its layer sizes give {d}"
            )));
        }
        if flags & !(FLAG_SCALING | FLAG_TARGET_SCALING) != 0
            || (flags & FLAG_TARGET_SCALING != 0 && flags & FLAG_SCALING == 0)
        {
            return Err(format_err(format!(
                "unknown or inconsistent flags {flags:#x}"
            )));
        }
        let n_in = layers[0];
        let n_out = layers[n_layers - 1];
        let mut scaling_floats = 0usize;
        if flags & FLAG_SCALING != 0 {
            scaling_floats = n_in.saturating_mul(2);
        }
        if flags & FLAG_TARGET_SCALING != 0 {
            scaling_floats = scaling_floats.saturating_add(n_out.saturating_mul(2));
        }
        // The exact length, checked before any buffer of those sizes is allocated.
        let expect = encoded_len(n_layers, d, scaling_floats).ok_or_else(|| {
            format_err(format!("the model's sizes overflow: {} weights", d as u128))
        })?;
        if bytes.len() != expect {
            return Err(format_err(format!(
                "a {} model takes {expect} bytes, the buffer has {}{}",
                crate::network::layers_string(&layers),
                bytes.len(),
                if bytes.len() < expect {
                    " (truncated)"
                } else {
                    ""
                }
            )));
        }
        let body = &bytes[..expect - 4];
        let stored = u32::from_le_bytes([
            bytes[expect - 4],
            bytes[expect - 3],
            bytes[expect - 2],
            bytes[expect - 1],
        ]);
        let actual = crc32c(body);
        if stored != actual {
            return Err(format_err(format!(
                "checksum mismatch: the model says {stored:#010x}, its contents give {actual:#010x} (corrupt file)"
            )));
        }
        let output = Output::from_u32(output_raw).map_err(|e| format_err(e.to_string()))?;
        let scaling = if flags & FLAG_SCALING != 0 {
            let mean = r.f32s(n_in, "the input means")?;
            let std = r.f32s(n_in, "the input standard deviations")?;
            let target = if flags & FLAG_TARGET_SCALING != 0 {
                let m = r.f32s(n_out, "the target means")?;
                let s = r.f32s(n_out, "the target standard deviations")?;
                Some((m, s))
            } else {
                None
            };
            Some(
                Scaling::from_parts(mean, std, target)
                    .map_err(|e| format_err(format!("bad scaling in the model: {e}")))?,
            )
        } else {
            None
        };
        let weights = r.f32s(d, "the weights")?;
        check_finite(&weights, "weights")
            .map_err(|e| format_err(format!("bad weights in the model: {e}")))?;
        let mut net = Network::from_weights(&layers, output, &weights)?;
        net.set_scaling(scaling)?;
        Ok(net)
    }

    /// Writes the network to the file `path` in the model format (see the
    /// [module docs](crate::model_file)), replacing the file if it exists.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        std::fs::write(path, &bytes)
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads a network from a file written by [`Network::save`].
    ///
    /// Errors with [`Error::Io`] when the file cannot be read and as [`Network::from_bytes`]
    /// does on its contents.
    pub fn load(path: impl AsRef<Path>) -> Result<Network> {
        let bytes = read_file(path.as_ref())?;
        Network::from_bytes(&bytes)
    }
}

/// The whole file `path`; the allocation is fallible ([`Error::OutOfMemory`]), a failed read
/// [`Error::Io`] naming the path.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
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
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Network {
        Network::new(&[2, 2, 1], Output::Tanh, 11, 0.7).unwrap()
    }

    /// Recomputes the checksum of a modified buffer so that only the targeted check can fire.
    fn reseal(bytes: &mut [u8]) {
        let n = bytes.len();
        let crc = crc32c(&bytes[..n - 4]);
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    }

    fn expect_format(bytes: &[u8], needle: &str) {
        match Network::from_bytes(bytes) {
            Err(Error::Format(m)) => assert!(m.contains(needle), "message {m:?} lacks {needle:?}"),
            other => panic!("expected a format error containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        // RFC 3720 B.4: 32 bytes of zeros
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
    }

    #[test]
    fn round_trip_is_exact() {
        let net = Network::new(&[3, 5, 4, 2], Output::Linear, 3, 0.4).unwrap();
        let bytes = net.to_bytes().unwrap();
        assert_eq!(&bytes[..8], &MAGIC);
        let back = Network::from_bytes(&bytes).unwrap();
        assert_eq!(back.layers(), net.layers());
        assert_eq!(back.output(), net.output());
        let bits = |n: &Network| n.weights().iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&net));
        assert!(back.scaling().is_none());
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn round_trip_with_scaling() {
        let mut net = Network::new(&[2, 3, 2], Output::Linear, 9, 0.3).unwrap();
        let x = [1.0, 2.0, 3.0, 5.0, -1.0, 0.5];
        let y = [10.0, 0.0, 12.0, 1.0, 9.0, 4.0];
        net.set_scaling(Some(Scaling::fit(&x, 2, Some(&y), 2).unwrap()))
            .unwrap();
        let back = Network::from_bytes(&net.to_bytes().unwrap()).unwrap();
        assert_eq!(back.scaling(), net.scaling());
        assert_eq!(back.predict(&x).unwrap(), net.predict(&x).unwrap());
        // inputs only
        net.set_scaling(Some(Scaling::fit(&x, 2, None, 2).unwrap()))
            .unwrap();
        let back = Network::from_bytes(&net.to_bytes().unwrap()).unwrap();
        assert_eq!(back.scaling(), net.scaling());
        assert!(back.scaling().unwrap().target_mean().is_none());
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = small().to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(
                matches!(Network::from_bytes(&bytes[..len]), Err(Error::Format(_))),
                "truncation to {len} of {} bytes was accepted",
                bytes.len()
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        expect_format(&longer, "takes");
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let mut net = small();
        net.set_scaling(Some(
            Scaling::from_parts(vec![0.5, 1.0], vec![2.0, 3.0], Some((vec![1.0], vec![4.0])))
                .unwrap(),
        ))
        .unwrap();
        let bytes = net.to_bytes().unwrap();
        let mut flipped = bytes.clone();
        for bit in 0..bytes.len() * 8 {
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(Network::from_bytes(&flipped), Err(Error::Format(_))),
                "flipping bit {bit} was not detected"
            );
            flipped[bit / 8] ^= 1 << (bit % 8);
        }
        assert!(Network::from_bytes(&flipped).is_ok());
    }

    #[test]
    fn unknown_version_is_named() {
        let mut bytes = small().to_bytes().unwrap();
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        reseal(&mut bytes);
        expect_format(&bytes, "version 2");
    }

    /// A header with a valid layout claiming a `d-d-d` network and no weights (checksum unset).
    fn header_claiming(d: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        for _ in 0..3 {
            bytes.extend_from_slice(&d.to_le_bytes());
        }
        bytes.extend_from_slice(&(2 * (d + 1) * d).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes
    }

    #[test]
    fn absurd_sizes_fail_before_allocating() {
        // a valid header and checksum claiming a 65536-65536-65536 network: over the size limit
        let mut over = header_claiming(65536);
        reseal(&mut over);
        expect_format(&over, "bad layer sizes");
        // a 4096-4096-4096 network (within the limit) with no weights: truncated
        let mut bytes = header_claiming(4096);
        reseal(&mut bytes);
        expect_format(&bytes, "truncated");
        // layer sizes whose weight count overflows usize
        let mut huge = bytes.clone();
        for l in 0..3 {
            let at = 24 + 8 * l;
            huge[at..at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        }
        reseal(&mut huge);
        expect_format(&huge, "bad layer sizes");
        // a layer count far beyond the buffer
        let mut many = bytes.clone();
        many[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        reseal(&mut many);
        expect_format(&many, "truncated");
    }

    #[test]
    fn bad_values_are_rejected() {
        let net = small();
        let good = net.to_bytes().unwrap();
        let weights_at = good.len() - 4 - 4 * net.num_weights();
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut b = good.clone();
            b[weights_at + 4..weights_at + 8].copy_from_slice(&bad.to_le_bytes());
            reseal(&mut b);
            expect_format(&b, "weights[1]");
        }
        let mut b = good.clone();
        b[12..16].copy_from_slice(&7u32.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "output kind 7");
        let mut b = good.clone();
        b[16..20].copy_from_slice(&2u32.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "flags");
        let mut b = good.clone();
        b[24..32].copy_from_slice(&0u64.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "bad layer sizes");
        expect_format(b"not a model at all, clearly", "not an nnet model");
        // a zero standard deviation in the scaling
        let mut scaled = small();
        scaled
            .set_scaling(Some(
                Scaling::from_parts(vec![0.0, 0.0], vec![1.0, 1.0], None).unwrap(),
            ))
            .unwrap();
        let mut b = scaled.to_bytes().unwrap();
        let std_at = 24 + 3 * 8 + 8 + 8;
        b[std_at..std_at + 4].copy_from_slice(&0f32.to_le_bytes());
        reseal(&mut b);
        expect_format(&b, "standard deviation");
    }

    #[test]
    fn save_and_load_a_file() {
        let net = small();
        let path =
            std::env::temp_dir().join(format!("nnet-model-test-{}.nnet", std::process::id()));
        net.save(&path).unwrap();
        let back = Network::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.weights(), net.weights());
        match Network::load(&path) {
            Err(Error::Io(m)) => assert!(m.contains("cannot read"), "{m}"),
            other => panic!("expected an i/o error, got {other:?}"),
        }
        let dir = std::env::temp_dir()
            .join("nnet-no-such-dir-for-tests")
            .join("m.nnet");
        assert!(matches!(net.save(&dir), Err(Error::Io(_))));
    }
}
