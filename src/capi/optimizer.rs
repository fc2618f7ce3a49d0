//! Optimizers and learning-rate schedules through the C ABI (SPEC sections 6 and 8): the
//! configuration structs with their default constructors, the schedule's rate, and an
//! optimizer-state handle that applies a given mean gradient to a network.

use super::network::NnetNetwork;
use super::{CResult, Fail, NnetStatus, check_ptr, guard, guard_value, net_mut, slice};
use crate::error::{Error, check_finite};
use crate::optim::{Optimizer, OptimizerState, Schedule};

/// `NNET_OPT_SGD`: `w -= eta g` (the default).
pub const NNET_OPT_SGD: u32 = 0;
/// `NNET_OPT_MOMENTUM`: heavy ball, `v = mu v + g; w -= eta v`.
pub const NNET_OPT_MOMENTUM: u32 = 1;
/// `NNET_OPT_NESTEROV`: `v = mu v + g; w -= eta (g + mu v)`.
pub const NNET_OPT_NESTEROV: u32 = 2;
/// `NNET_OPT_ADAM`: Adam with bias correction.
pub const NNET_OPT_ADAM: u32 = 3;
/// `NNET_OPT_ADAMW`: `w -= eta wd w`, then the Adam step.
pub const NNET_OPT_ADAMW: u32 = 4;
/// `NNET_OPT_RPROP`: iRPROP- (full-batch; the learning rate is not used).
pub const NNET_OPT_RPROP: u32 = 5;

/// `NNET_SCHEDULE_CONSTANT`: `eta` (the default).
pub const NNET_SCHEDULE_CONSTANT: u32 = 0;
/// `NNET_SCHEDULE_STEP`: `eta * gamma^floor(e / step_epochs)`.
pub const NNET_SCHEDULE_STEP: u32 = 1;
/// `NNET_SCHEDULE_EXPONENTIAL`: `eta * gamma^e`.
pub const NNET_SCHEDULE_EXPONENTIAL: u32 = 2;
/// `NNET_SCHEDULE_INVERSE_TIME`: `eta / (1 + decay * e)`.
pub const NNET_SCHEDULE_INVERSE_TIME: u32 = 3;
/// `NNET_SCHEDULE_COSINE`: `eta_min + (eta - eta_min) * (1 + cos(pi * e / E)) / 2`.
pub const NNET_SCHEDULE_COSINE: u32 = 4;

/// An optimizer and its parameters; start from `nnet_optimizer_config_default()`. Only the
/// fields of the chosen kind are read, and those are validated (out of range or non-finite is
/// an error).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnetOptimizerConfig {
    /// `NNET_OPT_*`. Default `NNET_OPT_SGD`.
    pub kind: u32,
    /// The base learning rate eta of `nnet_optimizer_step`, finite and > 0 (not used by
    /// iRPROP-). Default 0.01.
    pub learning_rate: f32,
    /// Momentum and Nesterov: `mu` in [0, 1). Default 0.9.
    pub momentum: f32,
    /// Adam, AdamW: `b1` in [0, 1). Default 0.9.
    pub beta1: f32,
    /// Adam, AdamW: `b2` in [0, 1). Default 0.999.
    pub beta2: f32,
    /// Adam, AdamW: `eps` > 0. Default 1e-8.
    pub eps: f32,
    /// AdamW: `wd` >= 0. Default 0.01.
    pub weight_decay: f32,
    /// iRPROP-: the step-size growth factor, > 1. Default 1.2.
    pub rprop_increase: f32,
    /// iRPROP-: the step-size shrink factor, in (0, 1). Default 0.5.
    pub rprop_decrease: f32,
    /// iRPROP-: the initial step size, > 0. Default 0.1.
    pub rprop_delta0: f32,
    /// iRPROP-: the smallest step size, >= 0. Default 0.
    pub rprop_delta_min: f32,
    /// iRPROP-: the largest step size, >= rprop_delta0. Default 50.
    pub rprop_delta_max: f32,
}

impl NnetOptimizerConfig {
    /// Validates the kind and the fields it reads, and converts; never transmutes.
    pub(crate) fn convert(&self) -> CResult<Optimizer> {
        let o = match self.kind {
            NNET_OPT_SGD => Optimizer::Sgd,
            NNET_OPT_MOMENTUM => Optimizer::Momentum { mu: self.momentum },
            NNET_OPT_NESTEROV => Optimizer::Nesterov { mu: self.momentum },
            NNET_OPT_ADAM => Optimizer::Adam {
                beta1: self.beta1,
                beta2: self.beta2,
                eps: self.eps,
            },
            NNET_OPT_ADAMW => Optimizer::AdamW {
                beta1: self.beta1,
                beta2: self.beta2,
                eps: self.eps,
                weight_decay: self.weight_decay,
            },
            NNET_OPT_RPROP => Optimizer::Rprop {
                inc: self.rprop_increase,
                dec: self.rprop_decrease,
                delta0: self.rprop_delta0,
                delta_min: self.rprop_delta_min,
                delta_max: self.rprop_delta_max,
            },
            v => {
                return Err(Fail::invalid(format!(
                    "unknown optimizer {v} (expected 0 = sgd, 1 = momentum, 2 = nesterov, \
                     3 = adam, 4 = adamw, 5 = rprop)"
                )));
            }
        };
        o.validate()?;
        if !o.is_full_batch() {
            check_rate(self.learning_rate)?;
        }
        Ok(o)
    }
}

