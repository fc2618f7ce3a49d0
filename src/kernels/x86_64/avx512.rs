//! AVX-512F: 16 lanes of f32 in a `__m512`, mask registers for the tails.

use crate::kernels::vector::Vector;
use std::arch::x86_64::*;

/// Sixteen f32 lanes; exists only when the CPU runs AVX-512F (see [`Vector`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x16(__m512);

/// The mask of the first `n` lanes (`n < 16`).
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

// SAFETY: values are only created by the `unsafe` constructors below, whose callers guarantee
// AVX-512F; the field is private to this module.
unsafe impl Vector for F32x16 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: the caller guarantees AVX-512F.
        F32x16(unsafe { _mm512_set1_ps(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees AVX-512F and that `p..p+16` is readable.
        F32x16(unsafe { _mm512_loadu_ps(p) })
    }

    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        // SAFETY: the caller guarantees AVX-512F and that `p..p+n` is readable; masked-off
        // lanes are not accessed (no fault) and read as zero.
        F32x16(unsafe { _mm512_maskz_loadu_ps(first_lanes(n), p) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: `self` proves AVX-512F; the caller guarantees that `p..p+16` is writable.
        unsafe { _mm512_storeu_ps(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize) {
        // SAFETY: `self` proves AVX-512F; the caller guarantees that `p..p+n` is writable;
        // masked-off lanes are not accessed.
        unsafe { _mm512_mask_storeu_ps(p, first_lanes(n), self.0) }
    }

    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_add_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_sub_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_mul_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_div_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }

    #[inline(always)]
    fn hsum(self) -> f32 {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_reduce_add_ps(self.0) }
    }

    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_abs_ps(self.0) })
    }

    #[inline(always)]
    fn sign_bit(self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe {
            _mm512_castsi512_ps(_mm512_and_epi32(
                _mm512_castps_si512(self.0),
                _mm512_set1_epi32(i32::MIN),
            ))
        })
    }

    #[inline(always)]
    fn or(self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe {
            _mm512_castsi512_ps(_mm512_or_epi32(
                _mm512_castps_si512(self.0),
                _mm512_castps_si512(b.0),
            ))
        })
    }

    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        // SAFETY: `self` proves AVX-512F. `vminps` returns its second operand when either is
        // NaN.
        F32x16(unsafe { _mm512_min_ps(self.0, x.0) })
    }

    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe {
            let m = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, bound.0);
            _mm512_mask_blend_ps(m, b.0, a.0)
        })
    }

    #[inline(always)]
    fn pow2_from_biased(self) -> Self {
        // SAFETY: `self` proves AVX-512F.
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(self.0))) })
    }
}

crate::kernels::generic::instantiate!(F32x16, "avx512f,avx2,fma", "AVX-512F");

#[cfg(test)]
mod tests {
    use super::F32x16;
    use crate::kernels::Isa;

    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn check() {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { crate::kernels::generic::tests::check_vector::<F32x16>() }
    }

    #[test]
    fn vector_methods() {
        if Isa::Avx512.is_available() {
            // SAFETY: the instruction set is available.
            unsafe { check() }
        }
    }
}
