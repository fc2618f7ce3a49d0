//! NEON (Advanced SIMD): 4 lanes of f32 in a `float32x4_t`; tails through a small stack
//! buffer.

use crate::kernels::vector::Vector;
use std::arch::aarch64::*;

/// Four f32 lanes; exists only when the CPU runs NEON (see [`Vector`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x4(float32x4_t);

// SAFETY: values are only created by the `unsafe` constructors below, whose callers guarantee
// NEON; the field is private to this module.
unsafe impl Vector for F32x4 {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: the caller guarantees NEON.
        F32x4(unsafe { vdupq_n_f32(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees NEON and that `p..p+4` is readable.
        F32x4(unsafe { vld1q_f32(p) })
    }

    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        let mut buf = [0.0f32; 4];
        // SAFETY: the caller guarantees NEON and that `p..p+n` (n < 4) is readable; `buf`
        // has room for 4 values.
        unsafe {
            std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n);
            F32x4(vld1q_f32(buf.as_ptr()))
        }
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: `self` proves NEON; the caller guarantees that `p..p+4` is writable.
        unsafe { vst1q_f32(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize) {
        let mut buf = [0.0f32; 4];
        // SAFETY: `self` proves NEON; `buf` has room for 4 values; the caller guarantees that
        // `p..p+n` (n < 4) is writable.
        unsafe {
            vst1q_f32(buf.as_mut_ptr(), self.0);
            std::ptr::copy_nonoverlapping(buf.as_ptr(), p, n);
        }
    }

    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vaddq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vsubq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vmulq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vdivq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vsqrtq_f32(self.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: `self` proves NEON. `vfmaq_f32(c, a, b)` is `c + a * b`, fused.
        F32x4(unsafe { vfmaq_f32(c.0, self.0, b.0) })
    }

    #[inline(always)]
    fn hsum(self) -> f32 {
        // SAFETY: `self` proves NEON. Pairwise adds rather than `vaddvq_f32`, which Miri does
        // not implement.
        unsafe {
            let s = vpaddq_f32(self.0, self.0);
            vgetq_lane_f32::<0>(vpaddq_f32(s, s))
        }
    }

    #[inline(always)]
    fn hsum4(v: [Self; 4]) -> [f32; 4] {
        // SAFETY: `v` proves NEON.
        unsafe {
            let ab = vpaddq_f32(v[0].0, v[1].0);
            let cd = vpaddq_f32(v[2].0, v[3].0);
            let mut out = [0.0f32; 4];
            vst1q_f32(out.as_mut_ptr(), vpaddq_f32(ab, cd));
            out
        }
    }

    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vabsq_f32(self.0) })
    }

    #[inline(always)]
    fn sign_bit(self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe {
            vreinterpretq_f32_u32(vandq_u32(
                vreinterpretq_u32_f32(self.0),
                vdupq_n_u32(0x8000_0000),
            ))
        })
    }

    #[inline(always)]
    fn or(self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe {
            vreinterpretq_f32_u32(vorrq_u32(
                vreinterpretq_u32_f32(self.0),
                vreinterpretq_u32_f32(b.0),
            ))
        })
    }

    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        // SAFETY: `self` proves NEON. `vminq_f32` (not `vminnmq_f32`) returns NaN when either
        // operand is NaN.
        F32x4(unsafe { vminq_f32(self.0, x.0) })
    }

    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vbslq_f32(vcltq_f32(self.0, bound.0), a.0, b.0) })
    }

    #[inline(always)]
    fn pow2_from_biased(self) -> Self {
        // SAFETY: `self` proves NEON.
        F32x4(unsafe { vreinterpretq_f32_u32(vshlq_n_u32::<23>(vreinterpretq_u32_f32(self.0))) })
    }
}

crate::kernels::generic::instantiate!(F32x4, "neon", "NEON");

#[cfg(test)]
mod tests {
    use super::F32x4;
    use crate::kernels::Isa;

    #[target_feature(enable = "neon")]
    unsafe fn check() {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { crate::kernels::generic::tests::check_vector::<F32x4>() }
    }

    #[test]
    fn vector_methods() {
        if Isa::Neon.is_available() {
            // SAFETY: the instruction set is available.
            unsafe { check() }
        }
    }
}
