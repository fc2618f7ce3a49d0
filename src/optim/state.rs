//! The optimizer state of one training run and its step.

use super::Optimizer;
use crate::error::{Error, Result, try_zeroed};
use crate::kernels::{Kernels, UpdateStep};
use crate::network::Network;

/// The per-weight state of an [`Optimizer`] for one training run: the step counter `t` and up
/// to two vectors as long as the weights (momentum and Nesterov: `v`; Adam and AdamW: `m`
/// and `s`; iRPROP-: the step sizes and the previous gradient). Allocated once (fallibly) and
/// reset for every restart.
///
/// Each [`OptimizerState::step`] is one fused pass of the update kernel over the weights,
/// the gradient and the state; its measured cost per optimizer is in the [`super`] module
/// documentation.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    optimizer: Optimizer,
    kernels: Kernels,
    t: u64,
    len: usize,
    s1: Vec<f32>,
    s2: Vec<f32>,
}

impl OptimizerState {
    /// The state of `optimizer` for `weights` weights, with the selected kernel set
    /// ([`Kernels::selected`]). Errors when the optimizer's parameters are invalid
    /// ([`Optimizer::validate`]) or the state cannot be allocated.
    pub fn new(optimizer: Optimizer, weights: usize) -> Result<OptimizerState> {
        OptimizerState::with_kernels(optimizer, weights, Kernels::selected())
    }

    /// As [`OptimizerState::new`], with the given kernel set (a network's, so that training
    /// uses one table throughout).
    pub fn with_kernels(
        optimizer: Optimizer,
        weights: usize,
        kernels: Kernels,
    ) -> Result<OptimizerState> {
        optimizer.validate()?;
        let ns = optimizer_states(&optimizer);
        let s1 = try_zeroed(if ns >= 1 { weights } else { 0 }, "the optimizer state")?;
        let s2 = try_zeroed(if ns >= 2 { weights } else { 0 }, "the optimizer state")?;
        let mut state = OptimizerState {
            optimizer,
            kernels,
            t: 0,
            len: weights,
            s1,
            s2,
        };
        state.reset();
        Ok(state)
    }

    /// The state of `optimizer` for the weights of `net`, with the network's kernel set.
    pub fn for_network(optimizer: Optimizer, net: &Network) -> Result<OptimizerState> {
        OptimizerState::with_kernels(optimizer, net.num_weights(), net.kernels())
    }

