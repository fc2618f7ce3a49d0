//! The portable vector tanh: an odd polynomial for small |x|, `1 - 2 / (exp(2|x|) + 1)` above,
//! written once over [`Vector`] for the instruction sets that take it as their
//! [`Vector::tanh`] (AVX2 + FMA, NEON).

use super::vector::Vector;

/// Below this |x| tanh uses the odd polynomial, above it the exponential form.
pub(crate) const TANH_SMALL: f32 = 0.625;
/// |x| is clamped to this before the exponential form: tanh rounds to exactly 1 in f32 for
/// |x| > 13 ln 2 = 9.0109..., and the clamp keeps `exp` finite.
pub(crate) const TANH_CLAMP: f32 = 9.125;
/// `tanh(x) = x + x^3 P(x^2)` on `|x| < TANH_SMALL`: near-minimax coefficients of P for the
/// relative error of the result (about 0.003 ULP from the polynomial itself).
const TANH_P: [f32; 6] = [
    -0.333_333_3,
    0.133_332_06,
    -0.053_946_763,
    0.021_700_7,
    -0.008_177_395,
    0.002_142_958_8,
];
/// `exp(r) = 1 + r + r^2 Q(r)` on `|r| <= ln(2)/2`: near-minimax coefficients of Q for the
/// relative error (about 0.05 ULP from the polynomial itself).
const EXP_Q: [f32; 5] = [
    0.499_999_94,
    0.166_665_21,
    0.041_668_39,
    0.008_368_71,
    0.001_381_461,
];
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` as the nearest f32 and the rest: with `2|x| >= 1.25`, `2|x| - k * LN2_HI` is exact in
/// f32 (fused multiply-add), so the reduced argument carries only the rounding of the second
/// step.
const LN2_HI: f32 = std::f32::consts::LN_2;
const LN2_LO: f32 = -1.904_654_2e-9;
/// `1.5 * 2^23 + 127`: adding it rounds to an integer `k` held in the low mantissa bits as the
/// biased exponent `k + 127` (see [`Vector::pow2_from_biased`]).
pub(crate) const ROUND_MAGIC: f32 = 12_583_039.0;

/// tanh of every lane within 2 ULP (see the module docs of `kernels` for the contract):
/// odd polynomial below [`TANH_SMALL`], `1 - 2 / (exp(2|x|) + 1)` above, the sign of `x`
/// restored at the end (so `-0.0` stays `-0.0`), NaN passed through by the clamp. Only for
/// vectors with a fused multiply-add ([`Vector::FUSED`], checked at compile time).
#[inline(always)]
pub(crate) fn tanh_vec<V: Vector>(x: V) -> V {
    // the error bound relies on fused multiply-adds in the reductions and polynomials
    const { assert!(V::FUSED) };
    // SAFETY: a value of `V` exists, so the CPU runs its instruction set.
    let c = |v: f32| unsafe { V::splat(v) };
    let a = x.abs();
    let sign = x.sign_bit();
    // small |x|: a + a^3 P(a^2); exact for tiny a, where a^3 P vanishes below half an ULP
    let a2 = a.mul(a);
    let mut p = c(TANH_P[5]);
    for &k in TANH_P[..5].iter().rev() {
        p = p.mul_add(a2, c(k));
    }
    let small = a.mul_add(a2.mul(p), a);
    // large |x|: 1 - 2 / (exp(2b) + 1), b = min(a, clamp) (NaN passes through the min)
    let b = c(TANH_CLAMP).min_or_nan(a);
    let y = b.add(b);
    let kb = y.mul_add(c(LOG2_E), c(ROUND_MAGIC));
    let k = kb.sub(c(ROUND_MAGIC));
    let r = k.mul_add(c(-LN2_HI), y);
    let r = k.mul_add(c(-LN2_LO), r);
    let mut q = c(EXP_Q[4]);
    for &e in EXP_Q[..4].iter().rev() {
        q = q.mul_add(r, c(e));
    }
    let er = r.mul(r).mul_add(q, r).add(c(1.0));
    let e2b = er.mul(kb.pow2_from_biased());
    let t = c(2.0).div(e2b.add(c(1.0)));
    let large = c(1.0).sub(t);
    a.select_lt(c(TANH_SMALL), small, large).or(sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_consistent() {
        let ln2 = std::f64::consts::LN_2;
        assert!((LN2_HI as f64 + LN2_LO as f64 - ln2).abs() < 1e-15);
        assert_eq!(ROUND_MAGIC, 1.5 * (1u32 << 23) as f32 + 127.0);
        // tanh rounds to 1 beyond 13 ln 2; the clamp must lie beyond that
        assert!(TANH_CLAMP as f64 > 13.0 * ln2);
        assert!(((2.0 * TANH_CLAMP as f64).exp() as f32).is_finite());
    }
}
