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
//! # Cost per step
//!
//! One step is one pass over the weights, the gradient and the state, so its cost is set by
//! the bytes it streams (4 bytes per float): sgd reads `w`, `g` and writes `w`; momentum and
//! Nesterov add `v`; Adam, AdamW and iRPROP- add two state vectors (Adam also divides and
//! takes a square root per weight). Measured on the 784-256-256-10 network (269,322
//! weights) with `cargo bench --bench update` (AMD EPYC Zen 4, 2 shared vCPU under KVM,
//! median of 20 samples; the machine was shared, so expect +-10%):
//!
//! | optimizer | floats streamed per weight | AVX2 | AVX-512 | scalar |
//! | --- | ---: | ---: | ---: | ---: |
//! | sgd | 3 | 66 us | 73 us | 2.1 ms |
//! | momentum | 5 | 129 us | 156 us | 4.3 ms |
//! | nesterov | 5 | 126 us | 174 us | 6.4 ms |
//! | adam | 7 | 277 us | 327 us | 7.7 ms |
//! | adamw | 7 | 280 us | 298 us | 5.4 ms |
//! | rprop | 7 | 279 us | 184 us | 0.6 ms |
//!
//! The working set (3.2 to 7.5 MB) stays in this CPU's L3 cache, so 8 and 16 lanes run at
//! about the same speed. The scalar reference calls the C library's `fmaf` for every fused
//! multiply-add (it is built without FMA), which is what makes its sgd, momentum and Adam
//! slow; it is the reference, used only where no vector set runs. The gradient of a
//! mini-batch costs about `6 * 269,322 * batch` flops (about 413 Mflop at batch 256), so a
//! step is a small part of a batch-256 update; per sample (about 1.6 Mflop) the step of a
//! stateful optimizer is the larger part.
//!
//! # Cost in training
//!
//! Mini-batches of every optimizer run as matrix products (`TrainPath::Gemm`): the
//! weight-gradient products write the step's mean gradient, block by block of rows, and the
//! optimizer's kernel steps each block while it is in cache; plain SGD instead fuses its
//! update into the products. Per sample, SGD runs the fused pass and the others a layer-by-
//! layer step followed by a full pass of the optimizer's kernel. Training samples per
//! second on 784-256-256-10 (10,000 synthetic rows, linear output, 1 thread, AVX-512), with
//! `cargo run --release --example throughput -- --threads 1 --epochs 5 --batch B --optimizer
//! NAME` (`--rows 2000` at batch 1), median of 3 runs interleaved in one session; CPU
//! `AMD EPYC` (its `model name`; Zen 4), 2 vCPU shared with other builds, so expect +-10%:
//!
//! | optimizer | batch 256 | batch 1 |
//! | --- | ---: | ---: |
//! | sgd | 81,300 | 34,800 |
//! | momentum | 78,300 | 12,300 |
//! | adam | 78,300 | 7,900 |
//! | rprop | 59,300 (its full batch of 10,000 rows) | - |
//!
//! At batch 256 Adam runs at 96% of SGD's rate (a second session: 78,500 against 82,100;
//! before mini-batches of optimizers took the matrix products, Adam accumulated per-sample
//! gradients at 25,500). iRPROP- is full-batch: its one step per epoch holds the activations
//! of all 10,000 rows, which leave the cache (plain SGD at batch 10,000 ran slower still in
//! the same session, 22,400 against 37,200, machine loaded).

mod optimizer;
mod schedule;
mod state;

pub use optimizer::Optimizer;
pub use schedule::Schedule;
pub use state::OptimizerState;
