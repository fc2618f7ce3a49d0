//! # nnet
//!
//! Fully connected tanh neural networks — the `d(0)-d(1)-...-d(L)` network of the lecture —
//! trained on the CPU with hand-vectorized kernels, usable from Rust and, through a C ABI,
//! from C and C++.
//!
//! - [`Network`]: layer sizes, the flat weight vector, `predict` and `classify`.
//! - [`Network::gradient`]: backprop, `E_in`, `E_aug` with L2, L1 or weight elimination.
//! - [`Network::train`]: SGD and mini-batch gradient descent, early stopping, restarts.
//! - [`optim`]: momentum, Nesterov, Adam, AdamW and iRPROP-, learning-rate schedules.
//! - [`kernels`]: the matrix-vector, rank-1 and tanh kernels, one set per instruction set.
//! - [`distributed`]: data-parallel training across processes (MPI with the feature `mpi`).
//! - [`data`]: [`Dataset`] and loaders for CSV, FANN and IDX (MNIST) files.
//! - [`checkpoint`]: the checkpoint file of a training run; [`atomic_file`]: how every file is replaced.
//! - [`TrainReport::write_svg`], [`TrainReport::write_csv`]: learning curves.
//!
//! ```
//! use nnet::{Network, Output, TrainConfig};
//! // learn y = x1 - x2 with a 2-4-1 network
//! let x: Vec<f32> = (0..200).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect();
//! let y: Vec<f32> = x.chunks(2).map(|r| r[0] - r[1]).collect();
//! let mut net = Network::new(&[2, 4, 1], Output::Linear, 1, 0.3).unwrap();
//! let cfg = TrainConfig { learning_rate: 0.05, epochs: 200, ..TrainConfig::default() };
//! let report = net.train(&cfg, &x, &y, None).unwrap();
//! assert!(report.train_error < 1e-2);
//! ```
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod atomic_file;
pub mod capi;
pub mod checkpoint;
pub mod data;
pub mod distributed;
mod engine;
pub mod error;
mod gradient;
pub mod kernels;
pub mod model_file;
mod network;
pub mod onnx;
pub mod optim;
mod regularization;
mod report;
mod rng;
mod scaling;

pub use data::Dataset;
pub use engine::{Checkpointing, EpochInfo, Order, TrainConfig, TrainPath, TrainPlan, TrainReport};
pub use error::{Error, Result};
pub use kernels::{Isa, Kernels};
pub use network::{Network, Output};
pub use optim::{Optimizer, OptimizerState, Schedule};
pub use regularization::{RegKind, Regularization};
pub use scaling::Scaling;

/// The crate version, e.g. "0.3.0".
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
