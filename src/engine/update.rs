//! How a gradient becomes a weight change: the [`Update`] seam of the per-sample and the
//! accumulated mini-batch steps, with plain SGD ([`Sgd`]) and the optimizers ([`Stateful`]).
//!
//! The optimizers with state per weight (momentum, Adam, RPROP) serve both steps through
//! [`Stateful`]; `at` tells it which flat weights a call updates. The fused per-sample
//! pass applies plain SGD inside its kernel (the update fused with a product), which is why
//! the plan takes it only for plain SGD. The matrix-product step fuses plain SGD the same
//! way; for every other optimizer it writes the gradient into a [`Stateful`]'s buffer and
//! applies the state's kernel itself, block by block (`engine::batched`).

use crate::error::{Result, try_zeroed};
use crate::kernels::Kernels;
use crate::optim::OptimizerState;
use crate::regularization::Regularization;

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
    /// Applies the step of learning rate `eta` from `grad` and the regularizer `reg` to one
    /// layer matrix `weights` (`cols` columns), which are the network's flat weights
    /// `at..at + weights.len()`.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        at: usize,
        weights: &mut [f32],
        cols: usize,
        grad: Gradient<'_>,
        eta: f32,
        reg: &Regularization,
        k: &Kernels,
    );

    /// Ends a step whose layers were applied (an optimizer counts its steps here).
    fn finish(&mut self) {}

    /// Back to the start of a run (an optimizer's state to zero).
    fn reset(&mut self) {}

    /// The optimizer state, for a rule that has one (what a checkpoint saves).
    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        None
    }
}

/// Plain gradient descent: the regularizer's step `w <- w - eta lambda dOmega/dw`, then
/// `w <- w - eta * g` (with `g` the mean of a summed gradient).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sgd;

impl Update for Sgd {
    #[inline]
    fn apply(
        &mut self,
        _at: usize,
        weights: &mut [f32],
        cols: usize,
        grad: Gradient<'_>,
        eta: f32,
        reg: &Regularization,
        k: &Kernels,
    ) {
        if reg.is_active() {
            reg.step(&mut weights[reg.layer_start(0, cols)..], eta * reg.lambda);
        }
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

/// An optimizer of SPEC section 6 ([`OptimizerState`]): it consumes the step's gradient
/// `g = mean de_n/dw + lambda dOmega/dw`, built layer by layer in `g`.
#[derive(Debug)]
pub(crate) struct Stateful {
    pub(crate) state: OptimizerState,
    g: Vec<f32>,
}

impl Stateful {
    pub(crate) fn new(state: OptimizerState) -> Result<Stateful> {
        Ok(Stateful {
            g: try_zeroed(state.len(), "the optimizer's gradient")?,
            state,
        })
    }
}

impl Stateful {
    /// The optimizer state and the gradient buffer (as long as the state), for a step that
    /// writes the gradient itself (the matrix-product step).
    pub(crate) fn parts(&mut self) -> (&mut OptimizerState, &mut [f32]) {
        (&mut self.state, &mut self.g)
    }
}

impl Update for Stateful {
    fn apply(
        &mut self,
        at: usize,
        weights: &mut [f32],
        cols: usize,
        grad: Gradient<'_>,
        eta: f32,
        reg: &Regularization,
        _k: &Kernels,
    ) {
        let g = &mut self.g[at..at + weights.len()];
        match grad {
            Gradient::Sum { sum, rows } => {
                let scale = 1.0 / rows as f32;
                for (gi, s) in g.iter_mut().zip(sum) {
                    *gi = s * scale;
                }
            }
            Gradient::Outer { x, delta } => {
                for (row, &xi) in g.chunks_exact_mut(delta.len()).zip(x) {
                    for (gi, &d) in row.iter_mut().zip(delta) {
                        *gi = xi * d;
                    }
                }
            }
        }
        if reg.is_active() {
            let s = reg.layer_start(0, cols);
            reg.add_gradient(&weights[s..], &mut g[s..], reg.lambda);
        }
        self.state.step_block(at, weights, g, eta);
    }

    fn finish(&mut self) {
        self.state.advance();
    }

    fn reset(&mut self) {
        self.state.reset();
    }

    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        Some(&mut self.state)
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
            2,
            Gradient::Sum {
                sum: &[4.0, -8.0],
                rows: 4,
            },
            0.5,
            &Regularization::none(),
            &k,
        );
        assert_eq!(w, [0.5, 3.0]);
        // 2 x 2: w -= 0.5 * [1, 2]^T [2, 4]
        let mut w = [0.0; 4];
        let x = [1.0, 2.0];
        let d = [2.0, 4.0];
        let none = Regularization::none();
        Sgd.apply(
            0,
            &mut w,
            2,
            Gradient::Outer { x: &x, delta: &d },
            0.5,
            &none,
            &k,
        );
        assert_eq!(w, [-1.0, -2.0, -2.0, -4.0]);
    }
}
