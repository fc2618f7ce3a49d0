//! The settings of a training call and what it reports.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::optim::{Optimizer, Schedule};
use crate::regularization::Regularization;

/// The order in which an epoch visits the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// A new random permutation every epoch (the default).
    #[default]
    Shuffle,
    /// Rows in order, every epoch.
    Sequential,
    /// N rows drawn uniformly with replacement (the lecture's "randomly pick n").
    RandomPick,
}

/// Settings for [`Network::train`](crate::Network::train). `TrainConfig::default()` gives a working starting point.
///
/// ```
/// use nnet::{TrainConfig, Regularization};
/// let cfg = TrainConfig {
///     learning_rate: 0.05,
///     epochs: 20,
///     batch_size: 8,
///     regularization: Regularization::l2(1e-4),
///     ..TrainConfig::default()
/// };
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The step size eta; finite and > 0. Default 0.01.
    pub learning_rate: f32,
    /// The maximum number of epochs; >= 1. Default 100.
    pub epochs: u32,
    /// Samples per update; >= 1. 1 is per-sample SGD; the training-set size is full-batch
    /// gradient descent. Default 1.
    pub batch_size: usize,
    /// The sample order. Default [`Order::Shuffle`].
    pub order: Order,
    /// The regularizer of `E_aug`. Default none.
    pub regularization: Regularization,
    /// Early stopping: stop after this many epochs without a better validation error; 0 runs
    /// every epoch. Default 0.
    pub patience: u32,
    /// Extra random restarts: `k` trains `k+1` networks and keeps the best. Default 0.
    pub restarts: u32,
    /// Seeds the sample order and the restarts' initialization. Default 0.
    pub seed: u64,
    /// The initialization range r of the restarts; finite and >= 0. Default 0.1.
    pub init_range: f32,
    /// Worker threads for mini-batches and evaluation; 0 uses every core. More than the
    /// machine's available parallelism is clamped to it (results do not depend on the thread
    /// count, so the clamp changes only speed). Default 0.
    pub threads: usize,
    /// The update rule (SPEC section 6). Default [`Optimizer::Sgd`]. iRPROP- needs a batch
    /// size of at least the number of training rows.
    pub optimizer: Optimizer,
    /// The learning rate of each epoch from `learning_rate`. Default [`Schedule::Constant`].
    pub schedule: Schedule,
    /// Where and how often training writes a checkpoint (SPEC section 7), from which
    /// [`Network::resume`](crate::Network::resume) continues a run that was stopped or
    /// killed. Default none.
    pub checkpoint: Option<Checkpointing>,
}

/// The checkpoints of a training run ([`TrainConfig::checkpoint`]): the file, replaced
/// atomically at the end of every `every`-th epoch of every run, at the end of each run
/// (so a kill after the last epoch still resumes to the same result) and at the epoch where
/// the callback stops training. [`Network::train`](crate::Network::train) always starts
/// from the beginning and replaces the file; [`Network::resume`](crate::Network::resume)
/// continues from it.
///
/// ```
/// use nnet::{Checkpointing, TrainConfig};
/// let cfg = TrainConfig {
///     checkpoint: Some(Checkpointing::every_epoch(std::env::temp_dir().join("run.ckpt"))),
///     ..TrainConfig::default()
/// };
/// assert!(cfg.validate().is_ok());
/// assert_eq!(cfg.checkpoint.unwrap().every, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpointing {
    /// The checkpoint file; its directory must exist.
    pub path: PathBuf,
    /// Epochs between checkpoints; >= 1.
    pub every: u32,
}

impl Checkpointing {
    /// A checkpoint at `path` after every epoch.
    pub fn every_epoch(path: impl Into<PathBuf>) -> Checkpointing {
        Checkpointing {
            path: path.into(),
            every: 1,
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 0.01,
            epochs: 100,
            batch_size: 1,
            order: Order::Shuffle,
            regularization: Regularization::default(),
            patience: 0,
            restarts: 0,
            seed: 0,
            init_range: 0.1,
            threads: 0,
            optimizer: Optimizer::Sgd,
            schedule: Schedule::Constant,
            checkpoint: None,
        }
    }
}

impl TrainConfig {
    /// Errors on a learning rate that is not finite and > 0, zero epochs or batch size, a bad
    /// regularizer, a negative or non-finite init range, or a bad optimizer or schedule
    /// parameter ([`Optimizer::validate`], [`Schedule::validate`]), or a checkpoint interval
    /// of 0 or an empty checkpoint path.
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = &self.checkpoint {
            if c.every == 0 {
                return Err(Error::InvalidArgument(
                    "the checkpoint interval must be >= 1 epoch, got 0".into(),
                ));
            }
            if c.path.as_os_str().is_empty() {
                return Err(Error::InvalidArgument(
                    "the checkpoint path is empty".into(),
                ));
            }
        }
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "learning rate must be finite and > 0, got {}",
                self.learning_rate
            )));
        }
        if self.epochs == 0 {
            return Err(Error::InvalidArgument("epochs must be >= 1, got 0".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidArgument(
                "batch size must be >= 1, got 0".into(),
            ));
        }
        if !self.init_range.is_finite() || self.init_range < 0.0 {
            return Err(Error::InvalidArgument(format!(
                "init_range must be finite and >= 0, got {}",
                self.init_range
            )));
        }
        self.optimizer.validate()?;
        self.schedule.validate(self.learning_rate)?;
        self.regularization.validate()
    }
}

/// What one epoch measured; passed to the per-epoch callback and kept in the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochInfo {
    /// 1-based epoch number.
    pub epoch: u32,
    /// `E_in` of the weights after this epoch.
    pub train_error: f64,
    /// `E_val` after this epoch; NaN without a validation set.
    pub validation_error: f64,
}

/// The outcome of [`Network::train`](crate::Network::train).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Epochs run (of the run that was kept, when restarting).
    pub epochs_run: u32,
    /// The epoch whose weights the network holds (the best validation epoch with a validation
    /// set, else the last).
    pub best_epoch: u32,
    /// `E_in` of the weights the network ends with.
    pub train_error: f64,
    /// `E_val` of those weights; NaN without a validation set.
    pub validation_error: f64,
    /// Per-epoch errors of the kept run.
    pub history: Vec<EpochInfo>,
    /// Which run was kept: 0 is the given weights, `r >= 1` the r-th restart.
    pub run: u32,
    /// Whether the callback stopped training.
    pub stopped_by_callback: bool,
}
