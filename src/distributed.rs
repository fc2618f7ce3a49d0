//! Data-parallel training on several processes (ranks): every rank holds a shard of the
//! training rows and the same weights; each step every rank sums the per-sample gradients of
//! its part of the global mini-batch, one allreduce adds the sums of all ranks in place, and
//! every rank applies the same update with the global mean, so all ranks hold identical
//! weights after every step.
//!
//! - [`Collective`]: the communication a rank needs (an in-place sum, a maximum, a broadcast),
//!   with [`SingleProcess`] for one process and, with the cargo feature `mpi`, `Mpi` over an
//!   MPI communicator.
//! - [`Shard`]: which rows each rank holds, and the row order of the single-process run that
//!   the distributed steps reproduce.
//! - [`train_distributed`]: the training loop (early stopping, restarts, the learning-rate
//!   schedule, the callback and the checkpoint as in [`Network::train`]); the update is a
//!   parameter ([`Update`]: [`sgd`], an [`OptimizerState`], or a closure).
//! - Checkpoints: with `cfg.train.checkpoint` ([`crate::Checkpointing`]) rank 0 writes the
//!   engine's resumable checkpoint (SPEC section 7) at the same epochs as [`Network::train`]
//!   (every k-th epoch, the callback's stop, the end of each run), and
//!   [`train_distributed_resume`] continues from it on every rank, as [`Network::resume`]
//!   does in one process. [`DistributedConfig::checkpoint`] is a separate, plain model file
//!   of the kept weights.
//!
//! # Determinism and the single-process run
//!
//! A rank sums its rows' gradients with the matrix products of the one-process engine's
//! mini-batch step when its batch (`cfg.train.batch_size`) takes that path in
//! [`Network::train_plan`] (`batch * D >= 1024`, at least 3 rows; then for every step of the
//! call, a short last step included), and sample by sample (rank-1 updates) otherwise.
//!
//! With a given number of ranks a run is deterministic: every rank's sum visits its rows in a
//! fixed order (the matrix products cut a batch into fixed chunks of rows and add their
//! products in chunk order, on one thread a rank), the allreduce of a fixed number of ranks
//! adds the partial sums in a fixed order (Open MPI and MPICH choose the algorithm from the
//! message size and the job layout), and every rank receives the same bits, which every epoch
//! checks (training fails with an error rather than going on with ranks whose weights differ).
//!
//! Against [`Network::train`] with the same global batch and row order
//! ([`Shard::global_order`], batch `P x b`), the result is equal to float32 rounding, not bit
//! for bit: `P` ranks add `P` partial sums, a different grouping of the additions than one
//! process makes, and one process applies plain SGD on the matrix-product path inside the
//! products (each chunk's product added straight into the weights). With one rank and a
//! power-of-two batch (dividing by it is exact) it is equal bit for bit where both compute
//! the same operations: plain SGD on the per-sample path (the mean gradient `g / B` times
//! `eta` instead of `eta / B` times `g`, the same value), and an optimizer state
//! ([`OptimizerState`]) on the matrix-product path (the products write `g / B` there, here
//! `g`, then divided by `B`; the regularizer's gradient and the optimizer's kernel are the
//! same). Making the grouping equal for `P` ranks would need every per-sample gradient on one
//! rank, which costs the speed data parallelism exists for.
//!
//! Restarts keep both properties: every run re-initializes from the seed that
//! [`Network::train`] uses for it, identically on every rank, and the update starts over; the
//! tests compare every epoch of every run and the kept run with one process (to float32
//! rounding; bit for bit with one rank, plain SGD and an exact batch division).

use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::checkpoint::Checkpoint;
use crate::engine::{BatchTrainer, Evaluator, restart_seed, use_gemm};
use crate::engine::{EpochInfo, Order, TrainConfig, TrainReport};
use crate::engine::{
    RunPosition, check_path, config_identity, pair_fingerprint, put_history, put_kept, restore,
};
use crate::error::{Error, Result, check_finite, try_zeroed};
use crate::gradient::{Backprop, add_regularizer_gradient, check_xy, scaled_copies};
use crate::network::{Network, fill_uniform};
use crate::optim::OptimizerState;
use crate::rng::{RngState, SeededRng};

#[cfg(feature = "mpi")]
pub use self::mpi_impl::Mpi;
/// The `mpi` crate, for `mpi::initialize()` and the communicators.
#[cfg(feature = "mpi")]
pub use mpi;

/// The communication between ranks that data-parallel training needs. Every method is
/// collective: every rank of the group calls it, in the same order, with buffers of the same
/// length.
pub trait Collective {
    /// This rank's index, `0..size()`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Replaces `buf` on every rank by the element-wise sum of every rank's `buf`, in place.
    /// Every rank must receive the same bits.
    fn allreduce_sum(&self, buf: &mut [f32]);
    /// [`Collective::allreduce_sum`] for `f64` values (errors summed over ranks).
    fn allreduce_sum_f64(&self, buf: &mut [f64]);
    /// Replaces `buf` on every rank by the element-wise maximum over ranks, in place.
    fn allreduce_max(&self, buf: &mut [u64]);
    /// Copies rank `root`'s `buf` into every other rank's `buf`.
    fn broadcast(&self, root: usize, buf: &mut [u8]);

    /// Whether every rank passed the same `value`.
    fn all_equal(&self, value: u64) -> bool {
        // max(v) and max(!v) = !min(v)
        let mut v = [value, !value];
        self.allreduce_max(&mut v);
        v[0] == !v[1]
    }

    /// Agrees on an outcome: `Ok` when every rank passes `Ok`; otherwise every rank returns
    /// the error of the lowest failing rank (same variant, message prefixed with its rank).
    fn agree(&self, local: Result<()>) -> Result<()> {
        let size = self.size() as u64;
        let mut flag = [match local {
            Err(_) => size - self.rank() as u64,
            Ok(()) => 0,
        }];
        self.allreduce_max(&mut flag);
        if flag[0] == 0 {
            return Ok(());
        }
        let root = (size - flag[0]) as usize;
        let mut bytes = match &local {
            Err(e) if root == self.rank() => encode_error(e, root),
            _ => Vec::new(),
        };
        let mut len = (bytes.len() as u64).to_le_bytes();
        self.broadcast(root, &mut len);
        bytes.resize(u64::from_le_bytes(len) as usize, 0);
        self.broadcast(root, &mut bytes);
        Err(decode_error(&bytes))
    }
}

