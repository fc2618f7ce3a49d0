//! The optimizers of SPEC section 6 and their parameters.

use crate::error::{Error, Result};

/// An update rule and its parameters. Every optimizer consumes the step's mean gradient `g`
/// and updates each weight elementwise; `t` counts steps from 1 and the state starts at zero
/// (see [`super::OptimizerState`]). The constructors ([`Optimizer::momentum`], ...) give the
/// defaults of SPEC section 6; [`Optimizer::default`] is [`Optimizer::Sgd`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Optimizer {
    /// `w -= eta_t g` (the lecture's gradient descent).
    #[default]
    Sgd,
    /// Heavy ball: `v = mu v + g; w -= eta_t v`.
    Momentum {
        /// In [0, 1); default 0.9.
        mu: f32,
    },
    /// Nesterov momentum: `v = mu v + g; w -= eta_t (g + mu v)`.
    Nesterov {
        /// In [0, 1); default 0.9.
        mu: f32,
    },
    /// Adam: `m = b1 m + (1-b1) g; s = b2 s + (1-b2) g^2;
    /// w -= eta_t (m / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)`.
    Adam {
        /// `b1` in [0, 1); default 0.9.
        beta1: f32,
        /// `b2` in [0, 1); default 0.999.
        beta2: f32,
        /// `eps` > 0; default 1e-8.
        eps: f32,
    },
    /// AdamW: first `w -= eta_t wd w` (every weight), then the Adam step.
    AdamW {
        /// `b1` in [0, 1); default 0.9.
        beta1: f32,
        /// `b2` in [0, 1); default 0.999.
        beta2: f32,
        /// `eps` > 0; default 1e-8.
        eps: f32,
        /// `wd` >= 0; default 0.01.
        weight_decay: f32,
    },
    /// iRPROP- (Igel and Huesken 2000; FANN's default trainer): per weight a step size
    /// `delta` and the previous gradient `p`. If `g p > 0`: `delta = min(delta inc,
    /// delta_max)`, `w -= sign(g) delta`, `p = g`; if `g p < 0`: `delta = max(delta dec,
    /// delta_min)`, `p = 0`, no step; if `g p = 0`: `w -= sign(g) delta`, `p = g`. A
    /// full-batch method ([`Optimizer::check_batch`]); the learning rate is not used.
    Rprop {
        /// > 1; default 1.2.
        inc: f32,
        /// In (0, 1); default 0.5.
        dec: f32,
        /// The initial step size, > 0; default 0.1.
        delta0: f32,
        /// >= 0; default 0.
        delta_min: f32,
        /// >= delta0; default 50.
        delta_max: f32,
    },
}

impl Optimizer {
    /// The names [`Optimizer::from_name`] knows, in the order of SPEC section 6.
    pub const NAMES: [&'static str; 6] = ["sgd", "momentum", "nesterov", "adam", "adamw", "rprop"];

    /// The optimizer called `name` (one of [`Optimizer::NAMES`]) with its default
    /// parameters; `None` for any other name.
    ///
    /// ```
    /// use nnet::Optimizer;
    /// assert_eq!(Optimizer::from_name("adam"), Some(Optimizer::adam()));
    /// assert_eq!(Optimizer::from_name("lbfgs"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Optimizer> {
        Some(match name {
            "sgd" => Optimizer::Sgd,
            "momentum" => Optimizer::momentum(),
            "nesterov" => Optimizer::nesterov(),
            "adam" => Optimizer::adam(),
            "adamw" => Optimizer::adamw(),
            "rprop" => Optimizer::rprop(),
            _ => return None,
        })
    }

    /// Momentum with `mu = 0.9`.
    pub fn momentum() -> Optimizer {
        Optimizer::Momentum { mu: 0.9 }
    }

    /// Nesterov with `mu = 0.9`.
    pub fn nesterov() -> Optimizer {
        Optimizer::Nesterov { mu: 0.9 }
    }

    /// Adam with `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-8`.
    pub fn adam() -> Optimizer {
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// AdamW with Adam's defaults and `wd = 0.01`.
    pub fn adamw() -> Optimizer {
        Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }

    /// iRPROP- with `inc = 1.2`, `dec = 0.5`, `delta0 = 0.1`, `delta_min = 0`,
    /// `delta_max = 50`.
    pub fn rprop() -> Optimizer {
        Optimizer::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 50.0,
        }
    }

