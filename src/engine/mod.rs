//! The training engine: every training path driven by one epoch loop.
//!
//! - [`config`]: the settings of a training call ([`TrainConfig`], [`Order`]) and what it
//!   reports ([`TrainReport`], [`EpochInfo`]);
//! - [`plan`]: the one function that chooses the path, batch and threads
//!   ([`Network::train_plan`]), with every threshold;
//! - `epoch`: the epoch loop over a [`step::Step`] (order, evaluation, divergence, early
//!   stopping, callback, restarts, checkpoints, report);
//! - `resume`: what a checkpoint of a run holds (SPEC section 7), the identity a resumed
//!   run must match, and reading the state back ([`Network::resume`]);
//! - `step`: the per-sample and accumulated steps; `batched`: the matrix-product step;
//! - `update`: how a gradient changes the weights (plain SGD, or an optimizer's state step);
//! - `evaluate`: batched `E_in`, prediction and the gradient of `E_aug`.
//!
//! The per-sample math of every path (output delta, hidden delta) is `kernels::delta`; the
//! regularizer's gradient and bias rule are [`crate::Regularization`]'s.

use std::ops::ControlFlow;

mod batched;
mod config;
mod epoch;
mod evaluate;
mod plan;
mod resume;
mod step;
mod update;

pub use config::{Checkpointing, EpochInfo, Order, TrainConfig, TrainReport};
pub use plan::{TrainPath, TrainPlan};

pub(crate) use batched::BatchTrainer;
pub(crate) use epoch::restart_seed;
pub(crate) use evaluate::Evaluator;
pub(crate) use plan::use_gemm;
pub(crate) use resume::{
    RunPosition, check_path, config_identity, data_fingerprint, pair_fingerprint, put_history,
    put_kept, restore,
};

use crate::error::{Error, Result};
use crate::gradient::{check_xy, scaled_copies};
use crate::network::Network;
use step::{FusedSgd, Sets};

impl Network {
    /// Trains on row-major inputs `x` (`d(0)` per row) and targets `y` (`d(L)` per row), with
    /// an optional validation set `(inputs, targets)` for early stopping and for choosing among
    /// restarts.
    ///
    /// Errors on a bad configuration or shapes (nothing changes then), and with
    /// [`Error::Diverged`] when the loss or a weight becomes non-finite (the network then keeps
    /// the last finite weights).
    ///
    /// ```
    /// use nnet::{Network, Output, TrainConfig};
    /// // XOR on +-1 inputs with a 2-3-1 tanh network
    /// let x = [-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    /// let y = [-1.0, 1.0, 1.0, -1.0];
    /// let mut net = Network::new(&[2, 3, 1], Output::Tanh, 3, 1.0).unwrap();
    /// let cfg = TrainConfig { learning_rate: 0.1, epochs: 500, init_range: 1.0, restarts: 2,
    ///                         ..TrainConfig::default() };
    /// let report = net.train(&cfg, &x, &y, None).unwrap();
    /// assert!(report.train_error < 0.1);
    /// assert_eq!(net.classify(&x).unwrap(), y);
    /// ```
    pub fn train(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
    ) -> Result<TrainReport> {
        self.train_with_callback(cfg, x, y, validation, |_| ControlFlow::Continue(()))
    }

    /// [`Network::train`] with a callback after every epoch; returning `ControlFlow::Break(())`
    /// stops training (the report then says `stopped_by_callback`).
    pub fn train_with_callback(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
        on_epoch: impl FnMut(&EpochInfo) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        self.train_from(cfg, x, y, validation, on_epoch, false)
    }

    /// Continues the training run whose checkpoint is at `cfg.checkpoint`'s path (written by
    /// [`Network::train`] with the same configuration, data and network, and then stopped by
    /// its callback, an error or a kill): restores the weights, the optimizer state, the
    /// sample order and its generator, early stopping, the restart and the report so far,
    /// and runs the remaining epochs and restarts. The network and report it ends with are
    /// bit for bit those of an uninterrupted [`Network::train`].
    ///
    /// When the file does not exist, the run starts from the beginning, as
    /// [`Network::train`] does: running the same program with a checkpoint path again and
    /// again, killed or not, ends with the same result. Errors, changing nothing, without a
    /// checkpoint path ([`Error::InvalidArgument`]), on a checkpoint of another
    /// configuration, network or data set ([`Error::InvalidArgument`] naming the field that
    /// differs, e.g. `` `seed` `` or `` `training_data` ``), and on a corrupt or truncated
    /// file ([`Error::Format`]). A checkpoint of a run that had ended gives its result
    /// without training. The thread count (`cfg.threads`) and the checkpoint interval may
    /// differ from the run that wrote the file: results do not depend on them.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use nnet::{Checkpointing, Network, Optimizer, Output, TrainConfig};
    /// let x = [-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    /// let y = [-1.0, 1.0, 1.0, -1.0];
    /// let path = std::env::temp_dir().join(format!("nnet-doc-{}.ckpt", std::process::id()));
    /// let cfg = TrainConfig { learning_rate: 0.05, epochs: 50, optimizer: Optimizer::adam(),
    ///                         checkpoint: Some(Checkpointing::every_epoch(&path)),
    ///                         ..TrainConfig::default() };
    /// let fresh = Network::new(&[2, 3, 1], Output::Tanh, 3, 1.0).unwrap();
    /// // uninterrupted
    /// let mut a = fresh.clone();
    /// let full = a.train(&cfg, &x, &y, None).unwrap();
    /// // stopped after 20 epochs (as a kill would), then resumed from the file
    /// let mut b = fresh.clone();
    /// b.train_with_callback(&cfg, &x, &y, None, |e| {
    ///     if e.epoch == 20 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// }).unwrap();
    /// let resumed = b.resume(&cfg, &x, &y, None).unwrap();
    /// // the same report (compared as text: without a validation set its errors are NaN)
    /// assert_eq!(format!("{resumed:?}"), format!("{full:?}"));
    /// assert_eq!(a.weights(), b.weights());
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn resume(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
    ) -> Result<TrainReport> {
        self.resume_with_callback(cfg, x, y, validation, |_| ControlFlow::Continue(()))
    }

