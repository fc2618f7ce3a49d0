//! AVX2 + FMA: 8 lanes of f32 in a `__m256`, masked loads and stores for the tails.

use crate::kernels::vector::Vector;
use std::arch::x86_64::*;

/// Eight f32 lanes; exists only when the CPU runs AVX2 and FMA (see [`Vector`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x8(__m256);

/// The lane mask with the first `n` lanes set (`n < 8`).
#[inline(always)]
fn first_lanes(n: usize) -> __m256i {
    // SAFETY: only reached from methods of a value or constructor whose contract guarantees
    // AVX2 (see `Vector`).
    unsafe {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
}

// SAFETY: values are only created by the `unsafe` constructors below, whose callers guarantee
// AVX2 and FMA; the field is private to this module.
unsafe impl Vector for F32x8 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: the caller guarantees AVX (part of AVX2).
        F32x8(unsafe { _mm256_set1_ps(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees AVX and that `p..p+8` is readable.
        F32x8(unsafe { _mm256_loadu_ps(p) })
    }

    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        // SAFETY: the caller guarantees AVX and that `p..p+n` is readable; masked-off lanes
        // are not accessed and read as zero.
        F32x8(unsafe { _mm256_maskload_ps(p, first_lanes(n)) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: `self` proves AVX; the caller guarantees that `p..p+8` is writable.
        unsafe { _mm256_storeu_ps(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize) {
        // SAFETY: `self` proves AVX; the caller guarantees that `p..p+n` is writable;
        // masked-off lanes are not accessed.
        unsafe { _mm256_maskstore_ps(p, first_lanes(n), self.0) }
    }

    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_add_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_sub_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_mul_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_div_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_sqrt_ps(self.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: `self` proves FMA.
        F32x8(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }

    #[inline(always)]
    fn hsum(self) -> f32 {
        // SAFETY: `self` proves AVX (and so SSE3).
        unsafe {
            let s = _mm_add_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        }
    }

    #[inline(always)]
    fn hsum4(v: [Self; 4]) -> [f32; 4] {
        // SAFETY: `v` proves AVX.
        unsafe {
            // [a0+a1, a2+a3, b0+b1, b2+b3 | the same for the high halves]
            let ab = _mm256_hadd_ps(v[0].0, v[1].0);
            let cd = _mm256_hadd_ps(v[2].0, v[3].0);
            // [a(0..4), b(0..4), c(0..4), d(0..4) | the high halves]
            let s = _mm256_hadd_ps(ab, cd);
            let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
            let mut out = [0.0f32; 4];
            _mm_storeu_ps(out.as_mut_ptr(), s);
            out
        }
    }

    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }

    #[inline(always)]
    fn sign_bit(self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_and_ps(_mm256_set1_ps(-0.0), self.0) })
    }

    #[inline(always)]
    fn or(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe { _mm256_or_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        // SAFETY: `self` proves AVX. `vminps` returns its second operand when either is NaN.
        F32x8(unsafe { _mm256_min_ps(self.0, x.0) })
    }

    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        // SAFETY: `self` proves AVX.
        F32x8(unsafe {
            let m = _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, bound.0);
            _mm256_blendv_ps(b.0, a.0, m)
        })
    }

    #[inline(always)]
    fn pow2_from_biased(self) -> Self {
        // SAFETY: `self` proves AVX2.
        F32x8(unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(self.0))) })
    }
}

crate::kernels::generic::instantiate!(F32x8, "avx2,fma", "AVX2 and FMA");

#[cfg(test)]
mod tests {
    use super::F32x8;
    use crate::kernels::Isa;

    #[target_feature(enable = "avx2,fma")]
    unsafe fn check() {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { crate::kernels::generic::tests::check_vector::<F32x8>() }
    }

    #[test]
    fn vector_methods() {
        if Isa::Avx2.is_available() {
            // SAFETY: the instruction set is available.
            unsafe { check() }
        }
    }
}
