//! Training through the C ABI: the configuration structs and `nnet_train`.

use std::ffi::{c_char, c_void};
use std::ops::ControlFlow;

use super::io::c_path;
use super::network::{NnetNetwork, batch, fallible_clone};
use super::optimizer::{
    NnetOptimizerConfig, NnetScheduleConfig, nnet_optimizer_config_default,
    nnet_schedule_config_default,
};
use super::regularization::{NNET_REG_NONE, NnetRegularization};
use super::{
    CResult, Fail, NNET_ERR_STOPPED, NnetStatus, check_ptr, guard, guard_value, net_mut, net_ref,
};
use crate::engine::{Checkpointing, EpochInfo, Order, TrainConfig};
use crate::error::Error;
use crate::regularization::Regularization;

/// `NNET_ORDER_SHUFFLE`: a new random permutation every epoch (the default).
pub const NNET_ORDER_SHUFFLE: u32 = 0;
/// `NNET_ORDER_SEQUENTIAL`: rows in order every epoch.
pub const NNET_ORDER_SEQUENTIAL: u32 = 1;
/// `NNET_ORDER_RANDOM_PICK`: N rows drawn uniformly with replacement.
pub const NNET_ORDER_RANDOM_PICK: u32 = 2;

/// What one epoch measured; passed to the `on_epoch` callback.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnetEpochInfo {
    /// 1-based epoch number.
    pub epoch: u32,
    /// `E_in` after this epoch.
    pub train_error: f64,
    /// `E_val` after this epoch; NaN without a validation set.
    pub validation_error: f64,
}

/// The per-epoch callback: `info` is valid only during the call; `user` is
/// `NnetTrainConfig.user`. Returning non-zero stops training. It runs on the thread that
/// called `nnet_train`, must not unwind or `longjmp` out, and must not change or free the
/// network being trained (reading it, e.g. `nnet_predict`, sees the weights from before
/// `nnet_train` was called).
pub type NnetEpochCallback =
    Option<unsafe extern "C" fn(info: *const NnetEpochInfo, user: *mut c_void) -> i32>;

/// Training settings; start from `nnet_train_config_default()` and change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NnetTrainConfig {
    /// eta, finite and > 0. Default 0.01.
    pub learning_rate: f32,
    /// The maximum number of epochs, >= 1. Default 100.
    pub epochs: u32,
    /// Samples per update, >= 1; 1 is per-sample SGD. Default 1.
    pub batch_size: u32,
    /// `NNET_ORDER_*`. Default `NNET_ORDER_SHUFFLE`.
    pub order: u32,
    /// The regularizer. Default none (w0 = 1, include_bias = 1).
    pub regularization: NnetRegularization,
    /// Early stopping: stop after this many epochs without a better validation error;
    /// 0 = off. Default 0.
    pub patience: u32,
    /// Extra random restarts; 0 = train the given weights only. Default 0.
    pub restarts: u32,
    /// Seeds the sample order and the restarts' initialization. Default 0.
    pub seed: u64,
    /// The initialization range r of restarts, finite and >= 0. Default 0.1.
    pub init_range: f32,
    /// Worker threads; 0 = all cores; more than the available parallelism is clamped to it.
    /// Results do not depend on it. Default 0.
    pub threads: u32,
    /// Called after every epoch; may be NULL. Non-zero stops training.
    pub on_epoch: NnetEpochCallback,
    /// Passed to `on_epoch` unchanged.
    pub user: *mut c_void,
    /// The optimizer (SPEC section 6). Default sgd. Its `learning_rate` field is not read:
    /// the rate of training is this struct's `learning_rate`. `NNET_OPT_RPROP` needs
    /// `batch_size` >= the number of training rows.
    pub optimizer: NnetOptimizerConfig,
    /// The learning-rate schedule over the epochs. Default constant.
    pub schedule: NnetScheduleConfig,
    /// The checkpoint file (NUL-terminated, in an existing directory), replaced atomically
    /// every `checkpoint_every` epochs and at the end of every run; `nnet_train_resume`
    /// continues from it. NULL = no checkpoints. Default NULL.
    pub checkpoint_path: *const c_char,
    /// Epochs between checkpoints, >= 1 (checked also when `checkpoint_path` is NULL).
    /// Default 1.
    pub checkpoint_every: u32,
}

/// The outcome of `nnet_train`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnetTrainReport {
    /// Epochs run (of the run that was kept, when restarting).
    pub epochs_run: u32,
    /// The epoch whose weights the network ends with.
    pub best_epoch: u32,
    /// `E_in` of the weights the network ends with.
    pub train_error: f64,
    /// `E_val` of those weights; NaN without a validation set.
    pub validation_error: f64,
}

