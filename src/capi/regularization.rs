//! The regularizer through the C ABI: `NNET_REG_*` and `NnetRegularization`.

use super::{CResult, Fail};
use crate::regularization::{RegKind, Regularization};

/// `NNET_REG_NONE`: no regularizer.
pub const NNET_REG_NONE: u32 = 0;
/// `NNET_REG_L2`: weight decay, `Omega = sum w^2`.
pub const NNET_REG_L2: u32 = 1;
/// `NNET_REG_L1`: `Omega = sum |w|`.
pub const NNET_REG_L1: u32 = 2;
/// `NNET_REG_WEIGHT_ELIMINATION`: `Omega = sum (w/w0)^2 / (1 + (w/w0)^2)`.
pub const NNET_REG_WEIGHT_ELIMINATION: u32 = 3;

/// The regularizer of `E_aug = E_in + lambda * Omega(w)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnetRegularization {
    /// `NNET_REG_*`.
    pub kind: u32,
    /// `lambda >= 0`, finite.
    pub lambda: f32,
    /// The weight-elimination scale, finite and > 0; default 1.
    pub w0: f32,
    /// 1: Omega also sums the bias rows (default, as in the lecture); 0: it skips them. Any
    /// other value is an error.
    pub include_bias: u8,
}

impl NnetRegularization {
    /// Validates every field and converts; never transmutes.
    pub(crate) fn convert(self) -> CResult<Regularization> {
        let include_bias = match self.include_bias {
            0 => false,
            1 => true,
            v => {
                return Err(Fail::invalid(format!(
                    "include_bias must be 0 or 1, got {v}"
                )));
            }
        };
        let reg = Regularization {
            kind: RegKind::from_u32(self.kind)?,
            lambda: self.lambda,
            w0: self.w0,
            include_bias,
        };
        reg.validate()?;
        Ok(reg)
    }

    pub(crate) fn from_rust(r: &Regularization) -> NnetRegularization {
        NnetRegularization {
            kind: r.kind.to_u32(),
            lambda: r.lambda,
            w0: r.w0,
            include_bias: r.include_bias as u8,
        }
    }
}