fn check_rate(eta: f32) -> CResult<()> {
    if !eta.is_finite() || eta <= 0.0 {
        return Err(Fail::invalid(format!(
            "learning_rate must be finite and > 0, got {eta}"
        )));
    }
    Ok(())
}

/// A learning-rate schedule; start from `nnet_schedule_config_default()`. Only the fields of
/// the chosen kind are read, and those are validated.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnetScheduleConfig {
    /// `NNET_SCHEDULE_*`. Default `NNET_SCHEDULE_CONSTANT`.
    pub kind: u32,
    /// Step and exponential: `gamma` in (0, 1]. Default 0.5.
    pub gamma: f32,
    /// Step: `k` >= 1 epochs between decays. Default 10.
    pub step_epochs: u32,
    /// Inverse time: `d` >= 0. Default 0.1.
    pub decay: f32,
    /// Cosine: `eta_min` in [0, eta]. Default 0.
    pub eta_min: f32,
}

impl NnetScheduleConfig {
    /// Validates the kind and the fields it reads for the base rate `eta`, and converts.
    pub(crate) fn convert(&self, eta: f32) -> CResult<Schedule> {
        let s = match self.kind {
            NNET_SCHEDULE_CONSTANT => Schedule::Constant,
            NNET_SCHEDULE_STEP => Schedule::Step {
                gamma: self.gamma,
                every: self.step_epochs,
            },
            NNET_SCHEDULE_EXPONENTIAL => Schedule::Exponential { gamma: self.gamma },
            NNET_SCHEDULE_INVERSE_TIME => Schedule::InverseTime { decay: self.decay },
            NNET_SCHEDULE_COSINE => Schedule::Cosine {
                eta_min: self.eta_min,
            },
            v => {
                return Err(Fail::invalid(format!(
                    "unknown schedule {v} (expected 0 = constant, 1 = step, 2 = exponential, \
                     3 = inverse_time, 4 = cosine)"
                )));
            }
        };
        s.validate(eta)?;
        Ok(s)
    }
}

/// The defaults for every field of `NnetOptimizerConfig` (sgd, learning rate 0.01, and the
/// SPEC defaults of every other optimizer's parameters).
#[unsafe(no_mangle)]
pub extern "C" fn nnet_optimizer_config_default() -> NnetOptimizerConfig {
    let (mu, (beta1, beta2, eps, weight_decay)) = match (Optimizer::momentum(), Optimizer::adamw())
    {
        (
            Optimizer::Momentum { mu },
            Optimizer::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            },
        ) => (mu, (beta1, beta2, eps, weight_decay)),
        _ => (0.9, (0.9, 0.999, 1e-8, 0.01)),
    };
    let (inc, dec, delta0, delta_min, delta_max) = match Optimizer::rprop() {
        Optimizer::Rprop {
            inc,
            dec,
            delta0,
            delta_min,
            delta_max,
        } => (inc, dec, delta0, delta_min, delta_max),
        _ => (1.2, 0.5, 0.1, 0.0, 50.0),
    };
    NnetOptimizerConfig {
        kind: NNET_OPT_SGD,
        learning_rate: crate::TrainConfig::default().learning_rate,
        momentum: mu,
        beta1,
        beta2,
        eps,
        weight_decay,
        rprop_increase: inc,
        rprop_decrease: dec,
        rprop_delta0: delta0,
        rprop_delta_min: delta_min,
        rprop_delta_max: delta_max,
    }
}

/// The defaults for every field of `NnetScheduleConfig` (constant; gamma 0.5, step_epochs 10,
/// decay 0.1, eta_min 0 for the other kinds).
#[unsafe(no_mangle)]
pub extern "C" fn nnet_schedule_config_default() -> NnetScheduleConfig {
    NnetScheduleConfig {
        kind: NNET_SCHEDULE_CONSTANT,
        gamma: 0.5,
        step_epochs: 10,
        decay: 0.1,
        eta_min: 0.0,
    }
}

/// Writes to `*out` the learning rate of the 0-based `epoch` of a run of `epochs` epochs
/// under `schedule` with base rate `eta` (finite, > 0); `epochs` >= 1 and `epoch < epochs`.
///
/// # Safety
/// `schedule` must be readable and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_schedule_rate(
    schedule: *const NnetScheduleConfig,
    eta: f32,
    epoch: u32,
    epochs: u32,
    out: *mut f32,
) -> NnetStatus {
    guard(|| {
        check_ptr(schedule, "schedule")?;
        check_ptr(out, "out")?;
        check_rate(eta)?;
        if epochs == 0 || epoch >= epochs {
            return Err(Fail::invalid(format!(
                "epoch must be below epochs >= 1, got epoch {epoch} of {epochs}"
            )));
        }
        // SAFETY: checked non-NULL and aligned; the caller guarantees a readable struct.
        let s = unsafe { *schedule }.convert(eta)?;
        // SAFETY: checked non-NULL and aligned; the caller guarantees it is writable.
        unsafe { out.write(s.rate(eta, epoch, epochs)) };
        Ok(())
    })
}