/// One process alone: rank 0 of 1; every collective leaves its buffer as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn allreduce_sum(&self, _buf: &mut [f32]) {}
    fn allreduce_sum_f64(&self, _buf: &mut [f64]) {}
    fn allreduce_max(&self, _buf: &mut [u64]) {}
    fn broadcast(&self, _root: usize, _buf: &mut [u8]) {}
}

/// An error as bytes: its variant, then `"rank R: "` and its message.
fn encode_error(e: &Error, rank: usize) -> Vec<u8> {
    let code = match e {
        Error::InvalidArgument(_) => 0u8,
        Error::ShapeMismatch(_) => 1,
        Error::NonFinite(_) => 2,
        Error::Overflow(_) => 3,
        Error::OutOfMemory(_) => 4,
        Error::Io(_) => 5,
        Error::Format(_) => 6,
        Error::Diverged(_) => 7,
    };
    let mut v = vec![code];
    v.extend_from_slice(format!("rank {rank}: {}", e.message()).as_bytes());
    v
}

fn decode_error(bytes: &[u8]) -> Error {
    let msg = String::from_utf8_lossy(bytes.get(1..).unwrap_or_default()).into_owned();
    match bytes.first() {
        Some(0) => Error::InvalidArgument(msg),
        Some(1) => Error::ShapeMismatch(msg),
        Some(2) => Error::NonFinite(msg),
        Some(3) => Error::Overflow(msg),
        Some(4) => Error::OutOfMemory(msg),
        Some(5) => Error::Io(msg),
        Some(6) => Error::Format(msg),
        // 7, and any code no rank sends
        _ => Error::Diverged(msg),
    }
}

/// A 64-bit fingerprint of the bits of `values` (equal values give equal fingerprints; any
/// changed bit changes it with near certainty), to check that ranks hold the same weights:
/// the checkpoints' data fingerprint (64-bit FNV-1a over the bit patterns, then the length),
/// the same on every build, so ranks built apart agree too.
pub fn fingerprint(values: &[f32]) -> u64 {
    crate::engine::data_fingerprint(values)
}

/// Which rows of a data set of `total_rows` rows each of `size` ranks holds: contiguous blocks
/// in rank order, the first `total_rows % size` ranks one row more than the others.
///
/// ```
/// use nnet::distributed::Shard;
/// let s = Shard::new(10, 1, 3).unwrap();
/// assert_eq!(s.rows(), 4..7);
/// assert_eq!(Shard::new(10, 2, 3).unwrap().rows(), 7..10);
/// // two ranks of 3 rows, batches of 2 per rank: the global batches {0,1,3,4}, {2,5}
/// assert_eq!(Shard::new(6, 0, 2).unwrap().global_order(2), [0, 1, 3, 4, 2, 5]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    total_rows: usize,
    rank: usize,
    size: usize,
}

impl Shard {
    /// The shard of rank `rank` of `size`; errors when `size` is 0 or `rank >= size`.
    pub fn new(total_rows: usize, rank: usize, size: usize) -> Result<Shard> {
        if rank >= size {
            return Err(Error::InvalidArgument(format!(
                "rank {rank} is not below the number of ranks {size}"
            )));
        }
        Ok(Shard {
            total_rows,
            rank,
            size,
        })
    }

    /// The shard of the calling rank of `collective`.
    pub fn of(collective: &(impl Collective + ?Sized), total_rows: usize) -> Result<Shard> {
        Shard::new(total_rows, collective.rank(), collective.size())
    }

    /// The rows this rank holds.
    pub fn rows(&self) -> Range<usize> {
        self.rows_of_rank(self.rank)
    }

    /// The rows rank `r` holds.
    pub fn rows_of_rank(&self, r: usize) -> Range<usize> {
        let (q, rem) = (self.total_rows / self.size, self.total_rows % self.size);
        let start = r * q + r.min(rem);
        start..start + q + usize::from(r < rem)
    }

    /// This rank's rows of row-major `data` (`width` values a row, `total_rows` rows).
    pub fn slice<'a>(&self, data: &'a [f32], width: usize) -> Result<&'a [f32]> {
        if Some(data.len()) != self.total_rows.checked_mul(width) {
            return Err(Error::ShapeMismatch(format!(
                "expected {} rows of {width} values, got {} values",
                self.total_rows,
                data.len()
            )));
        }
        let r = self.rows();
        Ok(&data[r.start * width..r.end * width])
    }

    /// The order of global rows in which the distributed steps visit them with `batch` rows a
    /// rank and [`Order::Sequential`]: step `s` takes local rows `s*batch..(s+1)*batch` of every
    /// rank, rank 0's first. When every shard has the same number of rows, a single-process
    /// run over the rows in this order with a batch of `size * batch` rows takes the same
    /// global batches.
    pub fn global_order(&self, batch: usize) -> Vec<usize> {
        let b = batch.max(1);
        let longest = self.rows_of_rank(0).len();
        let mut order = Vec::with_capacity(self.total_rows);
        for s in 0..longest.div_ceil(b) {
            for r in 0..self.size {
                let rows = self.rows_of_rank(r);
                let lo = (rows.start + s * b).min(rows.end);
                order.extend(lo..(lo + b).min(rows.end));
            }
        }
        order
    }
}

/// This rank's part of the data: its training rows and optionally its validation rows
/// (row-major; `d(0)` inputs and `d(L)` targets a row). A rank may hold no validation rows
/// while others do; the validation error is then that of all ranks' validation rows.
#[derive(Debug, Clone, Copy)]
pub struct LocalData<'a> {
    /// Training inputs of this rank.
    pub x: &'a [f32],
    /// Training targets of this rank.
    pub y: &'a [f32],
    /// Validation inputs and targets of this rank.
    pub validation: Option<(&'a [f32], &'a [f32])>,
}

