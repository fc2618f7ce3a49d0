//! The AVX-512F micro-kernel: 8 rows by 32 columns (16 accumulator registers; tiles of 8 rows fit
//! the 64-row chunks of mini-batch training exactly).

use core::arch::x86_64::*;

use super::MatRef;
use super::micro::{Simd, tile};

/// `__m512` lanes.
pub(crate) struct Avx512;

impl Simd for Avx512 {
    type V = __m512;
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        // SAFETY: the caller guarantees AVX-512F.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat_load(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees AVX-512F and a readable `p`.
        unsafe { _mm512_set1_ps(*p) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        // SAFETY: the caller guarantees AVX-512F.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees AVX-512F and 16 readable floats at `p`.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        // SAFETY: the caller guarantees AVX-512F and 16 writable floats at `p`.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: the caller guarantees AVX-512F.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        // SAFETY: the caller guarantees AVX-512F.
        unsafe { _mm512_mul_ps(a, b) }
    }
}

/// Tile rows.
pub(crate) const MR: usize = 8;
/// Vectors per tile row.
const NV: usize = 2;
/// Tile columns.
pub(crate) const NR: usize = NV * 16;

/// One `MR x NR` tile from a packed (or column-major) A panel; see [`tile`].
///
/// # Safety
/// The CPU supports AVX-512F, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "avx512f,avx2,fma")]
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
    // SAFETY: forwarded contract; AVX-512F is enabled for this function.
    unsafe {
        tile::<Avx512, MR, NV, false>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate)
    }
}

/// One `MR x NR` tile reading the rows of A in place; see [`tile`].
///
/// # Safety
/// The CPU supports AVX-512F, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "avx512f,avx2,fma")]
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
    // SAFETY: forwarded contract; AVX-512F is enabled for this function.
    unsafe { tile::<Avx512, MR, NV, true>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate) }
}

/// Packs `src` into panels of `MR` rows; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`], and the CPU supports the instruction set.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn pack_a(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<MR, super::avx2::T8>(src, dst, panel_stride) }
}

/// Packs `src` into panels of `NR` columns; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`] for `src.t()`, and the CPU supports the instruction set.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn pack_b(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<NR, super::avx2::T8>(src.t(), dst, panel_stride) }
}
