//! The regularizers `Omega(w)` of the augmented error `E_aug = E_in + lambda * Omega(w)`.

use crate::error::{Error, Result};

/// Which regularizer `Omega` to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegKind {
    /// `Omega = 0`.
    #[default]
    None,
    /// Weight decay: `Omega = sum w^2`, `dOmega/dw = 2w`.
    L2,
    /// `Omega = sum |w|`, subgradient `sign(w)` (0 at w = 0).
    L1,
    /// `Omega = sum (w/w0)^2 / (1 + (w/w0)^2)`, `dOmega/dw = (2w/w0^2) / (1 + (w/w0)^2)^2`.
    WeightElimination,
}

/// A regularizer with its strength.
///
/// ```
/// use nnet::{Regularization, RegKind};
/// let reg = Regularization { kind: RegKind::WeightElimination, lambda: 0.01, ..Default::default() };
/// // with w0 = 1 the derivative is 2w / (1 + w^2)^2
/// let w = 0.5f32;
/// assert!((reg.derivative(w) - 2.0 * w / (1.0 + w * w).powi(2)).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularization {
    /// The regularizer.
    pub kind: RegKind,
    /// Its weight in `E_aug`; `>= 0`.
    pub lambda: f32,
    /// The weight-elimination scale; `> 0` (default 1).
    pub w0: f32,
    /// Whether `Omega` also sums the bias rows (row 0 of every layer). Default: true, as in the
    /// lecture.
    pub include_bias: bool,
}

impl Default for Regularization {
    fn default() -> Self {
        Regularization {
            kind: RegKind::None,
            lambda: 0.0,
            w0: 1.0,
            include_bias: true,
        }
    }
}

impl Regularization {
    /// No regularization.
    pub fn none() -> Regularization {
        Regularization::default()
    }

    /// L2 (weight decay) with strength `lambda`.
    pub fn l2(lambda: f32) -> Regularization {
        Regularization {
            kind: RegKind::L2,
            lambda,
            ..Default::default()
        }
    }

    /// L1 with strength `lambda`.
    pub fn l1(lambda: f32) -> Regularization {
        Regularization {
            kind: RegKind::L1,
            lambda,
            ..Default::default()
        }
    }

    /// Weight elimination with strength `lambda` and scale `w0`.
    pub fn weight_elimination(lambda: f32, w0: f32) -> Regularization {
        Regularization {
            kind: RegKind::WeightElimination,
            lambda,
            w0,
            include_bias: true,
        }
    }

    /// Errors on a negative or non-finite lambda, or a w0 that is not finite and > 0.
    pub fn validate(&self) -> Result<()> {
        if !self.lambda.is_finite() || self.lambda < 0.0 {
            return Err(Error::InvalidArgument(format!(
                "lambda must be finite and >= 0, got {}",
                self.lambda
            )));
        }
        if !self.w0.is_finite() || self.w0 <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "w0 must be finite and > 0, got {}",
                self.w0
            )));
        }
        Ok(())
    }

    /// Whether this adds anything to the error or gradient.
    pub fn is_active(&self) -> bool {
        self.kind != RegKind::None && self.lambda > 0.0
    }

    /// `Omega` of one weight.
    pub fn value(&self, w: f32) -> f64 {
        let w = w as f64;
        match self.kind {
            RegKind::None => 0.0,
            RegKind::L2 => w * w,
            RegKind::L1 => w.abs(),
            RegKind::WeightElimination => {
                let u = w / self.w0 as f64;
                u * u / (1.0 + u * u)
            }
        }
    }

    /// `dOmega/dw` of one weight.
    #[inline]
    pub fn derivative(&self, w: f32) -> f32 {
        match self.kind {
            RegKind::None => 0.0,
            RegKind::L2 => 2.0 * w,
            RegKind::L1 => {
                if w > 0.0 {
                    1.0
                } else if w < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            RegKind::WeightElimination => {
                let w0 = self.w0;
                let u = w / w0;
                let q = 1.0 + u * u;
                (2.0 * w / (w0 * w0)) / (q * q)
            }
        }
    }

    /// `Omega(w)` over a flat weight vector with the given layer offsets and sizes (bias rows
    /// skipped unless `include_bias`), in f64.
    pub(crate) fn omega(&self, weights: &[f32], layers: &[usize], offsets: &[usize]) -> f64 {
        if self.kind == RegKind::None {
            return 0.0;
        }
        let mut sum = 0.0;
        for l in 1..layers.len() {
            let start = self.layer_start(offsets[l - 1], layers[l]);
            sum += weights[start..offsets[l]]
                .iter()
                .map(|&w| self.value(w))
                .sum::<f64>();
        }
        sum
    }

    /// Whether `Omega` covers row `i` of a layer's matrix (row 0 is the bias row): the bias
    /// rule of every path, written once.
    #[inline]
    pub(crate) fn covers_row(&self, i: usize) -> bool {
        i > 0 || self.include_bias
    }

    /// The first flat index that `Omega` covers of a layer matrix with `cols` columns that
    /// starts at `offset` (the covered rows are the last ones, see [`Self::covers_row`]).
    #[inline]
    pub(crate) fn layer_start(&self, offset: usize, cols: usize) -> usize {
        if self.covers_row(0) {
            offset
        } else {
            offset + cols
        }
    }

    /// `g[i] += scale * dOmega/dw(w[i])` over one layer's covered weights.
    #[inline]
    pub(crate) fn add_gradient(&self, w: &[f32], g: &mut [f32], scale: f32) {
        match self.kind {
            RegKind::None => {}
            RegKind::L2 => {
                let s = 2.0 * scale;
                for (gi, &wi) in g.iter_mut().zip(w) {
                    *gi += s * wi;
                }
            }
            _ => {
                for (gi, &wi) in g.iter_mut().zip(w) {
                    *gi += scale * self.derivative(wi);
                }
            }
        }
    }

    /// The in-place step `w -= step * dOmega/dw(w)` over one layer's covered weights.
    #[inline]
    pub(crate) fn step(&self, w: &mut [f32], step: f32) {
        match self.kind {
            RegKind::None => {}
            RegKind::L2 => {
                let c = 1.0 - 2.0 * step;
                for wi in w {
                    *wi *= c;
                }
            }
            _ => {
                for wi in w {
                    *wi -= step * self.derivative(*wi);
                }
            }
        }
    }
}
