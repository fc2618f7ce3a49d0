//! The steps of training: the [`Step`] trait the epoch loop drives, and its per-sample and
//! accumulated implementations (the matrix-product step is in `engine::batched`).

use rayon::ThreadPool;

use super::update::{Gradient, Update};
use crate::error::{Result, try_zeroed};
use crate::gradient::Backprop;
use crate::kernels::sgd::SgdPass;
use crate::network::{Network, Output};
use crate::optim::OptimizerState;
use crate::regularization::Regularization;

/// A training set (and optional validation set) after checks and scaling.
pub(crate) struct Sets<'a> {
    /// Row-major inputs, `d(0)` per row.
    pub(crate) x: &'a [f32],
    /// Row-major targets, `d(L)` per row.
    pub(crate) y: &'a [f32],
    /// The validation inputs and targets.
    pub(crate) val: Option<(&'a [f32], &'a [f32])>,
}

impl Sets<'_> {
    /// Row `i` of the inputs and of the targets.
    #[inline]
    fn row(&self, net: &Network, i: usize) -> (&[f32], &[f32]) {
        let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
        (
            &self.x[i * n_in..(i + 1) * n_in],
            &self.y[i * n_out..(i + 1) * n_out],
        )
    }
}

/// The layer sizes and offsets of a network, copied once so that a step can hold them while
/// it changes the weights.
struct Shape {
    layers: Vec<usize>,
    offsets: Vec<usize>,
}

impl Shape {
    fn of(net: &Network) -> Shape {
        Shape {
            layers: net.layers().to_vec(),
            offsets: net.offsets().to_vec(),
        }
    }
}

/// One way of computing the steps of an epoch.
pub(crate) trait Step {
    /// Rows per step.
    fn batch(&self) -> usize;

    /// Sets the learning rate of the following steps (the schedule's rate of an epoch).
    fn set_rate(&mut self, eta: f32);

    /// Back to the start of a run (an optimizer's state to zero).
    fn reset(&mut self) {}

    /// The optimizer state of a step that keeps one (momentum, Adam, RPROP, ...), which a
    /// checkpoint saves and a resumed run restores; `None` for plain SGD. Every step with an
    /// optimizer state must return it, or a resumed run would restart it from zero.
    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        None
    }

    /// One step over the rows `rows` of `sets`; returns the summed sample errors (each
    /// measured before the step).
    fn step(&mut self, net: &mut Network, sets: &Sets, rows: &[usize]) -> f64;

    /// One epoch: a step for every `batch()` rows of `order`, in order. Returns whether every
    /// sample error stayed finite (the epoch ends at the first step where one did not).
    fn epoch(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        order: &[usize],
        pool: &ThreadPool,
    ) -> bool {
        let _ = pool;
        let b = self.batch();
        order
            .chunks(b)
            .all(|rows| self.step(net, sets, rows).is_finite())
    }
}

/// Per-sample SGD without a regularizer through the kernel set's fused pass
/// ([`crate::kernels::sgd`]): a whole epoch in one call.
pub(crate) struct FusedSgd {
    bp: Backprop,
    next_input: Vec<f32>,
    eta: f32,
}

impl FusedSgd {
    pub(crate) fn new(net: &Network, eta: f32) -> Result<FusedSgd> {
        let mut next_input = try_zeroed(net.num_inputs() + 1, "the next input")?;
        next_input[0] = 1.0;
        Ok(FusedSgd {
            bp: Backprop::new(net)?,
            next_input,
            eta,
        })
    }

    /// The pass over the rows `order`: the summed sample errors, or `None` at the first one
    /// that is not finite.
    pub(crate) fn pass(&mut self, net: &mut Network, sets: &Sets, order: &[usize]) -> Option<f64> {
        let layers = net.layers().to_vec();
        let off = net.offsets().to_vec();
        let k = net.kernels();
        let tanh_output = net.output() == Output::Tanh;
        let mut pass = SgdPass {
            layers: &layers,
            offsets: &off,
            tanh_output,
            weights: net.weights_mut(),
            x: sets.x,
            y: sets.y,
            order,
            eta: self.eta,
            acts: &mut self.bp.fwd.acts,
            next_input: &mut self.next_input,
            deltas: &mut self.bp.deltas,
            z: &mut self.bp.z,
        };
        k.sgd_pass(&mut pass)
    }
}

impl Step for FusedSgd {
    fn batch(&self) -> usize {
        1
    }

    fn set_rate(&mut self, eta: f32) {
        self.eta = eta;
    }