/// Settings of [`train_distributed`].
#[derive(Debug, Clone)]
pub struct DistributedConfig<'a> {
    /// The training settings; `batch_size` is the batch of each rank (the global batch is
    /// `size` times that); `threads` is not used (one thread a rank), nor `optimizer` (the
    /// update is a parameter of [`train_distributed`]).
    pub train: TrainConfig,
    /// Where rank 0 saves the model after every epoch whose weights it keeps (the best
    /// validation epoch, or every epoch without validation rows) when they beat the earlier
    /// runs' best; with restarts, the kept network once more at the end when a later run wrote
    /// the file last. A failed save is an error on every rank. This is a model file
    /// ([`Network::load`]), not a checkpoint to resume from: that is `train.checkpoint`
    /// ([`train_distributed_resume`]); both may be set, to different paths.
    pub checkpoint: Option<&'a Path>,
}

/// The outcome of [`train_distributed`], the same on every rank except the times.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributedReport {
    /// The training report, as [`Network::train`] gives it.
    pub report: TrainReport,
    /// Steps run.
    pub steps: u64,
    /// Seconds this rank spent in the steps (gradient, allreduce, update).
    pub step_seconds: f64,
    /// Of those, seconds in the gradient allreduce.
    pub allreduce_seconds: f64,
}

/// The plain SGD update `w -= eta * g`, for [`train_distributed`].
pub fn sgd(weights: &mut [f32], mean_grad: &[f32], eta: f32) -> Result<()> {
    for (w, g) in weights.iter_mut().zip(mean_grad) {
        *w -= eta * g;
    }
    Ok(())
}

/// How the global mean gradient changes the weights, for [`train_distributed`]: [`sgd`], a
/// closure `|w: &mut [f32], g: &[f32], eta: f32| -> Result<()>` (with its argument types
/// written out), or an [`OptimizerState`], whose state every run (the first and each restart)
/// starts from zero, as in [`Network::train`]. It must be deterministic: every rank applies it
/// to the same weights and gradient and must get the same bits.
pub trait Update {
    /// One step with the mean gradient `mean_grad` and the epoch's learning rate `eta` (the
    /// configuration's rate after its schedule).
    fn step(&mut self, weights: &mut [f32], mean_grad: &[f32], eta: f32) -> Result<()>;

    /// Back to the start of a run, before its first step. A closure has nothing to reset (the
    /// default): one that holds optimizer state keeps it across restarts.
    fn reset(&mut self) {}

    /// The state a resumable checkpoint (`TrainConfig::checkpoint`) holds: the step counter
    /// and two state vectors; `None` (the default) for an update without state. A closure's
    /// own state is not saved.
    fn checkpoint_state(&self) -> Option<(u64, &[f32], &[f32])> {
        None
    }

    /// Continues from what [`Update::checkpoint_state`] gave (called after
    /// [`Update::reset`]); errors, changing nothing, when the state does not fit. The
    /// default, for an update without state, refuses any state.
    fn restore_checkpoint_state(&mut self, t: u64, s1: &[f32], s2: &[f32]) -> Result<()> {
        let _ = (t, s1, s2);
        Err(Error::InvalidArgument(
            "this update has no state to restore from a checkpoint".into(),
        ))
    }
}

impl<F> Update for F
where
    F: FnMut(&mut [f32], &[f32], f32) -> Result<()>,
{
    fn step(&mut self, weights: &mut [f32], mean_grad: &[f32], eta: f32) -> Result<()> {
        self(weights, mean_grad, eta)
    }
}

impl Update for OptimizerState {
    fn step(&mut self, weights: &mut [f32], mean_grad: &[f32], eta: f32) -> Result<()> {
        OptimizerState::step(self, weights, mean_grad, eta)
    }

    fn reset(&mut self) {
        OptimizerState::reset(self);
    }

    fn checkpoint_state(&self) -> Option<(u64, &[f32], &[f32])> {
        Some(self.raw())
    }

    fn restore_checkpoint_state(&mut self, t: u64, s1: &[f32], s2: &[f32]) -> Result<()> {
        self.restore_raw(t, s1, s2)
    }
}

/// The buffers of one rank's training call, allocated once for all its runs.
struct RankState {
    bp: Backprop,
    /// The matrix-product gradient sums, when the local batch takes that path in
    /// [`Network::train_plan`] ([`use_gemm`]); then every step of the call uses them, as the
    /// plan's path holds for every step of a training call.
    trainer: Option<BatchTrainer>,
    grad: Vec<f32>,
    order: Vec<usize>,
    snapshot: Vec<f32>,
    best: Vec<f32>,
    /// The weights of the best run so far (empty without restarts).
    kept: Vec<f32>,
    eval: Evaluator,
}

/// Checks this rank's configuration and data; returns the scaled copies (with a scaling).
#[allow(clippy::type_complexity)]
fn check_local(
    net: &Network,
    data: &LocalData,
    cfg: &DistributedConfig,
    resume: bool,
) -> Result<(Option<(Vec<f32>, Vec<f32>)>, Option<(Vec<f32>, Vec<f32>)>)> {
    cfg.train.validate()?;
    if resume && cfg.train.checkpoint.is_none() {
        return Err(Error::InvalidArgument(
            "resuming needs a checkpoint path (TrainConfig::checkpoint)".into(),
        ));
    }
    check_rows(net, data.x, data.y, "training")?;
    let scaled = scaled_copies(net, data.x, data.y)?;
    let scaled_val = match data.validation {
        Some((vx, vy)) => {
            check_rows(net, vx, vy, "validation")?;
            scaled_copies(net, vx, vy)?
        }
        None => None,
    };
    Ok((scaled, scaled_val))
}

/// [`check_xy`], also for a rank with no rows.
fn check_rows(net: &Network, x: &[f32], y: &[f32], what: &str) -> Result<usize> {
    if x.is_empty() && y.is_empty() {
        return Ok(0);
    }
    check_xy(net, x, y, what)
}

