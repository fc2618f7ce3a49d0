//! How a gradient becomes a weight change: the [`Update`] seam of the per-sample and the
//! accumulated mini-batch steps, with plain SGD ([`Sgd`]) as its one implementation.
//!
//! An optimizer with state per weight (momentum, Adam, RPROP) implements [`Update`] once and
//! serves both steps; `at` tells it which flat weights a call updates. The fused per-sample
//! pass and the matrix-product path apply plain SGD inside their kernels (the update fused
//! with a product), which is why the plan takes them only for plain SGD.

use crate::kernels::Kernels;

/// The gradient one update applies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gradient<'a> {
    /// The sum of `rows` per-sample gradients of a block of weights (a mini-batch step
    /// applies their mean).
    Sum {
        /// The summed gradient, one value per weight of the block.
        sum: &'a [f32],
        /// How many samples were summed.
        rows: usize,
    },
    /// One sample's gradient of one layer matrix: the outer product `x delta^T` (row-major,
    /// `x.len()` rows of `delta.len()` values).
    Outer {
        /// The layer's input `x(l-1)`, with its leading 1.
        x: &'a [f32],
        /// The layer's delta `delta(l)`.
        delta: &'a [f32],
    },
}

/// A rule that turns a gradient into a change of the weights.
pub(crate) trait Update {
    /// Applies the step of learning rate `eta` from `grad` to `weights`, which are the
    /// network's flat weights `at..at + weights.len()`.
    fn apply(&mut self, at: usize, weights: &mut [f32], grad: Gradient<'_>, eta: f32, k: &Kernels);
}

/// Plain gradient descent: `w <- w - eta * g` (with `g` the mean of a summed gradient).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sgd;

impl Update for Sgd {
    #[inline]
    fn apply(
        &mut self,
        _at: usize,
        weights: &mut [f32],
        grad: Gradient<'_>,
        eta: f32,
        k: &Kernels,
    ) {
        match grad {
            Gradient::Sum { sum, rows } => {
                let alpha = -eta / rows as f32;
                for (w, g) in weights.iter_mut().zip(sum) {
                    *w += alpha * g;
                }
            }
            Gradient::Outer { x, delta } => {
                k.rank1_update_unchecked(weights, x.len(), delta.len(), -eta, x, delta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_applies_the_mean_and_the_outer_product() {
        let k = Kernels::scalar();
        let mut w = [1.0, 2.0];
        Sgd.apply(
            0,
            &mut w,
            Gradient::Sum {
                sum: &[4.0, -8.0],
                rows: 4,
            },
            0.5,
            &k,
        );
        assert_eq!(w, [0.5, 3.0]);
        // 2 x 2: w -= 0.5 * [1, 2]^T [2, 4]
        let mut w = [0.0; 4];
        let x = [1.0, 2.0];
        let d = [2.0, 4.0];
        Sgd.apply(0, &mut w, Gradient::Outer { x: &x, delta: &d }, 0.5, &k);
        assert_eq!(w, [-1.0, -2.0, -2.0, -4.0]);
    }
}
