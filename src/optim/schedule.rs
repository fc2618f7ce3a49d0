//! The learning-rate schedules of SPEC section 6.

use crate::error::{Error, Result};

/// The learning rate `eta_t` of each epoch from the base rate `eta`; `e` is the 0-based epoch
/// of the step and `E` the configured number of epochs. [`Schedule::default`] is
/// [`Schedule::Constant`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Schedule {
    /// `eta`.
    #[default]
    Constant,
    /// `eta * gamma^floor(e / every)`.
    Step {
        /// In (0, 1].
        gamma: f32,
        /// `k` >= 1 epochs.
        every: u32,
    },
    /// `eta * gamma^e`.
    Exponential {
        /// In (0, 1].
        gamma: f32,
    },
    /// `eta / (1 + decay * e)`.
    InverseTime {
        /// `d` >= 0.
        decay: f32,
    },
    /// `eta_min + (eta - eta_min) * (1 + cos(pi * e / E)) / 2`.
    Cosine {
        /// `0 <= eta_min <= eta`.
        eta_min: f32,
    },
}

impl Schedule {
    /// The name: "constant", "step", "exponential", "inverse_time" or "cosine".
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Step { .. } => "step",
            Schedule::Exponential { .. } => "exponential",
            Schedule::InverseTime { .. } => "inverse_time",
            Schedule::Cosine { .. } => "cosine",
        }
    }

    /// Checks the parameters against SPEC section 6 for the base rate `eta` (which the
    /// cosine schedule's `eta_min` must not exceed).
    ///
    /// ```
    /// use nnet::optim::Schedule;
    /// assert!(Schedule::Cosine { eta_min: 0.001 }.validate(0.1).is_ok());
    /// assert!(Schedule::Cosine { eta_min: 0.2 }.validate(0.1).is_err());
    /// assert!(Schedule::Step { gamma: 0.5, every: 0 }.validate(0.1).is_err());
    /// ```
    pub fn validate(&self, eta: f32) -> Result<()> {
        let name = self.name();
        let bad = |what: &str, v: f32, range: &str| {
            if !v.is_finite() {
                Error::NonFinite(format!("{name} schedule: {what} is {v} (must be finite)"))
            } else {
                Error::InvalidArgument(format!("{name} schedule: {what} must be {range}, got {v}"))
            }
        };
        let gamma_ok = |g: f32| g > 0.0 && g <= 1.0;
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { gamma, every } => {
                if !gamma_ok(gamma) {
                    return Err(bad("gamma", gamma, "in (0, 1]"));
                }
                if every == 0 {
                    return Err(Error::InvalidArgument(
                        "step schedule: every (k) must be >= 1 epochs, got 0".into(),
                    ));
                }
                Ok(())
            }
            Schedule::Exponential { gamma } if !gamma_ok(gamma) => {
                Err(bad("gamma", gamma, "in (0, 1]"))
            }
            Schedule::InverseTime { decay } if !(decay.is_finite() && decay >= 0.0) => {
                Err(bad("decay", decay, ">= 0"))
            }
            Schedule::Cosine { eta_min }
                if !(eta_min.is_finite() && eta_min >= 0.0 && eta_min <= eta) =>
            {
                Err(bad(
                    "eta_min",
                    eta_min,
                    &format!("in [0, eta] = [0, {eta}]"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// `eta_t` for the 0-based `epoch` of a run of `epochs` epochs, evaluated in f64 and
    /// rounded once to f32.
    ///
    /// ```
    /// use nnet::optim::Schedule;
    /// let s = Schedule::Step { gamma: 0.5, every: 2 };
    /// assert_eq!([0, 1, 2, 5].map(|e| s.rate(0.8, e, 10)), [0.8, 0.8, 0.4, 0.2]);
    /// assert_eq!(Schedule::Cosine { eta_min: 0.0 }.rate(1.0, 5, 10), 0.5);
    /// ```
    pub fn rate(&self, eta: f32, epoch: u32, epochs: u32) -> f32 {
        let eta = eta as f64;
        let e = epoch as f64;
        let r = match *self {
            Schedule::Constant => eta,
            Schedule::Step { gamma, every } => {
                eta * (gamma as f64).powf((epoch / every.max(1)) as f64)
            }
            Schedule::Exponential { gamma } => eta * (gamma as f64).powf(e),
            Schedule::InverseTime { decay } => eta / (1.0 + decay as f64 * e),
            Schedule::Cosine { eta_min } => {
                let lo = eta_min as f64;
                let t = if epochs == 0 { 0.0 } else { e / epochs as f64 };
                lo + (eta - lo) * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
            }
        };
        r as f32
    }
}