    /// [`Network::resume`] with a callback after every epoch that runs after the resume
    /// (not for the epochs the checkpoint already holds).
    pub fn resume_with_callback(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
        on_epoch: impl FnMut(&EpochInfo) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        self.train_from(cfg, x, y, validation, on_epoch, true)
    }

    fn train_from(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
        mut on_epoch: impl FnMut(&EpochInfo) -> ControlFlow<()>,
        resume: bool,
    ) -> Result<TrainReport> {
        cfg.validate()?;
        check_xy(self, x, y, "training")?;
        if let Some((vx, vy)) = validation {
            check_xy(self, vx, vy, "validation")?;
        }
        let scaled = scaled_copies(self, x, y)?;
        let scaled_val = match validation {
            Some((vx, vy)) => scaled_copies(self, vx, vy)?,
            None => None,
        };
        let sets = Sets {
            x: scaled.as_ref().map_or(x, |s| &s.0[..]),
            y: scaled.as_ref().map_or(y, |s| &s.1[..]),
            val: match (&scaled_val, validation) {
                (Some((a, b)), _) => Some((&a[..], &b[..])),
                (None, v) => v,
            },
        };
        epoch::train(self, &sets, cfg, &mut on_epoch, resume)
    }
}

impl Network {
    /// One epoch of per-sample SGD over the rows of `x` and `y` in order, without a regularizer
    /// and without evaluation: the inner loop of [`Network::train`] with `batch_size = 1` and
    /// [`Order::Sequential`], for online learning and custom schedules. Returns the mean of the
    /// sample errors `e_n`, each measured just before its own step (in standardized units when
    /// the network has a scaling).
    ///
    /// Errors on a learning rate that is not finite and > 0, bad shapes or non-finite data
    /// (nothing changes then), and with [`Error::Diverged`] when a sample's error or a weight
    /// becomes non-finite (the network then keeps the weights it had before the call).
    ///
    /// ```
    /// use nnet::{Network, Output};
    /// // y = x1 + x2 with a 2-1 linear network
    /// let x = [0.5, 0.25, -0.5, 1.0, 1.0, -1.0, 0.0, 0.5];
    /// let y = [0.75, 0.5, 0.0, 0.5];
    /// let mut net = Network::new(&[2, 1], Output::Linear, 1, 0.1).unwrap();
    /// let first = net.sgd_epoch(&x, &y, 0.1).unwrap();
    /// let mut last = first;
    /// for _ in 0..500 {
    ///     last = net.sgd_epoch(&x, &y, 0.1).unwrap();
    /// }
    /// assert!(last < 1e-4 && last < first);
    /// ```
    pub fn sgd_epoch(&mut self, x: &[f32], y: &[f32], learning_rate: f32) -> Result<f64> {
        let cfg = TrainConfig {
            learning_rate,
            ..TrainConfig::default()
        };
        cfg.validate()?;
        let rows = check_xy(self, x, y, "training")?;
        let scaled = scaled_copies(self, x, y)?;
        let sets = Sets {
            x: scaled.as_ref().map_or(x, |s| &s.0[..]),
            y: scaled.as_ref().map_or(y, |s| &s.1[..]),
            val: None,
        };
        let snapshot = self.weights().to_vec();
        let order: Vec<usize> = (0..rows).collect();
        let sum = FusedSgd::new(self, learning_rate)?.pass(self, &sets, &order);
        match sum {
            Some(s) if self.weights().iter().all(|w| w.is_finite()) => Ok(s / rows as f64),
            _ => {
                self.weights_mut().copy_from_slice(&snapshot);
                Err(Error::Diverged(format!(
                    "the loss or a weight became non-finite (learning rate {learning_rate}); \
                     the network keeps the weights from before the epoch"
                )))
            }
        }
    }
}
