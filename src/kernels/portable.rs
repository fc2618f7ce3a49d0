//! Eight f32 lanes in plain arrays: the [`Vector`] of the scalar kernel set's GEMM, always
//! compiled. A multiply-add is a rounded product plus the addend (no fused multiply-add), so
//! the scalar GEMM rounds as plain loops do; tanh is the reference [`scalar::tanh_ref`] lane by
//! lane.

use super::scalar;
use super::vector::Vector;

/// Eight f32 lanes handled by plain loops (no instruction set required).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Lanes8([f32; 8]);

impl Lanes8 {
    /// Lane-wise `f(self[i], b[i])`.
    #[inline(always)]
    fn zip(self, b: Lanes8, f: impl Fn(f32, f32) -> f32) -> Lanes8 {
        Lanes8(core::array::from_fn(|i| f(self.0[i], b.0[i])))
    }

    /// Lane-wise `f(self[i])`.
    #[inline(always)]
    fn map(self, f: impl Fn(f32) -> f32) -> Lanes8 {
        Lanes8(self.0.map(f))
    }
}

// SAFETY: the lanes need no instruction set, so every value is valid on every CPU; the type is
// `repr(transparent)` over `[f32; 8]`.
unsafe impl Vector for Lanes8 {
    const LANES: usize = 8;
    const FUSED: bool = false;

    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        Lanes8([v; 8])
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable floats at `p`.
        Lanes8(unsafe { core::ptr::read_unaligned(p as *const [f32; 8]) })
    }

    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        let mut v = [0.0; 8];
        // SAFETY: the caller guarantees `n < 8` readable floats at `p`.
        unsafe { core::ptr::copy_nonoverlapping(p, v.as_mut_ptr(), n) };
        Lanes8(v)
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats at `p`.
        unsafe { core::ptr::write_unaligned(p as *mut [f32; 8], self.0) }
    }

    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize) {
        // SAFETY: the caller guarantees `n < 8` writable floats at `p`.
        unsafe { core::ptr::copy_nonoverlapping(self.0.as_ptr(), p, n) }
    }

    #[inline(always)]
    fn add(self, b: Self) -> Self {
        self.zip(b, |x, y| x + y)
    }

    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        self.zip(b, |x, y| x - y)
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        self.zip(b, |x, y| x * y)
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        self.zip(b, |x, y| x / y)
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        Lanes8(core::array::from_fn(|i| c.0[i] + self.0[i] * b.0[i]))
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        self.map(f32::sqrt)
    }

    #[inline(always)]
    fn hsum(self) -> f32 {
        self.0.iter().sum()
    }

    #[inline(always)]
    fn hsum4(v: [Self; 4]) -> [f32; 4] {
        v.map(Lanes8::hsum)
    }

    #[inline(always)]
    fn abs(self) -> Self {
        self.map(f32::abs)
    }

    #[inline(always)]
    fn sign_bit(self) -> Self {
        self.map(|x| f32::from_bits(x.to_bits() & 0x8000_0000))
    }

    #[inline(always)]
    fn or(self, b: Self) -> Self {
        self.zip(b, |x, y| f32::from_bits(x.to_bits() | y.to_bits()))
    }

    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        // the second operand unless `self < x` (so whenever either is NaN), as `vminps`
        self.zip(x, |s, x| if s < x { s } else { x })
    }

    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        Lanes8(core::array::from_fn(|i| {
            if self.0[i] < bound.0[i] {
                a.0[i]
            } else {
                b.0[i]
            }
        }))
    }

    #[inline(always)]
    fn pow2_from_biased(self) -> Self {
        self.map(|x| f32::from_bits(x.to_bits() << 23))
    }

    #[inline(always)]
    fn tanh(self) -> Self {
        self.map(scalar::tanh_ref)
    }
}

super::generic::instantiate!(
    @gemm Lanes8, [], "the portable lanes",
    rows: 4,
    vectors: 1,
    transpose: crate::kernels::gemm::NoTranspose8,
    blocking: (256, 64, 512)
);

#[cfg(test)]
mod tests {
    use super::Lanes8;

    #[test]
    fn vector_methods() {
        // SAFETY: the portable lanes need no instruction set.
        unsafe { crate::kernels::generic::tests::check_vector::<Lanes8>() }
    }
}