impl NnetTrainConfig {
    /// The Rust configuration, every value checked.
    ///
    /// # Safety
    /// `checkpoint_path` must be NULL or a NUL-terminated string.
    unsafe fn convert(self) -> CResult<TrainConfig> {
        if self.checkpoint_every == 0 {
            return Err(Fail::invalid(
                "checkpoint_every must be >= 1 epoch, got 0 (the checkpoint interval)".into(),
            ));
        }
        let checkpoint = if self.checkpoint_path.is_null() {
            None
        } else {
            // SAFETY: non-NULL; the caller guarantees a NUL-terminated string.
            let path = unsafe { c_path(self.checkpoint_path) }.map_err(|f| Fail {
                message: format!("checkpoint_path: {}", f.message),
                ..f
            })?;
            Some(Checkpointing {
                path,
                every: self.checkpoint_every,
            })
        };
        let cfg = TrainConfig {
            learning_rate: self.learning_rate,
            epochs: self.epochs,
            batch_size: usize::try_from(self.batch_size)
                .map_err(|_| Fail::invalid(format!("batch size {} too large", self.batch_size)))?,
            order: Order::from_u32(self.order)?,
            regularization: self.regularization.convert()?,
            patience: self.patience,
            restarts: self.restarts,
            seed: self.seed,
            init_range: self.init_range,
            threads: usize::try_from(self.threads)
                .map_err(|_| Fail::invalid(format!("threads {} too large", self.threads)))?,
            optimizer: NnetOptimizerConfig {
                learning_rate: self.learning_rate,
                ..self.optimizer
            }
            .convert()?,
            schedule: self.schedule.convert(self.learning_rate)?,
            checkpoint,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// The defaults for every field of `NnetTrainConfig` (callback and user NULL).
#[unsafe(no_mangle)]
pub extern "C" fn nnet_train_config_default() -> NnetTrainConfig {
    let d = TrainConfig::default();
    NnetTrainConfig {
        learning_rate: d.learning_rate,
        epochs: d.epochs,
        batch_size: u32::try_from(d.batch_size).unwrap_or(1),
        order: d.order.to_u32(),
        regularization: NnetRegularization::from_rust(&d.regularization),
        patience: d.patience,
        restarts: d.restarts,
        seed: d.seed,
        init_range: d.init_range,
        threads: u32::try_from(d.threads).unwrap_or(0),
        on_epoch: None,
        user: std::ptr::null_mut(),
        optimizer: NnetOptimizerConfig {
            learning_rate: d.learning_rate,
            ..nnet_optimizer_config_default()
        },
        schedule: nnet_schedule_config_default(),
        checkpoint_path: std::ptr::null(),
        checkpoint_every: 1,
    }
}

/// The default regularization: none, lambda 0, w0 1, include_bias 1.
#[unsafe(no_mangle)]
pub extern "C" fn nnet_regularization_default() -> NnetRegularization {
    guard_value(
        NnetRegularization {
            kind: NNET_REG_NONE,
            lambda: 0.0,
            w0: 1.0,
            include_bias: 1,
        },
        || NnetRegularization::from_rust(&Regularization::default()),
    )
}

/// Trains `net` with stochastic or mini-batch gradient descent on `rows` row-major rows of `x` (`n_in` = d(0) values each)
/// and `y` (`n_out` = d(L) each). A validation set for early stopping and for choosing among
/// restarts is given by `val_x`, `val_y` and `val_rows`; with `val_rows == 0` there is none and
/// `val_x`, `val_y` are ignored (they may be NULL). `report` may be NULL. With
/// `cfg->checkpoint_path`, training writes checkpoints there (SPEC section 7), from which
/// `nnet_train_resume` continues; a missing directory is an `NNET_ERR_IO` before training.
///
/// Outcomes:
/// - `NNET_OK`: the network holds the trained weights (the best validation epoch with a
///   validation set); `*report` is written when not NULL.
/// - `NNET_ERR_STOPPED`: the callback returned non-zero; the network holds the weights
///   training ended with (as on success, up to the stopping epoch), and `*report` IS written.
/// - `NNET_ERR_DIVERGED`: a loss or weight became non-finite; the network holds the last
///   finite weights (from before the diverging epoch); `*report` is not written.
/// - any other failure: nothing is changed (training runs on a copy that is kept only on the
///   outcomes above).
///
/// # Safety
/// `net` must be a live handle not used by another thread during the call; `cfg` readable;
/// `x`, `y` must point to `rows * n_in` and `rows * n_out` floats, `val_x`, `val_y` (when
/// `val_rows > 0`) to `val_rows * n_in` and `val_rows * n_out`; `report` NULL or writable;
/// `cfg->checkpoint_path` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_train(
    net: *mut NnetNetwork,
    cfg: *const NnetTrainConfig,
    x: *const f32,
    y: *const f32,
    rows: usize,
    n_in: usize,
    n_out: usize,
    val_x: *const f32,
    val_y: *const f32,
    val_rows: usize,
    report: *mut NnetTrainReport,
) -> NnetStatus {
    // SAFETY: the caller's guarantees are those of `train_or_resume`.
    unsafe {
        train_or_resume(
            net, cfg, x, y, rows, n_in, n_out, val_x, val_y, val_rows, report, false,
        )
    }
}

/// Continues the training run whose checkpoint is at `cfg->checkpoint_path` (written by
/// `nnet_train` with the same configuration, data and network, then stopped by the
/// callback, an error or a kill), with the same arguments as `nnet_train`: restores the
/// weights, optimizer state, sample order, early stopping, restart and report so far, and
/// runs the rest. The network and report it ends with are bit for bit those of an
/// uninterrupted `nnet_train`. The callback runs only for the epochs after the resume.
///
/// When the file does not exist, training starts from the beginning (as `nnet_train`), so
/// calling `nnet_train_resume` after every start of a program is safe. Outcomes as
/// `nnet_train`, and: `NNET_ERR_INVALID_ARGUMENT` without a checkpoint path, or when the
/// checkpoint belongs to another run (the message names the field that differs, e.g.
/// `seed`, `layers` or `training_data`); `NNET_ERR_FORMAT` for a corrupt or truncated
/// file; `NNET_ERR_IO` when it cannot be read. Nothing changes on these failures.
///
/// # Safety
/// As `nnet_train`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_train_resume(
    net: *mut NnetNetwork,
    cfg: *const NnetTrainConfig,
    x: *const f32,
    y: *const f32,
    rows: usize,
    n_in: usize,
    n_out: usize,
    val_x: *const f32,
    val_y: *const f32,
    val_rows: usize,
    report: *mut NnetTrainReport,
) -> NnetStatus {
    // SAFETY: the caller's guarantees are those of `train_or_resume`.
    unsafe {
        train_or_resume(
            net, cfg, x, y, rows, n_in, n_out, val_x, val_y, val_rows, report, true,
        )
    }
}

/// The body of `nnet_train` and `nnet_train_resume`.
///
/// # Safety
/// As `nnet_train`.
#[allow(clippy::too_many_arguments)]
unsafe fn train_or_resume(
    net: *mut NnetNetwork,
    cfg: *const NnetTrainConfig,
    x: *const f32,
    y: *const f32,
    rows: usize,
    n_in: usize,
    n_out: usize,
    val_x: *const f32,
    val_y: *const f32,
    val_rows: usize,
    report: *mut NnetTrainReport,
    resume: bool,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle; the shared borrow ends before the
        // callback runs (training works on a copy).
        let original = unsafe { net_ref(net)? };
        check_ptr(cfg, "cfg")?;
        // SAFETY: checked non-NULL and aligned; the caller guarantees a readable struct.
        let ccfg = unsafe { *cfg };
        // SAFETY: the caller guarantees that `checkpoint_path` is NULL or a C string.
        let rcfg = unsafe { ccfg.convert()? };
        let (d0, dl) = (original.num_inputs(), original.num_outputs());
        // SAFETY: the caller guarantees the buffer sizes.
        let xs = unsafe { batch(x, rows, n_in, d0, "x")? };
        // SAFETY: the caller guarantees the buffer sizes.
        let ys = unsafe { batch(y, rows, n_out, dl, "y")? };
        let val = if val_rows == 0 {
            None
        } else {
            // SAFETY: the caller guarantees the buffer sizes.
            let vx = unsafe { batch(val_x, val_rows, n_in, d0, "val_x")? };
            // SAFETY: the caller guarantees the buffer sizes.
            let vy = unsafe { batch(val_y, val_rows, n_out, dl, "val_y")? };
            Some((vx, vy))
        };
        if !report.is_null() {
            check_ptr(report, "report")?;
        }
        let mut work = fallible_clone(original)?;
        let callback = ccfg.on_epoch;
        let user = ccfg.user;
        let on_epoch = |info: &EpochInfo| {
            let Some(cb) = callback else {
                return ControlFlow::Continue(());
            };
            let c = NnetEpochInfo {
                epoch: info.epoch,
                train_error: info.train_error,
                validation_error: info.validation_error,
            };
            // SAFETY: the caller provided a callback with this signature; `c` lives for the
            // call.
            if unsafe { cb(&c, user) } != 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let outcome = if resume {
            work.resume_with_callback(&rcfg, xs, ys, val, on_epoch)
        } else {
            work.train_with_callback(&rcfg, xs, ys, val, on_epoch)
        };
        match outcome {
            Ok(r) => {
                // SAFETY: the caller guarantees exclusive use of the live handle; no other
                // reference to it is alive here.
                let target = unsafe { net_mut(net)? };
                *target = work;
                if !report.is_null() {
                    let c = NnetTrainReport {
                        epochs_run: r.epochs_run,
                        best_epoch: r.best_epoch,
                        train_error: r.train_error,
                        validation_error: r.validation_error,
                    };
                    // SAFETY: checked non-NULL and aligned above; the caller guarantees it
                    // is writable.
                    unsafe { report.write(c) };
                }
                if r.stopped_by_callback {
                    return Err(Fail {
                        status: NNET_ERR_STOPPED,
                        message: format!(
                            "training stopped: the on_epoch callback stopped training after \
                             epoch {} (the network keeps the weights of epoch {}; the report is \
                             written)",
                            r.epochs_run, r.best_epoch
                        ),
                    });
                }
                Ok(())
            }
            Err(e @ Error::Diverged(_)) => {
                // SAFETY: as above.
                let target = unsafe { net_mut(net)? };
                *target = work;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    })
}