    fn step(&mut self, net: &mut Network, sets: &Sets, rows: &[usize]) -> f64 {
        self.pass(net, sets, rows).unwrap_or(f64::NAN)
    }

    fn epoch(&mut self, net: &mut Network, sets: &Sets, order: &[usize], _: &ThreadPool) -> bool {
        self.pass(net, sets, order).is_some()
    }
}

/// Per-sample steps with a regularizer, layer by layer from the last: the backward product
/// with the weights before the step, the regularizer's step, the update.
pub(crate) struct PerSample<U> {
    bp: Backprop,
    shape: Shape,
    eta: f32,
    reg: Regularization,
    update: U,
}

impl<U: Update> PerSample<U> {
    pub(crate) fn new(net: &Network, eta: f32, reg: Regularization, update: U) -> Result<Self> {
        Ok(PerSample {
            bp: Backprop::new(net)?,
            shape: Shape::of(net),
            eta,
            reg,
            update,
        })
    }
}

impl<U: Update> Step for PerSample<U> {
    fn batch(&self) -> usize {
        1
    }

    fn set_rate(&mut self, eta: f32) {
        self.eta = eta;
    }

    fn reset(&mut self) {
        self.update.reset();
    }

    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        self.update.optimizer_state_mut()
    }

    fn step(&mut self, net: &mut Network, sets: &Sets, rows: &[usize]) -> f64 {
        let (eta, reg) = (self.eta, self.reg);
        let mut sum = 0.0;
        for &i in rows {
            let (x, y) = sets.row(net, i);
            sum += self.bp.forward_output_delta(net, x, y);
            let k = net.kernels();
            let (layers, off) = (&self.shape.layers, &self.shape.offsets);
            let w_all = net.weights_mut();
            for l in (1..layers.len()).rev() {
                let (rows, cols) = (layers[l - 1] + 1, layers[l]);
                let w = &mut w_all[off[l - 1]..off[l]];
                let bp = &mut self.bp;
                if l >= 2 {
                    k.matvec_t_unchecked(w, rows, cols, &bp.deltas[l - 1], &mut bp.z);
                }
                let grad = Gradient::Outer {
                    x: &bp.fwd.acts[l - 1],
                    delta: &bp.deltas[l - 1],
                };
                self.update.apply(off[l - 1], w, cols, grad, eta, &reg, &k);
                if l >= 2 {
                    bp.hidden_delta_from_z(l);
                }
            }
            self.update.finish();
        }
        sum
    }
}

/// Mini-batch steps as the sum of the batch's per-sample gradients (rank-1 updates), then the
/// regularizer's step and one update.
pub(crate) struct Accumulated<U> {
    bp: Backprop,
    shape: Shape,
    grad: Vec<f32>,
    batch: usize,
    eta: f32,
    reg: Regularization,
    update: U,
}

impl<U: Update> Accumulated<U> {
    pub(crate) fn new(
        net: &Network,
        batch: usize,
        eta: f32,
        reg: Regularization,
        update: U,
    ) -> Result<Self> {
        Ok(Accumulated {
            bp: Backprop::new(net)?,
            shape: Shape::of(net),
            grad: try_zeroed(net.num_weights(), "the gradient")?,
            batch,
            eta,
            reg,
            update,
        })
    }
}

impl<U: Update> Step for Accumulated<U> {
    fn batch(&self) -> usize {
        self.batch
    }

    fn set_rate(&mut self, eta: f32) {
        self.eta = eta;
    }

    fn reset(&mut self) {
        self.update.reset();
    }

    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        self.update.optimizer_state_mut()
    }

    fn step(&mut self, net: &mut Network, sets: &Sets, rows: &[usize]) -> f64 {
        let (eta, reg) = (self.eta, self.reg);
        self.grad.fill(0.0);
        let mut sum = 0.0;
        for &i in rows {
            let (x, y) = sets.row(net, i);
            sum += self.bp.forward_output_delta(net, x, y);
            self.bp.backward(net);
            self.bp.accumulate(net, &mut self.grad, 1.0);
        }
        let k = net.kernels();
        let (layers, off) = (&self.shape.layers, &self.shape.offsets);
        let w_all = net.weights_mut();
        for l in 1..layers.len() {
            let (a, b) = (off[l - 1], off[l]);
            let grad = Gradient::Sum {
                sum: &self.grad[a..b],
                rows: rows.len(),
            };
            self.update
                .apply(a, &mut w_all[a..b], layers[l], grad, eta, &reg, &k);
        }
        self.update.finish();
        sum
    }
}
