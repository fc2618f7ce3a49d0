//! The NEON micro-kernel: 8 rows by 12 columns (24 accumulator registers).

use core::arch::aarch64::*;

use super::MatRef;
use super::micro::{Simd, tile};

/// `float32x4_t` lanes.
pub(crate) struct Neon;

impl Simd for Neon {
    type V = float32x4_t;
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn zero() -> float32x4_t {
        // SAFETY: the caller guarantees NEON.
        unsafe { vdupq_n_f32(0.0) }
    }
    #[inline(always)]
    unsafe fn splat_load(p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees NEON and a readable `p`.
        unsafe { vld1q_dup_f32(p) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> float32x4_t {
        // SAFETY: the caller guarantees NEON.
        unsafe { vdupq_n_f32(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees NEON and 4 readable floats at `p`.
        unsafe { vld1q_f32(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: float32x4_t) {
        // SAFETY: the caller guarantees NEON and 4 writable floats at `p`.
        unsafe { vst1q_f32(p, v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        // SAFETY: the caller guarantees NEON.
        unsafe { vfmaq_f32(c, a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // SAFETY: the caller guarantees NEON.
        unsafe { vmulq_f32(a, b) }
    }
}

/// Tile rows.
pub(crate) const MR: usize = 8;
/// Vectors per tile row.
const NV: usize = 3;
/// Tile columns.
pub(crate) const NR: usize = NV * 4;

/// One `MR x NR` tile from a packed (or column-major) A panel; see [`tile`].
///
/// # Safety
/// The CPU supports NEON, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "neon")]
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
    // SAFETY: forwarded contract; NEON is enabled for this function.
    unsafe { tile::<Neon, MR, NV, false>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate) }
}

/// One `MR x NR` tile reading the rows of A in place; see [`tile`].
///
/// # Safety
/// The CPU supports NEON, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "neon")]
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
    // SAFETY: forwarded contract; NEON is enabled for this function.
    unsafe { tile::<Neon, MR, NV, true>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate) }
}

/// Packs `src` into panels of `MR` rows; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`], and the CPU supports the instruction set.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn pack_a(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<MR, super::NoTranspose8>(src, dst, panel_stride) }
}

/// Packs `src` into panels of `NR` columns; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`] for `src.t()`, and the CPU supports the instruction set.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn pack_b(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<NR, super::NoTranspose8>(src.t(), dst, panel_stride) }
}
