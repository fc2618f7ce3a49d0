//! The small vector interface that the generic kernels in [`super::generic`] are written
//! against: one implementation per instruction set (`x86_64::avx2`, `x86_64::avx512`,
//! `aarch64::neon`), each a thin wrapper over `std::arch` intrinsics.
//!
//! Every method is `#[inline(always)]` in the implementations, so that a generic kernel
//! instantiated inside a `#[target_feature(enable = ...)]` function compiles to straight-line
//! vector code for that instruction set.

/// A vector of `LANES` f32 lanes of one instruction set.
///
/// Constructors (`splat`, `load`, ...) are `unsafe`: their caller guarantees that the CPU runs
/// the instruction set. A value of the type is therefore the proof that the instructions are
/// available, and the operations on values are safe methods.
///
/// # Safety
/// Implementors must only produce values through the `unsafe` constructors below (the wrapped
/// register type stays private), so that holding a value implies that the CPU supports the
/// instruction set, and must implement each operation exactly as documented.
pub(crate) unsafe trait Vector: Copy {
    /// The number of f32 lanes.
    const LANES: usize;

    /// Every lane set to `v`.
    ///
    /// # Safety
    /// The CPU runs the instruction set of `Self`.
    unsafe fn splat(v: f32) -> Self;

    /// `LANES` values from `p` (no alignment required).
    ///
    /// # Safety
    /// The CPU runs the instruction set of `Self`; `p..p+LANES` is readable.
    unsafe fn load(p: *const f32) -> Self;

    /// The first `n` lanes from `p`, the other lanes zero.
    ///
    /// # Safety
    /// The CPU runs the instruction set of `Self`; `n < LANES`; `p..p+n` is readable (nothing
    /// beyond it is touched).
    unsafe fn load_partial(p: *const f32, n: usize) -> Self;

    /// Stores all lanes to `p` (no alignment required).
    ///
    /// # Safety
    /// `p..p+LANES` is writable.
    unsafe fn store(self, p: *mut f32);

    /// Stores the first `n` lanes to `p`.
    ///
    /// # Safety
    /// `n < LANES`; `p..p+n` is writable (nothing beyond it is touched).
    unsafe fn store_partial(self, p: *mut f32, n: usize);

    /// Lane-wise `self + b`.
    fn add(self, b: Self) -> Self;
    /// Lane-wise `self - b`.
    fn sub(self, b: Self) -> Self;
    /// Lane-wise `self * b`.
    fn mul(self, b: Self) -> Self;
    /// Lane-wise `self / b`, correctly rounded.
    fn div(self, b: Self) -> Self;
    /// Lane-wise `self * b + c` with a single rounding (fused multiply-add).
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Lane-wise square root, correctly rounded.
    fn sqrt(self) -> Self;
    /// The sum of all lanes.
    fn hsum(self) -> f32;
    /// The sums of the lanes of `v[0]`, ..., `v[3]` (cheaper than four [`Vector::hsum`]).
    fn hsum4(v: [Self; 4]) -> [f32; 4];

    /// Lane-wise `|self|` (clears the sign bit; NaN stays NaN).
    fn abs(self) -> Self;
    /// Lane-wise sign bit of `self` only (`+0.0` or `-0.0`).
    fn sign_bit(self) -> Self;
    /// Lane-wise bitwise or.
    fn or(self, b: Self) -> Self;
    /// Lane-wise `min(self, x)` that returns `x` whenever `x` is NaN (the clamp that lets NaN
    /// through).
    fn min_or_nan(self, x: Self) -> Self;
    /// Lane-wise `if self < bound { a } else { b }` (false for NaN).
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self;
    /// Lane-wise `f32::from_bits(self.to_bits() << 23)`: with `self = k + 127 + 1.5 * 2^23`
    /// for an integer `k` in `-126..=127`, this is `2^k`.
    fn pow2_from_biased(self) -> Self;

    /// Lane-wise tanh within 2 ULP, with the special values of the `kernels` contract. The
    /// default is the portable algorithm of [`super::generic::tanh_vec`]; an instruction set
    /// may provide a faster one that meets the same contract.
    #[inline(always)]
    fn tanh(self) -> Self {
        super::generic::tanh_vec(self)
    }
}
