//! The portable micro-kernel: 4 rows by 8 columns over plain arrays, a separate multiply and
//! add per element (no fused multiply-add), always compiled. The reference for the SIMD tiles.

use super::micro::{Simd, tile};

/// Eight floats handled by plain loops.
pub(crate) struct Portable;

impl Simd for Portable {
    type V = [f32; 8];
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn zero() -> [f32; 8] {
        [0.0; 8]
    }
    #[inline(always)]
    unsafe fn splat_load(p: *const f32) -> [f32; 8] {
        // SAFETY: the caller guarantees a readable `p`.
        [unsafe { *p }; 8]
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> [f32; 8] {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> [f32; 8] {
        // SAFETY: the caller guarantees 8 readable floats at `p`.
        unsafe { core::ptr::read_unaligned(p as *const [f32; 8]) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: [f32; 8]) {
        // SAFETY: the caller guarantees 8 writable floats at `p`.
        unsafe { core::ptr::write_unaligned(p as *mut [f32; 8], v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: [f32; 8], b: [f32; 8], c: [f32; 8]) -> [f32; 8] {
        let mut r = c;
        for i in 0..8 {
            r[i] += a[i] * b[i];
        }
        r
    }
    #[inline(always)]
    unsafe fn mul(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        let mut r = a;
        for i in 0..8 {
            r[i] *= b[i];
        }
        r
    }
}

/// Tile rows.
pub(crate) const MR: usize = 4;
/// Tile columns.
pub(crate) const NR: usize = 8;

/// One `MR x NR` tile; see [`tile`].
///
/// # Safety
/// The pointer contract of [`tile`] holds.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel(
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    m: usize,
    n: usize,
    alpha: f32,
    accumulate: bool,
) {
    // SAFETY: forwarded contract; the portable lanes need no instruction set.
    unsafe { tile::<Portable, MR, 1>(k, a, b, c, rsc, csc, m, n, alpha, accumulate) }
}
