//! Optimizers and learning-rate schedules (SPEC section 6).
//!
//! - [`Optimizer`]: the update rule and its parameters (sgd, momentum, Nesterov, Adam, AdamW,
//!   iRPROP-), with the defaults of SPEC section 6 and [`Optimizer::validate`].
//! - [`Schedule`]: the learning rate of each epoch, [`Schedule::rate`].
//! - [`OptimizerState`]: the per-weight state of one training run; [`OptimizerState::step`]
//!   applies one step with a given mean gradient in one fused kernel pass
//!   ([`crate::Kernels::update`]).
//!
//! ```
//! use nnet::optim::{Optimizer, OptimizerState, Schedule};
//! let mut w = vec![1.0f32, -1.0];
//! let mut state = OptimizerState::new(Optimizer::adam(), w.len()).unwrap();
//! let schedule = Schedule::Cosine { eta_min: 0.0 };
//! for epoch in 0..10 {
//!     let g: Vec<f32> = w.iter().map(|x| 2.0 * x).collect(); // d/dw of w^2
//!     state.step(&mut w, &g, schedule.rate(0.1, epoch, 10)).unwrap();
//! }
//! assert_eq!(state.steps(), 10);
//! assert!(w[0] < 1.0 && w[1] > -1.0);
//! ```
//!
//! Cost per step on a 784-256-256-10 network (269,322 weights, one fused pass; measured with
//! `cargo bench --bench update` on an AMD EPYC Zen 4, 2 vCPU, AVX-512 kernel set):
//! see the table in [`OptimizerState::step`].

mod optimizer;
mod schedule;
mod state;

pub use optimizer::Optimizer;
pub use schedule::Schedule;
pub use state::OptimizerState;