    /// The name: "sgd", "momentum", "nesterov", "adam", "adamw" or "rprop".
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Momentum { .. } => "momentum",
            Optimizer::Nesterov { .. } => "nesterov",
            Optimizer::Adam { .. } => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::Rprop { .. } => "rprop",
        }
    }

    /// Whether the optimizer needs the full training set's gradient every step (iRPROP-).
    pub fn is_full_batch(&self) -> bool {
        matches!(self, Optimizer::Rprop { .. })
    }

    /// Checks every parameter against its range in SPEC section 6; the error names the
    /// optimizer, the parameter, its value and the range.
    ///
    /// ```
    /// use nnet::optim::Optimizer;
    /// assert!(Optimizer::adam().validate().is_ok());
    /// let e = Optimizer::Momentum { mu: 1.0 }.validate().unwrap_err();
    /// assert!(e.message().contains("mu"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        match *self {
            Optimizer::Sgd => Ok(()),
            Optimizer::Momentum { mu } | Optimizer::Nesterov { mu } => {
                unit_interval(name, "mu", mu)
            }
            Optimizer::Adam { beta1, beta2, eps } => adam(name, beta1, beta2, eps),
            Optimizer::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                adam(name, beta1, beta2, eps)?;
                finite(name, "weight_decay", weight_decay)?;
                check(
                    weight_decay >= 0.0,
                    name,
                    "weight_decay",
                    weight_decay,
                    ">= 0",
                )
            }
            Optimizer::Rprop {
                inc,
                dec,
                delta0,
                delta_min,
                delta_max,
            } => {
                for (what, v) in [
                    ("inc", inc),
                    ("dec", dec),
                    ("delta0", delta0),
                    ("delta_min", delta_min),
                    ("delta_max", delta_max),
                ] {
                    finite(name, what, v)?;
                }
                check(inc > 1.0, name, "inc", inc, "> 1")?;
                check(dec > 0.0 && dec < 1.0, name, "dec", dec, "in (0, 1)")?;
                check(delta0 > 0.0, name, "delta0", delta0, "> 0")?;
                check(delta_min >= 0.0, name, "delta_min", delta_min, ">= 0")?;
                if delta_max < delta0 {
                    return Err(Error::InvalidArgument(format!(
                        "rprop: delta_max must be >= delta0 = {delta0}, got {delta_max}"
                    )));
                }
                Ok(())
            }
        }
    }

    /// Checks that the optimizer can train with mini-batches of `batch_size` out of `rows`
    /// training rows: iRPROP- is a full-batch method, so a batch size below the number of
    /// rows is an error that says so. Every other optimizer accepts any batch size.
    ///
    /// ```
    /// use nnet::optim::Optimizer;
    /// assert!(Optimizer::rprop().check_batch(100, 100).is_ok());
    /// assert!(Optimizer::rprop().check_batch(32, 100).is_err());
    /// assert!(Optimizer::adam().check_batch(32, 100).is_ok());
    /// ```
    pub fn check_batch(&self, batch_size: usize, rows: usize) -> Result<()> {
        if self.is_full_batch() && batch_size < rows {
            return Err(Error::InvalidArgument(format!(
                "rprop (iRPROP-) is a full-batch method: batch_size {batch_size} is below the \
                 {rows} training rows (use batch_size >= {rows})"
            )));
        }
        Ok(())
    }
}

fn finite(name: &str, what: &str, v: f32) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name}: {what} must be finite, got {v}"
        )))
    }
}

fn check(ok: bool, name: &str, what: &str, v: f32, range: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name}: {what} must be {range}, got {v}"
        )))
    }
}

fn unit_interval(name: &str, what: &str, v: f32) -> Result<()> {
    finite(name, what, v)?;
    check((0.0..1.0).contains(&v), name, what, v, "in [0, 1)")
}

fn adam(name: &str, beta1: f32, beta2: f32, eps: f32) -> Result<()> {
    unit_interval(name, "beta1", beta1)?;
    unit_interval(name, "beta2", beta2)?;
    finite(name, "eps", eps)?;
    check(eps > 0.0, name, "eps", eps, "> 0")
}
