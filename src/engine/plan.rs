//! The one place that chooses how a training call runs: the path, the batch, the threads,
//! and where work is split over them. Every threshold of the engine is here.

use std::fmt;

use rayon::ThreadPool;

use super::config::TrainConfig;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::optim::Optimizer;

/// How the steps of a training call are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainPath {
    /// Per-sample SGD without a regularizer: a whole epoch in one call of the kernel set's
    /// fused pass (backward products fused with the updates, the first layer's update with
    /// the next sample's forward product; small networks held in registers).
    FusedSgd,
    /// Per-sample steps with a regularizer or an optimizer other than SGD: layer by layer, the
    /// backward product, the regularizer's step and the update.
    PerSample,
    /// Mini-batches as a sum of per-sample gradients (rank-1 updates), then one update.
    Accumulated,
    /// Mini-batches as matrix products over chunks of rows, on the worker pool (plain SGD with
    /// its update fused into the weight-gradient products; every other optimizer through its
    /// state step on the mean gradient that the products write).
    Gemm,
}

impl TrainPath {
    /// A short name: "fused-sgd", "per-sample", "accumulated" or "gemm".
    pub fn name(self) -> &'static str {
        match self {
            TrainPath::FusedSgd => "fused-sgd",
            TrainPath::PerSample => "per-sample",
            TrainPath::Accumulated => "accumulated",
            TrainPath::Gemm => "gemm",
        }
    }
}

/// What [`Network::train`] will do with a configuration and a training set of `rows` rows
/// (see [`Network::train_plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrainPlan {
    /// How every step is computed.
    pub path: TrainPath,
    /// Rows per step: the batch size, at most the number of rows.
    pub batch: usize,
    /// Worker threads (the configured count clamped to the machine, at least 1).
    pub threads: usize,
    /// Whether a full step is spread over the workers (else it runs on one thread).
    pub parallel_steps: bool,
    /// Whether the per-epoch evaluation of `E_in` is spread over the workers.
    pub parallel_evaluation: bool,
}

impl fmt::Display for TrainPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            "path={} batch={} threads={} parallel_steps={} parallel_evaluation={}",
            self.path.name(),
            self.batch,
            self.threads,
            yes(self.parallel_steps),
            yes(self.parallel_evaluation)
        )
    }
}

/// Batches of fewer rows than this accumulate per-sample rank-1 updates (measurements in the
/// doc of [`Network::train_plan`]).
const GEMM_MIN_BATCH: usize = 3;

/// Batches whose `rows * D` (row-weight products of one step) stay below this accumulate
/// per-sample rank-1 updates: for tiny networks (e.g. 3-5-1, D = 26, up to batches of 39 rows)
/// the packing and the chunk bookkeeping of the matrix products outweigh the products
/// (measurements in the doc of [`Network::train_plan`]).
const GEMM_MIN_WORK: usize = 1024;

/// Batches whose activations would take more than this many floats (2^26, 256 MiB) accumulate
/// per-sample updates: the matrix-product path holds every row of a batch at once.
const GEMM_MAX_BATCH_FLOATS: usize = 1 << 26;

/// Below this many row-weight products (`rows * D`) a step or an evaluation runs on the
/// calling thread: a fork-join would cost more than it saves. (Where work runs never changes a
/// result.)
const PARALLEL_MIN_WORK: usize = 200_000;

/// From this many rows on, prediction runs as matrix products over chunks of rows (in parallel
/// on the current rayon pool, with buffers kept per calling thread for its next prediction);
/// fewer rows go one by one through the matrix-vector kernels.
const PREDICT_BATCH_MIN_ROWS: usize = 8;

/// The machine's available parallelism (1 when unknown).
fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The worker count for a configured `threads`: 0 is one per available core; more than the
/// available parallelism is clamped to it (the results do not depend on the count, so the clamp
/// changes only speed, and an absurd count such as 10000 cannot exhaust the machine).
pub(crate) fn worker_threads(threads: usize) -> usize {
    let avail = available_threads();
    if threads == 0 {
        avail
    } else {
        threads.min(avail)
    }
}

/// A rayon pool of [`worker_threads`]`(threads)` workers.
pub(crate) fn build_pool(threads: usize) -> Result<ThreadPool> {
    let n = worker_threads(threads);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| Error::OutOfMemory(format!("cannot start {n} worker threads: {e}")))
}

/// Whether work of `rows * weights` row-weight products is worth spreading over `threads`.
pub(crate) fn parallel_work(threads: usize, rows: usize, weights: usize) -> bool {
    threads > 1 && rows.saturating_mul(weights) >= PARALLEL_MIN_WORK
}

