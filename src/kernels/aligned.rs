//! Float storage aligned to 64 bytes, the widest vector: the network's weights live here, so
//! that the kernels' column split (see `generic`) is the same for every copy of a network and
//! every run, and their streaming loads never cross a cache line.

use crate::error::{Error, Result};
use std::ops::{Deref, DerefMut};

/// Floats per 64 bytes.
const ALIGN_FLOATS: usize = 16;

/// A fixed-length run of f32 that starts on a 64-byte boundary.
pub(crate) struct AlignedVec {
    buf: Vec<f32>,
    off: usize,
    len: usize,
}

impl AlignedVec {
    /// `len` zeros, allocated fallibly (an allocation that cannot be satisfied is an
    /// [`Error::OutOfMemory`] naming `what`).
    pub(crate) fn try_zeroed(len: usize, what: &str) -> Result<AlignedVec> {
        let oom = || {
            Error::OutOfMemory(format!(
                "cannot allocate {len} floats ({} bytes) for {what}",
                len.saturating_mul(4)
            ))
        };
        let cap = len.checked_add(ALIGN_FLOATS - 1).ok_or_else(oom)?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(cap).map_err(|_| oom())?;
        buf.resize(cap, 0.0);
        // f32 storage is 4-byte aligned, so some offset below 16 reaches a 64-byte boundary
        let off = buf
            .as_ptr()
            .align_offset(ALIGN_FLOATS * 4)
            .min(ALIGN_FLOATS - 1);
        Ok(AlignedVec { buf, off, len })
    }
}

impl Deref for AlignedVec {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[self.off..self.off + self.len]
    }
}

impl DerefMut for AlignedVec {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

impl Clone for AlignedVec {
    fn clone(&self) -> AlignedVec {
        // as `Vec::clone` (which it uses); the copy has its own offset to the boundary
        let mut buf = self.buf.clone();
        let off = buf
            .as_ptr()
            .align_offset(ALIGN_FLOATS * 4)
            .min(ALIGN_FLOATS - 1);
        buf.copy_within(self.off..self.off + self.len, off);
        AlignedVec {
            buf,
            off,
            len: self.len,
        }
    }
}

impl std::fmt::Debug for AlignedVec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for AlignedVec {
    fn eq(&self, other: &AlignedVec) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_cloned() {
        for len in [0, 1, 15, 16, 17, 1000] {
            let mut v = AlignedVec::try_zeroed(len, "test").unwrap();
            assert_eq!(v.len(), len);
            assert_eq!(v.as_ptr() as usize % 64, 0);
            assert!(v.iter().all(|&x| x == 0.0));
            v.iter_mut().enumerate().for_each(|(i, x)| *x = i as f32);
            let c = v.clone();
            assert_eq!(c.as_ptr() as usize % 64, 0);
            assert_eq!(c, v);
        }
        assert!(AlignedVec::try_zeroed(usize::MAX, "test").is_err());
        assert!(AlignedVec::try_zeroed(usize::MAX / 8, "test").is_err());
    }
}