/// Trains `net` data-parallel across the ranks of `collective`; every rank calls it with its
/// own rows (`data`) and the same network, configuration and update.
///
/// Each step, every rank takes the next `cfg.train.batch_size` rows of its shard (in its own
/// order: [`Order::Sequential`], or a permutation or random pick seeded by the seed, the run
/// and the rank), sums their per-sample gradients into one buffer of D floats (with the
/// engine's matrix products when the batch takes that path in [`Network::train_plan`], see the
/// [module documentation](self)), and one
/// in-place [`Collective::allreduce_sum`] adds the buffers of all ranks. Every rank then
/// divides by the global batch size, adds the regularizer's gradient, and applies `update`
/// ([`Update`]: [`sgd`], an [`OptimizerState`], or a closure) with the epoch's learning rate
/// (`cfg.train.schedule`). An epoch has as many steps as the longest shard needs; a rank
/// whose rows are used up adds zeros.
///
/// `E_in`, `E_val`, early stopping, the callback's decision to stop and the checkpoints come
/// from values summed over ranks, so every rank takes the same decisions; `on_epoch` is
/// called on every rank with the same values (write files from rank 0 only). The weights the
/// network ends with are, as in [`Network::train`], those of the best validation epoch.
///
/// With `cfg.train.checkpoint`, rank 0 writes a resumable checkpoint (replaced atomically)
/// after every `every`-th epoch, after the epoch the callback stops at, and at the end of
/// each run, as [`Network::train`] does: the weights (the same on every rank), the update's
/// state ([`Update::checkpoint_state`]), every rank's sample order and generator (gathered
/// by a collective), the history, the best validation error, epoch and weights, the
/// early-stopping counter, the run and the best run so far, with the run's identity
/// (configuration, network, number of ranks, rows and data fingerprint of every rank).
/// [`train_distributed_resume`] continues from it. A save that fails on rank 0 is an error on
/// every rank.
///
/// Restarts run as in [`Network::train`]: after the run from the given weights, each of the
/// `cfg.train.restarts` runs re-initializes the weights uniformly in
/// `[-init_range, init_range]` from a seed derived from `cfg.train.seed` and the run (the same
/// on every rank, so the ranks keep identical weights) and resets `update`; the run with the
/// lowest validation error (without validation rows: the lowest training error) is kept, and
/// the report's `run` says which. A callback's stop ends the whole call.
///
/// A bad configuration, data of the wrong shape or non-finite data on any rank, or networks
/// that differ between ranks, make every rank return the same error (that of the lowest
/// failing rank) with the network unchanged. A divergence is an [`Error::Diverged`] on every
/// rank, the network keeping the weights from before the epoch.
///
/// ```
/// use std::ops::ControlFlow;
/// use nnet::distributed::{self, DistributedConfig, LocalData, SingleProcess};
/// use nnet::{Network, Order, Output, TrainConfig};
/// let x: Vec<f32> = (0..64).map(|i| (i as f32 / 32.0) - 1.0).collect();
/// let y: Vec<f32> = x.iter().map(|v| 0.5 * v).collect();
/// let mut net = Network::new(&[1, 3, 1], Output::Linear, 1, 0.5).unwrap();
/// let cfg = DistributedConfig {
///     train: TrainConfig { learning_rate: 0.1, epochs: 200, batch_size: 8,
///                          order: Order::Sequential, restarts: 1, init_range: 0.5,
///                          ..TrainConfig::default() },
///     checkpoint: None,
/// };
/// let data = LocalData { x: &x, y: &y, validation: None };
/// let r = distributed::train_distributed(&mut net, data, &cfg, &SingleProcess,
///     distributed::sgd, |_, _| ControlFlow::Continue(())).unwrap();
/// assert!(r.report.train_error < 1e-3);
/// assert!(r.report.run <= 1);
/// assert_eq!(r.steps, 2 * 200 * 8);
/// ```
pub fn train_distributed<C, U, F>(
    net: &mut Network,
    data: LocalData<'_>,
    cfg: &DistributedConfig<'_>,
    collective: &C,
    update: U,
    on_epoch: F,
) -> Result<DistributedReport>
where
    C: Collective + ?Sized,
    U: Update,
    F: FnMut(&EpochInfo, &Network) -> ControlFlow<()>,
{
    train(net, data, cfg, collective, update, on_epoch, false)
}

/// [`train_distributed`] continuing from the resumable checkpoint `cfg.train.checkpoint`
/// (as [`Network::resume`] in one process): rank 0 reads the file and broadcasts its bytes,
/// and every rank restores the same state (the weights, the update's state, its own sample
/// order and generator, the history, the best epoch and weights, the early-stopping counter,
/// the run and the best run so far), then trains on. A run stopped at any epoch (by the
/// callback, or killed) and resumed from its last checkpoint ends with weights and report
/// bitwise equal to the uninterrupted run with the same number of ranks. Without the file,
/// training starts from the beginning. A checkpoint of another run (configuration, network,
/// number of ranks, rows of a rank, data or an update with state or without) is the same
/// error on every rank, naming the first difference, with the network unchanged.
pub fn train_distributed_resume<C, U, F>(
    net: &mut Network,
    data: LocalData<'_>,
    cfg: &DistributedConfig<'_>,
    collective: &C,
    update: U,
    on_epoch: F,
) -> Result<DistributedReport>
where
    C: Collective + ?Sized,
    U: Update,
    F: FnMut(&EpochInfo, &Network) -> ControlFlow<()>,
{
    train(net, data, cfg, collective, update, on_epoch, true)
}

/// Where the resumable checkpoints go, with the identity fields of the run.
struct Saver {
    path: PathBuf,
    every: u32,
    identity: Checkpoint,
}

/// Copies rank `root`'s bytes to every rank (any length; every rank's `bytes` is resized).
fn broadcast_bytes<C: Collective + ?Sized>(collective: &C, root: usize, bytes: &mut Vec<u8>) {
    let mut len = (bytes.len() as u64).to_le_bytes();
    collective.broadcast(root, &mut len);
    bytes.resize(u64::from_le_bytes(len) as usize, 0);
    for part in bytes.chunks_mut(1 << 30) {
        collective.broadcast(root, part);
    }
}

