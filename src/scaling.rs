//! Standardization: per-feature mean and standard deviation, held by a network and saved with it.
//!
//! A network with a [`Scaling`] maps raw inputs to raw outputs: `predict` standardizes each
//! input feature `(x - mean) / std` before the forward pass and, when targets were
//! standardized too, maps each output back with `y * std + mean`. Training and the gradient
//! work on the standardized values, so the errors they report are in standardized units.

use crate::error::{Error, Result, check_finite};

/// Per-feature means and standard deviations of the inputs and, optionally, of the targets.
///
/// ```
/// use nnet::Scaling;
/// // two rows of two features
/// let s = Scaling::fit(&[1.0, 10.0, 3.0, 10.0], 2, None, 1).unwrap();
/// assert_eq!(s.input_mean(), &[2.0, 10.0]);
/// assert_eq!(s.input_std(), &[1.0, 1.0]); // the constant column keeps std 1
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    input_mean: Vec<f32>,
    input_std: Vec<f32>,
    target_mean: Option<Vec<f32>>,
    target_std: Option<Vec<f32>>,
}

/// Column means and standard deviations (population) of a row-major matrix, in f64.
/// A column whose deviation is zero or not a normal number gets std 1.
fn column_stats(x: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    let rows = x.len() / width;
    let mut mean = vec![0f64; width];
    for r in x.chunks_exact(width) {
        for (m, &v) in mean.iter_mut().zip(r) {
            *m += v as f64;
        }
    }
    for m in &mut mean {
        *m /= rows as f64;
    }
    let mut var = vec![0f64; width];
    for r in x.chunks_exact(width) {
        for ((s, &v), m) in var.iter_mut().zip(r).zip(&mean) {
            let d = v as f64 - m;
            *s += d * d;
        }
    }
    let std = var
        .iter()
        .map(|s| {
            let sd = (s / rows as f64).sqrt() as f32;
            if sd.is_normal() { sd } else { 1.0 }
        })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

impl Scaling {
    /// Fits the scaling on row-major training inputs `x` (`n_in` per row) and, for regression,
    /// on targets `y` (`n_out` per row). Constant columns keep a standard deviation of 1.
    pub fn fit(x: &[f32], n_in: usize, y: Option<&[f32]>, n_out: usize) -> Result<Scaling> {
        if n_in == 0 || x.is_empty() || !x.len().is_multiple_of(n_in) {
            return Err(Error::ShapeMismatch(format!(
                "cannot fit scaling: {} input values are not whole rows of {n_in}",
                x.len()
            )));
        }
        check_finite(x, "input")?;
        let (input_mean, input_std) = column_stats(x, n_in);
        let (target_mean, target_std) = match y {
            Some(y) => {
                let rows = x.len() / n_in;
                if n_out == 0 || y.len() != rows * n_out {
                    return Err(Error::ShapeMismatch(format!(
                        "cannot fit scaling: expected {} target values ({rows} rows x {n_out}), got {}",
                        rows * n_out,
                        y.len()
                    )));
                }
                check_finite(y, "target")?;
                let (m, s) = column_stats(y, n_out);
                (Some(m), Some(s))
            }
            None => (None, None),
        };
        Ok(Scaling {
            input_mean,
            input_std,
            target_mean,
            target_std,
        })
    }

    /// A scaling from explicit values; every std must be finite and > 0, every mean finite.
    pub fn from_parts(
        input_mean: Vec<f32>,
        input_std: Vec<f32>,
        target: Option<(Vec<f32>, Vec<f32>)>,
    ) -> Result<Scaling> {
        let check = |m: &[f32], s: &[f32], what: &str| -> Result<()> {
            if m.len() != s.len() || m.is_empty() {
                return Err(Error::ShapeMismatch(format!(
                    "{what}: {} means and {} standard deviations",
                    m.len(),
                    s.len()
                )));
            }
            check_finite(m, what)?;
            if let Some(i) = s.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(Error::InvalidArgument(format!(
                    "{what}: standard deviation [{i}] is {} (must be finite and > 0)",
                    s[i]
                )));
            }
            Ok(())
        };
        check(&input_mean, &input_std, "input scaling")?;
        if let Some((m, s)) = &target {
            check(m, s, "target scaling")?;
        }
        let (target_mean, target_std) = match target {
            Some((m, s)) => (Some(m), Some(s)),
            None => (None, None),
        };
        Ok(Scaling {
            input_mean,
            input_std,
            target_mean,
            target_std,
        })
    }

    /// Per-input means.
    pub fn input_mean(&self) -> &[f32] {
        &self.input_mean
    }

    /// Per-input standard deviations.
    pub fn input_std(&self) -> &[f32] {
        &self.input_std
    }

    /// Per-output target means, when targets are standardized.
    pub fn target_mean(&self) -> Option<&[f32]> {
        self.target_mean.as_deref()
    }

    /// Per-output target standard deviations, when targets are standardized.
    pub fn target_std(&self) -> Option<&[f32]> {
        self.target_std.as_deref()
    }

    pub(crate) fn check_shape(&self, n_in: usize, n_out: usize) -> Result<()> {
        if self.input_mean.len() != n_in {
            return Err(Error::ShapeMismatch(format!(
                "the scaling has {} inputs, the network {n_in}",
                self.input_mean.len()
            )));
        }
        if let Some(m) = &self.target_mean
            && m.len() != n_out
        {
            return Err(Error::ShapeMismatch(format!(
                "the scaling has {} targets, the network {n_out} outputs",
                m.len()
            )));
        }
        Ok(())
    }

    /// `out = (x - mean) / std` for one row.
    pub(crate) fn scale_inputs(&self, x: &[f32], out: &mut [f32]) {
        for (((o, &v), m), s) in out
            .iter_mut()
            .zip(x)
            .zip(&self.input_mean)
            .zip(&self.input_std)
        {
            *o = (v - m) / s;
        }
    }

    /// `y = (y - mean) / std` for one row of targets (no-op without target scaling).
    pub(crate) fn scale_targets(&self, y: &mut [f32]) {
        if let (Some(m), Some(s)) = (&self.target_mean, &self.target_std) {
            for ((v, m), s) in y.iter_mut().zip(m).zip(s) {
                *v = (*v - m) / s;
            }
        }
    }

    /// `y = y * std + mean` for one row of outputs (no-op without target scaling).
    pub(crate) fn unscale_outputs(&self, y: &mut [f32]) {
        if let (Some(m), Some(s)) = (&self.target_mean, &self.target_std) {
            for ((v, m), s) in y.iter_mut().zip(m).zip(s) {
                *v = *v * s + m;
            }
        }
    }
}
