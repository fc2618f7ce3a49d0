//! The per-sample math of backpropagation, written once: the output delta (with the sample's
//! residual) and the hidden delta. Every training path computes its deltas here: the
//! per-sample gradient of `Network::gradient` and the accumulated mini-batch steps, the fused
//! per-sample SGD passes of `kernels::sgd` (on one float at a time and on whole vectors), and
//! the batched matrix-product path.
//!
//! With the sample's output `o`, target `y` and the residual `r = y - o`:
//! - output delta `delta_k(L) = -2 r_k theta'(s_k)`, with `theta' = 1 - o^2` for a tanh output
//!   and `1` for a linear one (the derivative from the stored activation, not a second tanh);
//! - hidden delta `delta_j(l-1) = z_j (1 - x_j(l-1)^2)`, with `z = W(l) delta(l)` (bias row
//!   skipped) and the stored activation `x(l-1)`;
//! - the sample's error `e_n = sum_k r_k^2`, accumulated in f64.
//!
//! Each formula is one expression over [`Lanes`], so a scalar and a vector lane round the same
//! way, operation by operation (no fused multiply-add).

use super::vector::Vector;

/// The lane-wise arithmetic the delta formulas need: implemented by `f32` (one lane) and by
/// every vector type of the kernels.
pub(crate) trait Lanes: Copy {
    /// `v` in every lane. A value of `Self` exists, so for a vector type the CPU runs its
    /// instruction set.
    fn splat_like(self, v: f32) -> Self;
    /// Lane-wise `self - b`.
    fn sub(self, b: Self) -> Self;
    /// Lane-wise `self * b`.
    fn mul(self, b: Self) -> Self;
}

impl Lanes for f32 {
    #[inline(always)]
    fn splat_like(self, v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn sub(self, b: f32) -> f32 {
        self - b
    }
    #[inline(always)]
    fn mul(self, b: f32) -> f32 {
        self * b
    }
}

impl<V: Vector> Lanes for V {
    #[inline(always)]
    fn splat_like(self, v: f32) -> V {
        // SAFETY: `self` is a value of `V`, which exists only when the CPU runs `V`'s
        // instruction set (the contract of `Vector`).
        unsafe { V::splat(v) }
    }
    #[inline(always)]
    fn sub(self, b: V) -> V {
        Vector::sub(self, b)
    }
    #[inline(always)]
    fn mul(self, b: V) -> V {
        Vector::mul(self, b)
    }
}

/// The residual `r = y - o` and the output delta `-2 r theta'(o)` of output `o` and target
/// `y`.
#[inline(always)]
pub(crate) fn output_delta<T: Lanes>(out: T, target: T, tanh_output: bool) -> (T, T) {
    let one = out.splat_like(1.0);
    let r = target.sub(out);
    let dtheta = if tanh_output {
        one.sub(out.mul(out))
    } else {
        one
    };
    (r, out.splat_like(-2.0).mul(r).mul(dtheta))
}

/// The hidden delta `z (1 - x^2)` of the backward product `z` and the stored activation `x`.
#[inline(always)]
pub(crate) fn hidden_delta<T: Lanes>(z: T, x: T) -> T {
    z.mul(x.splat_like(1.0).sub(x.mul(x)))
}

/// The squared residual, in f64, added to a sample's error.
#[inline(always)]
pub(crate) fn squared(r: f32) -> f64 {
    (r as f64) * (r as f64)
}

/// The output deltas of one sample (`delta[k]` from `out[k]` and `target[k]`); returns the
/// sample's error `e_n = sum_k (y_k - o_k)^2`.
#[inline(always)]
pub(crate) fn output_deltas(
    out: &[f32],
    target: &[f32],
    tanh_output: bool,
    delta: &mut [f32],
) -> f64 {
    let mut e = 0.0f64;
    for ((dk, &ok), &yk) in delta.iter_mut().zip(out).zip(target) {
        let (r, d) = output_delta(ok, yk, tanh_output);
        e += squared(r);
        *dk = d;
    }
    e
}

/// The hidden deltas of one sample: `delta[j] = z[j] (1 - x[j]^2)` (both without the bias).
#[inline(always)]
pub(crate) fn hidden_deltas(z: &[f32], x: &[f32], delta: &mut [f32]) {
    for ((dj, &zj), &xj) in delta.iter_mut().zip(z).zip(x) {
        *dj = hidden_delta(zj, xj);
    }
}

/// The hidden deltas in place: `delta[j] *= 1 - x[j]^2`, for a `delta` that holds `z`.
#[inline(always)]
pub(crate) fn hidden_deltas_in_place(delta: &mut [f32], x: &[f32]) {
    for (dj, &xj) in delta.iter_mut().zip(x) {
        *dj = hidden_delta(*dj, xj);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_delta_of_a_linear_and_a_tanh_output() {
        // r = 3 - 1 = 2: linear delta -4, tanh delta -4 (1 - 1) = 0
        assert_eq!(output_delta(1.0f32, 3.0, false), (2.0, -4.0));
        assert_eq!(output_delta(1.0f32, 3.0, true), (2.0, 0.0));
        // o = 0.5: theta' = 0.75, r = -0.5, delta = -2 * -0.5 * 0.75
        assert_eq!(output_delta(0.5f32, 0.0, true), (-0.5, 0.75));
        let mut d = [0.0; 2];
        let e = output_deltas(&[1.0, 0.5], &[3.0, 0.0], false, &mut d);
        assert_eq!(e, 4.25);
        assert_eq!(d, [-4.0, 1.0]);
    }

    #[test]
    fn hidden_delta_uses_the_stored_activation() {
        assert_eq!(hidden_delta(2.0f32, 0.5), 1.5);
        let mut d = [0.0; 3];
        hidden_deltas(&[2.0, -4.0, 1.0], &[0.5, 1.0, 0.0], &mut d);
        assert_eq!(d, [1.5, 0.0, 1.0]);
        let mut z = [2.0, -4.0, 1.0];
        hidden_deltas_in_place(&mut z, &[0.5, 1.0, 0.0]);
        assert_eq!(z, d);
    }
}