#[allow(clippy::too_many_arguments)]
fn train<C, U, F>(
    net: &mut Network,
    data: LocalData<'_>,
    cfg: &DistributedConfig<'_>,
    collective: &C,
    mut update: U,
    mut on_epoch: F,
    resume: bool,
) -> Result<DistributedReport>
where
    C: Collective + ?Sized,
    U: Update,
    F: FnMut(&EpochInfo, &Network) -> ControlFlow<()>,
{
    let local = check_local(net, &data, cfg, resume);
    let (scaled, scaled_val) =
        match collective.agree(local.as_ref().map(|_| ()).map_err(Clone::clone)) {
            Ok(()) => local.expect("agreed"),
            Err(e) => return Err(e),
        };
    let ck_every = cfg
        .train
        .checkpoint
        .as_ref()
        .map_or(0, |c| u64::from(c.every) + 1);
    if !collective.all_equal(ck_every) {
        return Err(Error::InvalidArgument(
            "the ranks have different checkpoint settings (TrainConfig::checkpoint)".into(),
        ));
    }
    if !collective.all_equal(fingerprint(net.weights()))
        || !collective.all_equal(net.layers().len() as u64)
    {
        return Err(Error::InvalidArgument(
            "the ranks hold different networks (every rank must start from the same weights)"
                .into(),
        ));
    }
    let x = scaled.as_ref().map_or(data.x, |s| &s.0[..]);
    let y = scaled.as_ref().map_or(data.y, |s| &s.1[..]);
    let val = match (&scaled_val, data.validation) {
        (Some((a, b)), _) => Some((&a[..], &b[..])),
        (None, v) => v,
    };
    let n_in = net.num_inputs();
    let rows = x.len() / n_in;
    let val_rows = val.map_or(0, |(vx, _)| vx.len() / n_in);
    let restarts = cfg.train.restarts;
    let local_batch = cfg.train.batch_size.min(rows);
    let state = (|| -> Result<RankState> {
        let d = net.num_weights();
        let mut order = Vec::new();
        order
            .try_reserve_exact(rows)
            .map_err(|_| Error::OutOfMemory(format!("cannot allocate the order of {rows} rows")))?;
        order.extend(0..rows);
        Ok(RankState {
            bp: Backprop::new(net)?,
            trainer: if use_gemm(net, local_batch) {
                Some(BatchTrainer::new(net, local_batch, 1)?)
            } else {
                None
            },
            grad: try_zeroed(d, "the gradient")?,
            order,
            snapshot: try_zeroed(d, "the weight snapshot")?,
            best: try_zeroed(d, "the best weights")?,
            kept: try_zeroed(if restarts > 0 { d } else { 0 }, "the best run's weights")?,
            eval: Evaluator::new(net, 1, usize::MAX)?,
        })
    })();
    collective.agree(state.as_ref().map(|_| ()).map_err(Clone::clone))?;
    let mut st = state.expect("agreed");

    // the row counts of every rank: [training..., validation...]
    let p = collective.size();
    let me = collective.rank();
    let mut counts = vec![0u64; 2 * p];
    counts[me] = rows as u64;
    counts[p + me] = val_rows as u64;
    collective.allreduce_max(&mut counts);
    let total_rows: u64 = counts[..p].iter().sum();
    let total_val: u64 = counts[p..].iter().sum();
    if total_rows == 0 {
        return Err(Error::InvalidArgument("no rank holds training rows".into()));
    }
    // the resumable checkpoint: rank 0 checks its path; the identity comes from values every
    // rank holds alike
    let saver = match &cfg.train.checkpoint {
        None => None,
        Some(ck) => {
            collective.agree(if me == 0 {
                check_path(&ck.path)
            } else {
                Ok(())
            })?;
            let mut prints = vec![0u64; 2 * p];
            prints[me] = pair_fingerprint(x, y);
            prints[p + me] = val.map_or(0, |(vx, vy)| pair_fingerprint(vx, vy));
            collective.allreduce_max(&mut prints);
            let mut c = config_identity(net, &cfg.train)?;
            c.put_u64("ranks", p as u64)?;
            c.put_u64("rows", total_rows)?;
            c.put_u64("inputs", n_in as u64)?;
            c.put_u64("outputs", net.num_outputs() as u64)?;
            c.put_u64("validation_rows", total_val)?;
            c.put_u64s("rank_rows", &counts[..p])?;
            c.put_u64s("rank_validation_rows", &counts[p..])?;
            c.put_u64s("training_data", &prints[..p])?;
            c.put_u64s("validation_data", &prints[p..])?;
            c.put_u64(
                "optimizer_state",
                u64::from(update.checkpoint_state().is_some()),
            )?;
            Some(Saver {
                path: ck.path.clone(),
                every: ck.every,
                identity: c,
            })
        }
    };
    let offset: usize = counts[..me].iter().map(|&n| n as usize).sum();
    let restored = match (&saver, resume) {
        (Some(s), true) => {
            // rank 0 reads the file and sends its bytes (a flag first: whether it exists)
            let read = if me == 0 {
                match std::fs::metadata(&s.path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    _ => Checkpoint::load(&s.path)
                        .and_then(|c| c.to_bytes())
                        .map(Some),
                }
            } else {
                Ok(None)
            };
            collective.agree(read.as_ref().map(|_| ()).map_err(Clone::clone))?;
            let read = read.expect("agreed");
            let mut exists = [u8::from(read.is_some())];
            collective.broadcast(0, &mut exists);
            let mut bytes = read.unwrap_or_default();
            broadcast_bytes(collective, 0, &mut bytes);
            if exists[0] == 1 {
                let r = (|| {
                    let c = Checkpoint::from_bytes(&bytes)?;
                    c.check_fields(&s.identity)?;
                    let mut r = restore(
                        &c,
                        net,
                        &cfg.train,
                        total_rows as usize,
                        update.checkpoint_state().is_some(),
                        &format!("order_rng_{me}"),
                    )?;
                    if let Some(s) = &mut r.running {
                        let mine = &s.order[offset..offset + rows];
                        if mine.iter().any(|&i| i >= rows) {
                            return Err(Error::Format(format!(
                                "inconsistent checkpoint: the sample order of rank {me} \
                                 names a row beyond its {rows} rows"
                            )));
                        }
                        s.order = mine.to_vec();
                        update.reset();
                        if let Some((t, s1, s2)) = &s.optimizer {
                            update.restore_checkpoint_state(*t, s1, s2)?;
                        }
                    }
                    Ok(r)
                })();
                collective.agree(r.as_ref().map(|_| ()).map_err(Clone::clone))?;
                Some(r.expect("agreed"))
            } else {
                None
            }
        }
        _ => None,
    };
    let b = cfg.train.batch_size;
    let ctx = RunContext {
        x,
        y,
        val,
        counts: &counts[..p],
        total_rows,
        total_val,
        steps_per_epoch: counts[..p]
            .iter()
            .map(|&n| (n as usize).div_ceil(b))
            .max()
            .unwrap_or(0),
        offset,
        saver: saver.as_ref(),
        cfg,
    };
    let score = |r: &TrainReport| {
        if total_val > 0 {
            r.validation_error
        } else {
            r.train_error
        }
    };
    let mut totals = RunTotals::default();
    let mut best: Option<TrainReport> = None;
    let mut stopped = false;
    let mut first_run = 0;
    let mut continued = None;
    if let Some(r) = restored {
        let (first, position, report) =
            r.apply(net.weights_mut(), &mut st.order, &mut st.best, &mut st.kept);
        first_run = first;
        continued = position;
        best = report;
    }
    for run in first_run..=restarts {
        let pos = match continued.take() {
            Some(pos) => pos,
            None => {
                if run > 0 {
                    fill_uniform(
                        net.weights_mut(),
                        restart_seed(cfg.train.seed, run),
                        cfg.train.init_range,
                    );
                }
                // run 0 draws from the streams 2 rank + 1; one rank draws as Network::train
                st.order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
                update.reset();
                RunPosition {
                    run,
                    epoch: 0,
                    rng: SeededRng::new(
                        cfg.train.seed,
                        2 * (u64::from(run) * p as u64 + me as u64) + 1,
                    ),
                    history: Vec::new(),
                    best_val: f64::INFINITY,
                    best_epoch: 0,
                    since_best: 0,
                }
            }
        };
        let best_score = best.as_ref().map_or(f64::INFINITY, score);
        let (report, ended) = ctx.run(
            net,
            &mut st,
            collective,
            &mut update,
            &mut on_epoch,
            pos,
            (best_score, best.as_ref()),
            &mut totals,
        )?;
        stopped = report.stopped_by_callback;
        if best.is_none() || score(&report) < best_score {
            if restarts > 0 {
                st.kept.copy_from_slice(net.weights());
            }
            best = Some(TrainReport {
                stopped_by_callback: false,
                ..report
            });
        }
        if let (Some(s), true) = (&saver, ended) {
            let saved = if me == 0 {
                (|| {
                    let mut c = s.identity.clone();
                    c.put_str("phase", "run_done")?;
                    c.put_u64("run", u64::from(run))?;
                    c.put_f32s("weights", net.weights())?;
                    put_kept(&mut c, &st.kept, best.as_ref())?;
                    c.save(&s.path)
                })()
            } else {
                Ok(())
            };
            collective.agree(saved)?;
        }
        if stopped {
            break;
        }
    }
    if restarts > 0 {
        net.weights_mut().copy_from_slice(&st.kept);
        // a later, worse run may have written its epochs before it ended: the file ends with
        // the kept network
        if let Some(path) = cfg.checkpoint
            && totals.saved != Some(fingerprint(net.weights()))
        {
            let saved = if me == 0 { net.save(path) } else { Ok(()) };
            collective.agree(saved)?;
        }
    }
    let mut report = best.expect("at least one run");
    report.stopped_by_callback = stopped;
    Ok(DistributedReport {
        report,
        steps: totals.steps,
        step_seconds: totals.step_seconds,
        allreduce_seconds: totals.allreduce_seconds,
    })
}