    /// [`OptimizerState::step`] on the weights of `net` (for programs that compute the mean
    /// gradient themselves, e.g. with [`Network::gradient`] summed across processes).
    ///
    /// ```
    /// use nnet::{Network, Optimizer, OptimizerState, Output};
    /// let mut net = Network::new(&[2, 3, 1], Output::Linear, 1, 0.5).unwrap();
    /// let mut state = OptimizerState::for_network(Optimizer::momentum(), &net).unwrap();
    /// let before = net.weights().to_vec();
    /// let g = vec![1.0; net.num_weights()];
    /// state.step_network(&mut net, &g, 0.1).unwrap();
    /// assert!((net.weights()[0] - (before[0] - 0.1)).abs() < 1e-6);
    /// ```
    pub fn step_network(&mut self, net: &mut Network, grad: &[f32], eta: f32) -> Result<()> {
        self.step(net.weights_mut(), grad, eta)
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// The number of weights the state is for.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the state is for zero weights.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of steps applied since creation or the last [`OptimizerState::reset`].
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Back to the start of a run: `t = 0`, every state value zero (iRPROP-'s step sizes
    /// `delta0`, its previous gradients zero).
    pub fn reset(&mut self) {
        self.t = 0;
        if let Optimizer::Rprop { delta0, .. } = self.optimizer {
            self.s1.fill(delta0);
        } else {
            self.s1.fill(0.0);
        }
        self.s2.fill(0.0);
    }

    /// Applies one step with the mean gradient `grad` and the (scheduled) learning rate `eta`
    /// (iRPROP- ignores it) to `weights`. Errors, changing nothing, when a length differs
    /// from the state's or `eta` is not finite and > 0. A non-finite gradient gives
    /// non-finite weights (training reports that as divergence).
    pub fn step(&mut self, weights: &mut [f32], grad: &[f32], eta: f32) -> Result<()> {
        let n = self.len;
        if weights.len() != n || grad.len() != n {
            return Err(Error::ShapeMismatch(format!(
                "optimizer step: the state is for {n} weights, got {} weights and a gradient \
                 of {}",
                weights.len(),
                grad.len()
            )));
        }
        let rate_ok = eta.is_finite() && eta > 0.0;
        if !rate_ok && !self.optimizer.is_full_batch() {
            return Err(Error::InvalidArgument(format!(
                "learning rate must be finite and > 0, got {eta}"
            )));
        }
        let t = self.t + 1;
        let step = self.update_step(eta, t);
        self.kernels
            .update(&step, weights, grad, &mut self.s1, &mut self.s2)?;
        self.t = t;
        Ok(())
    }

    /// The step that the next [`OptimizerState::advance`] completes, applied to the block of
    /// weights `at..at + weights.len()` with its gradient (a training step updates its
    /// blocks one by one, then advances `t` once).
    pub(crate) fn step_block(&mut self, at: usize, weights: &mut [f32], grad: &[f32], eta: f32) {
        let n = weights.len();
        let step = self.update_step(eta, self.t + 1);
        let block = |s: &mut Vec<f32>| -> std::ops::Range<usize> {
            if s.is_empty() { 0..0 } else { at..at + n }
        };
        let (r1, r2) = (block(&mut self.s1), block(&mut self.s2));
        let (s1, s2) = (&mut self.s1[r1], &mut self.s2[r2]);
        // the engine passes blocks of the state's own length; a mismatch leaves the weights
        let _ = self.kernels.update(&step, weights, grad, s1, s2);
    }

    /// The kernel constants of the next step with learning rate `eta` and the two state
    /// vectors (empty when the optimizer keeps fewer), for a step that the caller applies
    /// block by block with [`Kernels::update`] on disjoint blocks (the same block of the
    /// weights, the gradient and each non-empty state vector), then completes with
    /// [`OptimizerState::advance`]. Every rule is elementwise, so any cut of the weights
    /// into blocks gives the weights and state of one [`OptimizerState::step`].
    pub(crate) fn next_step(&mut self, eta: f32) -> (UpdateStep, &mut [f32], &mut [f32]) {
        let step = self.update_step(eta, self.t + 1);
        (step, &mut self.s1, &mut self.s2)
    }

    /// The step counter and the two state vectors (either may be empty), for a checkpoint.
    pub(crate) fn raw(&self) -> (u64, &[f32], &[f32]) {
        (self.t, &self.s1, &self.s2)
    }

    /// Restores what [`OptimizerState::raw`] gave; an [`Error::Format`] (changing nothing)
    /// when a vector's length is not the state's.
    pub(crate) fn restore_raw(&mut self, t: u64, s1: &[f32], s2: &[f32]) -> Result<()> {
        if s1.len() != self.s1.len() || s2.len() != self.s2.len() {
            return Err(Error::Format(format!(
                "the checkpoint's optimizer state has vectors of {} and {} values, this \
                 optimizer keeps {} and {}",
                s1.len(),
                s2.len(),
                self.s1.len(),
                self.s2.len()
            )));
        }
        self.t = t;
        self.s1.copy_from_slice(s1);
        self.s2.copy_from_slice(s2);
        Ok(())
    }

    /// Completes a step applied with [`OptimizerState::step_block`] or
    /// [`OptimizerState::next_step`].
    pub(crate) fn advance(&mut self) {
        self.t += 1;
    }

    /// The kernel's constants for step `t` with learning rate `eta`.
    fn update_step(&self, eta: f32, t: u64) -> UpdateStep {
        let adam = |beta1: f32, beta2: f32, eps: f32, decay: f32| {
            let t = t as f64;
            let c1 = 1.0 - (beta1 as f64).powf(t);
            let c2 = 1.0 - (beta2 as f64).powf(t);
            UpdateStep::Adam {
                step_size: (eta as f64 / c1) as f32,
                inv_sqrt_c2: (1.0 / c2.sqrt()) as f32,
                beta1,
                beta2,
                eps,
                decay,
            }
        };
        match self.optimizer {
            Optimizer::Sgd => UpdateStep::Sgd { eta },
            Optimizer::Momentum { mu } => UpdateStep::Momentum { eta, mu },
            Optimizer::Nesterov { mu } => UpdateStep::Nesterov { eta, mu },
            Optimizer::Adam { beta1, beta2, eps } => adam(beta1, beta2, eps, 1.0),
            Optimizer::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => adam(
                beta1,
                beta2,
                eps,
                (1.0 - eta as f64 * weight_decay as f64) as f32,
            ),
            Optimizer::Rprop {
                inc,
                dec,
                delta_min,
                delta_max,
                ..
            } => UpdateStep::Rprop {
                inc,
                dec,
                delta_min,
                delta_max,
            },
        }
    }
}

/// How many weight-long state vectors the optimizer keeps.
fn optimizer_states(o: &Optimizer) -> usize {
    match o {
        Optimizer::Sgd => 0,
        Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => 1,
        _ => 2,
    }
}