/// Whether a prediction of `rows` rows runs as batched matrix products.
pub(crate) fn predict_batched(rows: usize) -> bool {
    rows >= PREDICT_BATCH_MIN_ROWS
}

/// Whether batches of `batch` rows of `net` take the matrix-product path (also the choice of
/// a rank's gradient sum in data-parallel training).
pub(crate) fn use_gemm(net: &Network, batch: usize) -> bool {
    let layers = net.layers();
    let row_floats: usize =
        layers.iter().map(|d| d + 1).sum::<usize>() + layers[1..].iter().sum::<usize>();
    batch >= GEMM_MIN_BATCH
        && batch.saturating_mul(net.num_weights()) >= GEMM_MIN_WORK
        && batch.saturating_mul(row_floats) <= GEMM_MAX_BATCH_FLOATS
}

impl Network {
    /// How [`Network::train`] runs `cfg` on a training set of `rows` rows: the path of every
    /// step, the batch, the worker threads and whether steps and evaluations are split over
    /// them. Training with the same configuration follows exactly this plan.
    ///
    /// The thresholds (constants of `engine::plan`):
    /// - batch size 1 is per-sample SGD: the fused pass without a regularizer, the layer-by-
    ///   layer step with one (the regularizer's step runs between a layer's backward product
    ///   and its update);
    /// - batches of at least 3 rows with `batch * D >= 1024` and at most 2^26 activation
    ///   floats run as matrix products; smaller ones accumulate per-sample rank-1 updates
    ///   (below `batch * D = 1024` the accumulation was measured faster when the matrix-product
    ///   path was added). Rates at the boundaries, `examples/throughput --threads 1 --epochs 3
    ///   --rows 10000` (samples/s, AMD EPYC Zen 4, AVX-512, 2 shared vCPU under heavy other
    ///   load, so +-50 % noise between runs): 3-5-1 (D = 26) at batch 39 (accumulated)
    ///   6.3-9.1 M, at batch 40 (matrix products) 4.7-6.6 M; 64-128-128-1 (D = 25 089) at
    ///   batch 2 (accumulated) 64-75 k, at batch 3 (matrix products) 46-61 k. Re-measure on
    ///   an idle machine (`--layers 64-128-128-1 --batch 2` and `--batch 3`) before moving
    ///   `GEMM_MIN_BATCH`;
    /// - a step or an evaluation of `rows * D >= 200 000` row-weight products is spread over
    ///   the workers (below, a fork-join costs more than the work);
    /// - an optimizer other than SGD (SPEC section 6) takes the per-sample step at batch
    ///   size 1 (the fused pass applies plain SGD inside its kernel), and mini-batches
    ///   (iRPROP-'s full batches too) take the same matrix-product or accumulated path as
    ///   SGD by the thresholds above; each step consumes the optimizer's gradient through one
    ///   state step;
    /// - `threads` 0 is one worker per core; more than the available parallelism is clamped
    ///   to it.
    ///
    /// ```
    /// use nnet::{Network, Output, TrainConfig, TrainPath};
    /// let net = Network::new(&[64, 128, 1], Output::Linear, 1, 0.1).unwrap();
    /// let cfg = TrainConfig { batch_size: 32, threads: 1, ..TrainConfig::default() };
    /// let plan = net.train_plan(&cfg, 1000);
    /// assert_eq!(plan.path, TrainPath::Gemm);
    /// assert_eq!((plan.batch, plan.threads), (32, 1));
    /// let sgd = net.train_plan(&TrainConfig::default(), 1000);
    /// assert_eq!(sgd.path, TrainPath::FusedSgd);
    /// ```
    pub fn train_plan(&self, cfg: &TrainConfig, rows: usize) -> TrainPlan {
        let batch = cfg.batch_size.min(rows).max(1);
        let sgd = cfg.optimizer == Optimizer::Sgd;
        let path = if cfg.batch_size == 1 {
            if cfg.regularization.is_active() || !sgd {
                TrainPath::PerSample
            } else {
                TrainPath::FusedSgd
            }
        } else if use_gemm(self, batch) {
            TrainPath::Gemm
        } else {
            TrainPath::Accumulated
        };
        let threads = worker_threads(cfg.threads);
        let d = self.num_weights();
        TrainPlan {
            path,
            batch,
            threads,
            parallel_steps: path == TrainPath::Gemm && parallel_work(threads, batch, d),
            parallel_evaluation: parallel_work(threads, rows, d),
        }
    }
}