/// The data, counts and settings of a training call, the same for all its runs.
struct RunContext<'a> {
    x: &'a [f32],
    y: &'a [f32],
    val: Option<(&'a [f32], &'a [f32])>,
    /// The training rows of every rank.
    counts: &'a [u64],
    total_rows: u64,
    total_val: u64,
    steps_per_epoch: usize,
    /// This rank's first row in the global row numbering (rank 0's rows first).
    offset: usize,
    saver: Option<&'a Saver>,
    cfg: &'a DistributedConfig<'a>,
}

/// What the runs of a training call add up: steps, times, and the fingerprint of the weights
/// the checkpoint file holds.
#[derive(Default)]
struct RunTotals {
    steps: u64,
    step_seconds: f64,
    allreduce_seconds: f64,
    saved: Option<u64>,
}

impl RunContext<'_> {
    /// Writes the resumable checkpoint of a running run, if there is one (collective: rank 0
    /// gathers every rank's sample order and generator, then writes the file).
    fn save_running<C, U>(
        &self,
        net: &Network,
        st: &RankState,
        collective: &C,
        update: &U,
        pos: &RunPosition,
        kept: Option<&TrainReport>,
    ) -> Result<()>
    where
        C: Collective + ?Sized,
        U: Update,
    {
        let Some(saver) = self.saver else {
            return Ok(());
        };
        let (p, me) = (collective.size(), collective.rank());
        let rows = st.order.len();
        let mut order = vec![0u64; self.total_rows as usize];
        for (o, &i) in order[self.offset..self.offset + rows]
            .iter_mut()
            .zip(&st.order)
        {
            *o = i as u64;
        }
        collective.allreduce_max(&mut order);
        const W: usize = RngState::BYTES / 8;
        let mut rngs = vec![0u64; W * p];
        let state = pos.rng.state().to_bytes();
        for (k, w) in state.chunks_exact(8).enumerate() {
            rngs[me * W + k] = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        }
        collective.allreduce_max(&mut rngs);
        let saved = if me == 0 {
            (|| {
                let mut c = saver.identity.clone();
                c.put_str("phase", "running")?;
                c.put_u64("run", u64::from(pos.run))?;
                c.put_u64("epoch", u64::from(pos.epoch))?;
                c.put_f32s("weights", net.weights())?;
                put_kept(&mut c, &st.kept, kept)?;
                c.put_u64s("order", &order)?;
                for r in 0..p {
                    let bytes: Vec<u8> = rngs[r * W..(r + 1) * W]
                        .iter()
                        .flat_map(|w| w.to_le_bytes())
                        .collect();
                    c.put_bytes(&format!("order_rng_{r}"), &bytes)?;
                }
                put_history(&mut c, "", &pos.history)?;
                c.put_f64("best_validation_error", pos.best_val)?;
                c.put_u64("best_epoch", u64::from(pos.best_epoch))?;
                c.put_u64("since_best", u64::from(pos.since_best))?;
                c.put_f32s("best_weights", &st.best)?;
                if let Some((t, s1, s2)) = update.checkpoint_state() {
                    c.put_u64("optimizer_t", t)?;
                    c.put_f32s("optimizer_s1", s1)?;
                    c.put_f32s("optimizer_s2", s2)?;
                }
                c.save(&saver.path)
            })()
        } else {
            Ok(())
        };
        collective.agree(saved)
    }

    /// The rest of a run of at most `epochs` epochs from the network's current weights and
    /// `pos` (the order and the update's state set for it). The model file is written for a
    /// kept epoch that beats `best.0`, the score of the earlier runs, whose best report is
    /// `best.1`. Returns the run's report and whether the run ended by itself (all epochs, or
    /// early stopping).
    #[allow(clippy::too_many_arguments)]
    fn run<C, U, F>(
        &self,
        net: &mut Network,
        st: &mut RankState,
        collective: &C,
        update: &mut U,
        on_epoch: &mut F,
        mut pos: RunPosition,
        (best_score, kept): (f64, Option<&TrainReport>),
        totals: &mut RunTotals,
    ) -> Result<(TrainReport, bool)>
    where
        C: Collective + ?Sized,
        U: Update,
        F: FnMut(&EpochInfo, &Network) -> ControlFlow<()>,
    {
        let cfg = &self.cfg.train;
        let (x, y, val) = (self.x, self.y, self.val);
        let me = collective.rank();
        let b = cfg.batch_size;
        let eta = cfg.learning_rate;
        let reg = cfg.regularization;
        let n_in = net.num_inputs();
        let n_out = net.num_outputs();
        let rows = st.order.len();
        let mut stopped = false;
        let mut ended = false;
        for epoch in pos.epoch + 1..=cfg.epochs {
            st.snapshot.copy_from_slice(net.weights());
            let rate = cfg.schedule.rate(eta, epoch - 1, cfg.epochs);
            match cfg.order {
                Order::Sequential => {}
                Order::Shuffle => pos.rng.shuffle(&mut st.order),
                Order::RandomPick => {
                    for v in st.order.iter_mut() {
                        *v = pos.rng.below(rows);
                    }
                }
            }
            let mut result = Ok(());
            for s in 0..self.steps_per_epoch {
                let t0 = Instant::now();
                let lo = (s * b).min(rows);
                let hi = (lo + b).min(rows);
                let batch = &st.order[lo..hi];
                match &mut st.trainer {
                    Some(t) => {
                        t.gradient(net, 1, x, y, batch, 1.0, &mut st.grad);
                    }
                    _ => {
                        st.grad.fill(0.0);
                        for &i in batch {
                            let xr = &x[i * n_in..(i + 1) * n_in];
                            let yr = &y[i * n_out..(i + 1) * n_out];
                            st.bp.forward_output_delta(net, xr, yr);
                            st.bp.backward(net);
                            st.bp.accumulate(net, &mut st.grad, 1.0);
                        }
                    }
                }
                let t1 = Instant::now();
                collective.allreduce_sum(&mut st.grad);
                totals.allreduce_seconds += t1.elapsed().as_secs_f64();
                let global_batch: u64 = self
                    .counts
                    .iter()
                    .map(|&n| (n as usize).saturating_sub(s * b).min(b) as u64)
                    .sum();
                let inv = 1.0 / global_batch as f32;
                for g in &mut st.grad {
                    *g *= inv;
                }
                add_regularizer_gradient(net, &reg, &mut st.grad);
                result = update.step(net.weights_mut(), &st.grad, rate);
                totals.steps += 1;
                totals.step_seconds += t0.elapsed().as_secs_f64();
                if result.is_err() {
                    break;
                }
            }
            if let Err(e) = result {
                net.weights_mut().copy_from_slice(&st.snapshot);
                return Err(e);
            }
            // the error sums of this rank, then of all ranks
            let finite = check_finite(net.weights(), "weights").is_ok();
            let mut sums = [f64::NAN, 0.0];
            if finite {
                st.eval.load(net);
                sums[0] = error_sum(&mut st.eval, net, x, y);
                if let Some((vx, vy)) = val {
                    sums[1] = error_sum(&mut st.eval, net, vx, vy);
                }
            }
            collective.allreduce_sum_f64(&mut sums);
            if !collective.all_equal(fingerprint(net.weights())) {
                net.weights_mut().copy_from_slice(&st.snapshot);
                return Err(Error::Diverged(format!(
                    "the ranks hold different weights after epoch {epoch}: the allreduce did \
                     not give every rank the same sums"
                )));
            }
            let train_error = sums[0] / self.total_rows as f64;
            if !train_error.is_finite() {
                net.weights_mut().copy_from_slice(&st.snapshot);
                return Err(Error::Diverged(format!(
                    "the loss or a weight became non-finite in epoch {epoch} (learning rate \
                     {eta}); the network keeps the weights from before that epoch"
                )));
            }
            let validation_error = if self.total_val > 0 {
                sums[1] / self.total_val as f64
            } else {
                f64::NAN
            };
            let info = EpochInfo {
                epoch,
                train_error,
                validation_error,
            };
            pos.history.push(info);
            pos.epoch = epoch;
            let keep = if self.total_val > 0 {
                if validation_error < pos.best_val {
                    pos.best_val = validation_error;
                    pos.best_epoch = epoch;
                    pos.since_best = 0;
                    st.best.copy_from_slice(net.weights());
                    validation_error < best_score
                } else {
                    pos.since_best += 1;
                    false
                }
            } else {
                pos.best_epoch = epoch;
                train_error < best_score
            };
            if let (Some(path), true) = (self.cfg.checkpoint, keep) {
                let saved = if me == 0 { net.save(path) } else { Ok(()) };
                collective.agree(saved)?;
                totals.saved = Some(fingerprint(net.weights()));
            }
            let mut stop = [u64::from(on_epoch(&info, net).is_break())];
            collective.allreduce_max(&mut stop);
            stopped = stop[0] != 0;
            ended = epoch == cfg.epochs || (cfg.patience > 0 && pos.since_best >= cfg.patience);
            if let Some(saver) = self.saver
                && !ended
                && (stopped || epoch % saver.every == 0)
            {
                self.save_running(net, st, collective, update, &pos, kept)?;
            }
            if stopped || ended {
                break;
            }
        }
        let (history, mut best_epoch) = (pos.history, pos.best_epoch);
        if self.total_val > 0 && best_epoch > 0 {
            net.weights_mut().copy_from_slice(&st.best);
        }
        let epochs_run = history.len() as u32;
        let h = if best_epoch > 0 {
            history[best_epoch as usize - 1]
        } else {
            let h = history[history.len() - 1];
            best_epoch = h.epoch;
            h
        };
        let report = TrainReport {
            epochs_run,
            best_epoch,
            train_error: h.train_error,
            validation_error: h.validation_error,
            history,
            run: pos.run,
            stopped_by_callback: stopped,
        };
        Ok((report, ended))
    }
}

