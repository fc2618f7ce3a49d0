//! The portable micro-kernel: 4 rows by 8 columns over plain arrays, a separate multiply and
//! add per element (no fused multiply-add), always compiled. The reference for the SIMD tiles.

use super::MatRef;
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

/// One `MR x NR` tile from a packed (or column-major) A panel; see [`tile`].
///
/// # Safety
/// The pointer contract of [`tile`] holds.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel_packed(
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    m: usize,
    n: usize,
    alpha: f32,
    accumulate: bool,
) {
    // SAFETY: forwarded contract; the portable lanes need no instruction set.
    unsafe {
        tile::<Portable, MR, 1, false>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate)
    }
}

/// One `MR x NR` tile reading the rows of A in place; see [`tile`].
///
/// # Safety
/// The pointer contract of [`tile`] holds.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel_rows(
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    m: usize,
    n: usize,
    alpha: f32,
    accumulate: bool,
) {
    // SAFETY: forwarded contract; the portable lanes need no instruction set.
    unsafe {
        tile::<Portable, MR, 1, true>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate)
    }
}

/// Packs `src` into panels of `MR` rows; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`].
pub(crate) unsafe fn pack_a(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<MR, super::NoTranspose8>(src, dst, panel_stride) }
}

/// Packs `src` into panels of `NR` columns; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`] for `src.t()`.
pub(crate) unsafe fn pack_b(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<NR, super::NoTranspose8>(src.t(), dst, panel_stride) }
}