/// An opaque optimizer-state handle: the optimizer's per-weight state for one network shape.
/// Created by `nnet_optimizer_new`, freed with `nnet_optimizer_free`.
pub struct NnetOptimizer {
    state: OptimizerState,
    learning_rate: f32,
}

/// Creates the state of the optimizer `cfg` for the weights of `net` (state zero, step 0)
/// and stores the handle in `*out`.
///
/// # Safety
/// `net` must be a live handle, `cfg` readable and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_new(
    net: *const NnetNetwork,
    cfg: *const NnetOptimizerConfig,
    out: *mut *mut NnetOptimizer,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { super::net_ref(net)? };
        check_ptr(cfg, "cfg")?;
        check_ptr(out, "out")?;
        // SAFETY: checked non-NULL and aligned; the caller guarantees a readable struct.
        let cfg = unsafe { *cfg };
        let optimizer = cfg.convert()?;
        let state = OptimizerState::for_network(optimizer, net)?;
        let handle = Box::into_raw(Box::new(NnetOptimizer {
            state,
            learning_rate: cfg.learning_rate,
        }));
        // SAFETY: checked non-NULL and aligned; the caller guarantees it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// # Safety
/// `p` NULL or a live handle that no other thread uses during the call.
unsafe fn optimizer_mut<'a>(p: *mut NnetOptimizer) -> CResult<&'a mut NnetOptimizer> {
    check_ptr(p, "the optimizer")?;
    // SAFETY: non-NULL and aligned; the caller guarantees exclusive use of a live handle.
    Ok(unsafe { &mut *p })
}

/// Applies one step of the configured optimizer with the mean gradient `grad` (`len` floats,
/// `len` = the number of weights of `net` and of the state; every value finite) at the current
/// learning rate (the config's, or the last `nnet_optimizer_set_learning_rate`).
/// `NNET_ERR_DIVERGED` when the step made a weight non-finite: the network keeps those
/// weights (as `nnet_train` does not; restore them or start again). Any other failure changes
/// nothing.
///
/// # Safety
/// `state` and `net` must be live handles that no other thread uses during the call; `grad`
/// must point to `len` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_step(
    state: *mut NnetOptimizer,
    net: *mut NnetNetwork,
    grad: *const f32,
    len: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle used by this thread only.
        let opt = unsafe { optimizer_mut(state)? };
        // SAFETY: the caller guarantees a live handle used by this thread only.
        let net = unsafe { net_mut(net)? };
        // SAFETY: the caller guarantees `len` readable floats.
        let g = unsafe { slice(grad, len, "grad")? };
        let n = net.num_weights();
        if len != n || opt.state.len() != n {
            return Err(Fail::shape(format!(
                "optimizer step: the network has {n} weights, the optimizer state is for {}, \
                 the gradient has {len}",
                opt.state.len()
            )));
        }
        check_finite(g, "grad")?;
        opt.state.step_network(net, g, opt.learning_rate)?;
        check_finite(net.weights(), "the weights after the step")
            .map_err(|e| Error::Diverged(format!("{} (the network keeps them)", e.message())))?;
        Ok(())
    })
}

/// Sets the learning rate of the following steps (finite, > 0), e.g. from
/// `nnet_schedule_rate` at the start of each epoch.
///
/// # Safety
/// `state` must be a live handle that no other thread uses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_set_learning_rate(
    state: *mut NnetOptimizer,
    learning_rate: f32,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle used by this thread only.
        let opt = unsafe { optimizer_mut(state)? };
        check_rate(learning_rate)?;
        opt.learning_rate = learning_rate;
        Ok(())
    })
}

/// Resets the state to the start of a run (step 0, every state value as new).
///
/// # Safety
/// `state` must be a live handle that no other thread uses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_reset(state: *mut NnetOptimizer) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle used by this thread only.
        unsafe { optimizer_mut(state)? }.state.reset();
        Ok(())
    })
}

/// The number of steps applied since creation or the last reset (0 for NULL).
///
/// # Safety
/// `state` must be NULL or a live handle that no thread changes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_steps(state: *const NnetOptimizer) -> u64 {
    guard_value(0, || {
        if check_ptr(state, "the optimizer").is_err() {
            return 0;
        }
        // SAFETY: non-NULL and aligned; the caller guarantees a live handle.
        unsafe { &*state }.state.steps()
    })
}

/// Frees an optimizer handle; NULL is allowed.
///
/// # Safety
/// `state` must be NULL or a live handle from `nnet_optimizer_new`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_optimizer_free(state: *mut NnetOptimizer) {
    guard_value((), || {
        if !state.is_null() {
            // SAFETY: the caller guarantees a live handle from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(state) });
        }
    })
}
