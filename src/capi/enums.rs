//! The C ABI's numbering of the core enums: `NNET_OUTPUT_*`, `NNET_REG_*` and `NNET_ORDER_*`
//! (the constants are declared beside the functions that take them; the core types carry no
//! numbers of their own).

use super::network::{NNET_OUTPUT_LINEAR, NNET_OUTPUT_TANH};
use super::regularization::{NNET_REG_L1, NNET_REG_L2, NNET_REG_NONE, NNET_REG_WEIGHT_ELIMINATION};
use super::train::{NNET_ORDER_RANDOM_PICK, NNET_ORDER_SEQUENTIAL, NNET_ORDER_SHUFFLE};
use crate::error::{Error, Result};
use crate::{Order, Output, RegKind};

impl Output {
    /// The C ABI value: `NNET_OUTPUT_LINEAR = 0`, `NNET_OUTPUT_TANH = 1`.
    pub fn to_u32(self) -> u32 {
        match self {
            Output::Linear => NNET_OUTPUT_LINEAR,
            Output::Tanh => NNET_OUTPUT_TANH,
        }
    }

    /// Parses the C ABI value; any other value is an error.
    pub fn from_u32(v: u32) -> Result<Output> {
        match v {
            NNET_OUTPUT_LINEAR => Ok(Output::Linear),
            NNET_OUTPUT_TANH => Ok(Output::Tanh),
            _ => Err(Error::InvalidArgument(format!(
                "unknown output kind {v} (expected 0 = linear or 1 = tanh)"
            ))),
        }
    }
}

impl RegKind {
    /// The C ABI value (`NNET_REG_*`).
    pub fn to_u32(self) -> u32 {
        match self {
            RegKind::None => NNET_REG_NONE,
            RegKind::L2 => NNET_REG_L2,
            RegKind::L1 => NNET_REG_L1,
            RegKind::WeightElimination => NNET_REG_WEIGHT_ELIMINATION,
        }
    }

    /// Parses the C ABI value; any other value is an error.
    pub fn from_u32(v: u32) -> Result<RegKind> {
        match v {
            NNET_REG_NONE => Ok(RegKind::None),
            NNET_REG_L2 => Ok(RegKind::L2),
            NNET_REG_L1 => Ok(RegKind::L1),
            NNET_REG_WEIGHT_ELIMINATION => Ok(RegKind::WeightElimination),
            _ => Err(Error::InvalidArgument(format!(
                "unknown regularizer {v} (expected 0 = none, 1 = l2, 2 = l1, 3 = weight elimination)"
            ))),
        }
    }
}

impl Order {
    /// The C ABI value (`NNET_ORDER_*`).
    pub fn to_u32(self) -> u32 {
        match self {
            Order::Shuffle => NNET_ORDER_SHUFFLE,
            Order::Sequential => NNET_ORDER_SEQUENTIAL,
            Order::RandomPick => NNET_ORDER_RANDOM_PICK,
        }
    }

    /// Parses the C ABI value; any other value is an error.
    pub fn from_u32(v: u32) -> Result<Order> {
        match v {
            NNET_ORDER_SHUFFLE => Ok(Order::Shuffle),
            NNET_ORDER_SEQUENTIAL => Ok(Order::Sequential),
            NNET_ORDER_RANDOM_PICK => Ok(Order::RandomPick),
            _ => Err(Error::InvalidArgument(format!(
                "unknown sample order {v} (expected 0 = shuffle, 1 = sequential, 2 = random pick)"
            ))),
        }
    }
}