/// The summed (not mean) squared error of scaled rows, 0 for no rows.
fn error_sum(eval: &mut Evaluator, net: &Network, x: &[f32], y: &[f32]) -> f64 {
    let rows = x.len() / net.num_inputs();
    if rows == 0 {
        return 0.0;
    }
    eval.mean_error(net, None, x, y) * rows as f64
}

#[cfg(feature = "mpi")]
mod mpi_impl {
    use std::cell::RefCell;
    use std::ffi::{c_int, c_void};

    use mpi::collective::SystemOperation;
    use mpi::ffi;
    use mpi::raw::AsRaw;
    use mpi::topology::{Communicator, SimpleCommunicator};
    use mpi::traits::{CommunicatorCollectives, Root};

    use super::Collective;

    /// Elements per `MPI_Allreduce` call (its count is a C `int`).
    const MAX_COUNT: usize = 1 << 30;

    /// [`Collective`] over an MPI communicator (usually `universe.world()`).
    ///
    /// The gradient sum is one `MPI_Allreduce` with `MPI_IN_PLACE` on the gradient buffer.
    /// The `mpi` crate does not export `MPI_IN_PLACE` (a C macro), so its value comes from the
    /// ABI of the library in use: `(void *) 1` in Open MPI, `(void *) -1` in MPICH and its
    /// derivatives. With another library the sum goes through a send copy allocated once.
    pub struct Mpi {
        comm: SimpleCommunicator,
        in_place: Option<*const c_void>,
        send: RefCell<Vec<f32>>,
    }

