//! The AVX2+FMA micro-kernel: 6 rows by 16 columns (12 accumulator registers).

use core::arch::x86_64::*;

use super::MatRef;
use super::micro::{Simd, tile};

/// `__m256` lanes.
pub(crate) struct Avx2;

impl Simd for Avx2 {
    type V = __m256;
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat_load(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA and a readable `p`.
        unsafe { _mm256_set1_ps(*p) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA and 8 readable floats at `p`.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        // SAFETY: the caller guarantees AVX2 and FMA and 8 writable floats at `p`.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA.
        unsafe { _mm256_mul_ps(a, b) }
    }
}

/// Tile rows.
pub(crate) const MR: usize = 6;
/// Vectors per tile row.
const NV: usize = 2;
/// Tile columns.
pub(crate) const NR: usize = NV * 8;

/// One `MR x NR` tile from a packed (or column-major) A panel; see [`tile`].
///
/// # Safety
/// The CPU supports AVX2 and FMA, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "avx2,fma")]
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
    // SAFETY: forwarded contract; AVX2 and FMA are enabled for this function.
    unsafe { tile::<Avx2, MR, NV, false>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate) }
}

/// One `MR x NR` tile reading the rows of A in place; see [`tile`].
///
/// # Safety
/// The CPU supports AVX2 and FMA, and the pointer contract of [`tile`] holds.
#[target_feature(enable = "avx2,fma")]
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
    // SAFETY: forwarded contract; AVX2 and FMA are enabled for this function.
    unsafe { tile::<Avx2, MR, NV, true>(k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate) }
}

/// Packs `src` into panels of `MR` rows; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`], and the CPU supports the instruction set.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn pack_a(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<MR, T8>(src, dst, panel_stride) }
}

/// Packs `src` into panels of `NR` columns; see [`super::pack_panels`].
///
/// # Safety
/// As [`super::pack_panels`] for `src.t()`, and the CPU supports the instruction set.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn pack_b(src: MatRef, dst: *mut f32, panel_stride: usize) {
    // SAFETY: forwarded contract.
    unsafe { super::pack_panels::<NR, T8>(src.t(), dst, panel_stride) }
}

/// The 8 x 8 block transpose of AVX (unpack, shuffle, cross-lane permute).
pub(crate) struct T8;

impl super::Transpose8 for T8 {
    const AVAILABLE: bool = true;

    #[inline(always)]
    unsafe fn transpose8(src: *const f32, rs: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller guarantees AVX and 8 rows of 8 floats at `src` and `dst`.
        unsafe {
            let r = |i: usize| _mm256_loadu_ps(src.add(i * rs));
            let (r0, r1, r2, r3, r4, r5, r6, r7) = (r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7));
            let t0 = _mm256_unpacklo_ps(r0, r1);
            let t1 = _mm256_unpackhi_ps(r0, r1);
            let t2 = _mm256_unpacklo_ps(r2, r3);
            let t3 = _mm256_unpackhi_ps(r2, r3);
            let t4 = _mm256_unpacklo_ps(r4, r5);
            let t5 = _mm256_unpackhi_ps(r4, r5);
            let t6 = _mm256_unpacklo_ps(r6, r7);
            let t7 = _mm256_unpackhi_ps(r6, r7);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let w = |i: usize, v: __m256| _mm256_storeu_ps(dst.add(i * ds), v);
            w(0, _mm256_permute2f128_ps::<0x20>(s0, s4));
            w(1, _mm256_permute2f128_ps::<0x20>(s1, s5));
            w(2, _mm256_permute2f128_ps::<0x20>(s2, s6));
            w(3, _mm256_permute2f128_ps::<0x20>(s3, s7));
            w(4, _mm256_permute2f128_ps::<0x31>(s0, s4));
            w(5, _mm256_permute2f128_ps::<0x31>(s1, s5));
            w(6, _mm256_permute2f128_ps::<0x31>(s2, s6));
            w(7, _mm256_permute2f128_ps::<0x31>(s3, s7));
        }
    }
}