    impl std::fmt::Debug for Mpi {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Mpi")
                .field("rank", &self.comm.rank())
                .field("size", &self.comm.size())
                .field("in_place", &self.in_place.is_some())
                .finish()
        }
    }

    impl Mpi {
        /// The ranks of `comm`.
        pub fn new(comm: SimpleCommunicator) -> Mpi {
            let lib = mpi::environment::library_version().unwrap_or_default();
            let in_place = if lib.starts_with("Open MPI") {
                Some(std::ptr::without_provenance::<c_void>(1))
            } else if lib.contains("MPICH") {
                Some(std::ptr::without_provenance::<c_void>(usize::MAX))
            } else {
                None
            };
            Mpi {
                comm,
                in_place,
                send: RefCell::new(Vec::new()),
            }
        }

        /// Whether the gradient sum runs in place (no send copy).
        pub fn in_place(&self) -> bool {
            self.in_place.is_some()
        }

        /// The communicator.
        pub fn communicator(&self) -> &SimpleCommunicator {
            &self.comm
        }
    }

    impl Collective for Mpi {
        fn rank(&self) -> usize {
            self.comm.rank() as usize
        }

        fn size(&self) -> usize {
            self.comm.size() as usize
        }

        fn allreduce_sum(&self, buf: &mut [f32]) {
            let Some(in_place) = self.in_place else {
                let mut send = self.send.borrow_mut();
                send.clear();
                send.extend_from_slice(buf);
                for (s, r) in send.chunks(MAX_COUNT).zip(buf.chunks_mut(MAX_COUNT)) {
                    self.comm.all_reduce_into(s, r, SystemOperation::sum());
                }
                return;
            };
            for part in buf.chunks_mut(MAX_COUNT) {
                // SAFETY: `part` is a live, exclusive buffer of `part.len()` floats
                // (<= 2^30, fits a C int); `in_place` is the library's MPI_IN_PLACE, so MPI
                // reads and writes only `part`; the datatype, operation and communicator
                // handles are valid for the life of `self` (MPI is initialized while the
                // communicator exists).
                unsafe {
                    ffi::MPI_Allreduce(
                        in_place,
                        part.as_mut_ptr().cast::<c_void>(),
                        part.len() as c_int,
                        ffi::RSMPI_FLOAT,
                        ffi::RSMPI_SUM,
                        self.comm.as_raw(),
                    );
                }
            }
        }

        fn allreduce_sum_f64(&self, buf: &mut [f64]) {
            let send = buf.to_vec();
            self.comm
                .all_reduce_into(&send[..], buf, SystemOperation::sum());
        }

        fn allreduce_max(&self, buf: &mut [u64]) {
            let send = buf.to_vec();
            self.comm
                .all_reduce_into(&send[..], buf, SystemOperation::max());
        }

        fn broadcast(&self, root: usize, buf: &mut [u8]) {
            self.comm.process_at_rank(root as i32).broadcast_into(buf);
        }
    }
}
