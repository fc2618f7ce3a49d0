//! Training: stochastic and mini-batch gradient descent, early stopping, restarts.

use std::ops::ControlFlow;

use crate::error::{Error, Result, try_zeroed};
use crate::gradient::{Backprop, check_xy, scaled_copies};
use crate::kernels::sgd::SgdPass;
use crate::minibatch::{BatchTrainer, Evaluator, build_pool};
use crate::network::{Network, Output, fill_uniform};
use crate::regularization::Regularization;
use crate::rng::SeededRng;

/// The order in which an epoch visits the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// A new random permutation every epoch (the default).
    #[default]
    Shuffle,
    /// Rows in order, every epoch.
    Sequential,
    /// N rows drawn uniformly with replacement (the lecture's "randomly pick n").
    RandomPick,
}

impl Order {
    /// The C ABI value (`NNET_ORDER_*`).
    pub fn to_u32(self) -> u32 {
        match self {
            Order::Shuffle => 0,
            Order::Sequential => 1,
            Order::RandomPick => 2,
        }
    }

    /// Parses the C ABI value; any other value is an error.
    pub fn from_u32(v: u32) -> Result<Order> {
        match v {
            0 => Ok(Order::Shuffle),
            1 => Ok(Order::Sequential),
            2 => Ok(Order::RandomPick),
            _ => Err(Error::InvalidArgument(format!(
                "unknown sample order {v} (expected 0 = shuffle, 1 = sequential, 2 = random pick)"
            ))),
        }
    }
}

/// Settings for [`Network::train`]. `TrainConfig::default()` gives a working starting point.
///
/// ```
/// use nnet::{TrainConfig, Regularization};
/// let cfg = TrainConfig {
///     learning_rate: 0.05,
///     epochs: 20,
///     batch_size: 8,
///     regularization: Regularization::l2(1e-4),
///     ..TrainConfig::default()
/// };
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The step size eta; finite and > 0. Default 0.01.
    pub learning_rate: f32,
    /// The maximum number of epochs; >= 1. Default 100.
    pub epochs: u32,
    /// Samples per update; >= 1. 1 is per-sample SGD; the training-set size is full-batch
    /// gradient descent. Default 1.
    pub batch_size: usize,
    /// The sample order. Default [`Order::Shuffle`].
    pub order: Order,
    /// The regularizer of `E_aug`. Default none.
    pub regularization: Regularization,
    /// Early stopping: stop after this many epochs without a better validation error; 0 runs
    /// every epoch. Default 0.
    pub patience: u32,
    /// Extra random restarts: `k` trains `k+1` networks and keeps the best. Default 0.
    pub restarts: u32,
    /// Seeds the sample order and the restarts' initialization. Default 0.
    pub seed: u64,
    /// The initialization range r of the restarts; finite and >= 0. Default 0.1.
    pub init_range: f32,
    /// Worker threads for mini-batches; 0 uses every core. Results do not depend on it.
    /// Default 0.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 0.01,
            epochs: 100,
            batch_size: 1,
            order: Order::Shuffle,
            regularization: Regularization::default(),
            patience: 0,
            restarts: 0,
            seed: 0,
            init_range: 0.1,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// Errors on a learning rate that is not finite and > 0, zero epochs or batch size, a bad
    /// regularizer, or a negative or non-finite init range.
    pub fn validate(&self) -> Result<()> {
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "learning rate must be finite and > 0, got {}",
                self.learning_rate
            )));
        }
        if self.epochs == 0 {
            return Err(Error::InvalidArgument("epochs must be >= 1, got 0".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidArgument(
                "batch size must be >= 1, got 0".into(),
            ));
        }
        if !self.init_range.is_finite() || self.init_range < 0.0 {
            return Err(Error::InvalidArgument(format!(
                "init_range must be finite and >= 0, got {}",
                self.init_range
            )));
        }
        self.regularization.validate()
    }
}

/// What one epoch measured; passed to the per-epoch callback and kept in the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochInfo {
    /// 1-based epoch number.
    pub epoch: u32,
    /// `E_in` of the weights after this epoch.
    pub train_error: f64,
    /// `E_val` after this epoch; NaN without a validation set.
    pub validation_error: f64,
}

/// The outcome of [`Network::train`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Epochs run (of the run that was kept, when restarting).
    pub epochs_run: u32,
    /// The epoch whose weights the network holds (the best validation epoch with a validation
    /// set, else the last).
    pub best_epoch: u32,
    /// `E_in` of the weights the network ends with.
    pub train_error: f64,
    /// `E_val` of those weights; NaN without a validation set.
    pub validation_error: f64,
    /// Per-epoch errors of the kept run.
    pub history: Vec<EpochInfo>,
    /// Which run was kept: 0 is the given weights, `r >= 1` the r-th restart.
    pub run: u32,
    /// Whether the callback stopped training.
    pub stopped_by_callback: bool,
}

/// The seed of restart `run`'s initialization.
fn restart_seed(seed: u64, run: u32) -> u64 {
    seed ^ (0xA076_1D64_78BD_642F_u64.wrapping_mul(run as u64 + 1))
}

/// A training set (and optional validation set) after checks and scaling.
struct Sets<'a> {
    x: &'a [f32],
    y: &'a [f32],
    val: Option<(&'a [f32], &'a [f32])>,
}

/// Whether batches of `batch` rows take the matrix-product path. Smaller batches, and small
/// batches of tiny networks, accumulate per-sample rank-1 updates, which measure faster there;
/// so do batches whose activations would take more than 2^26 floats (256 MiB), since the
/// matrix-product path holds every row of a batch at once.
fn use_gemm(net: &Network, batch: usize) -> bool {
    let layers = net.layers();
    let row_floats: usize =
        layers.iter().map(|d| d + 1).sum::<usize>() + layers[1..].iter().sum::<usize>();
    batch >= 3
        && batch.saturating_mul(net.num_weights()) >= 1024
        && batch.saturating_mul(row_floats) <= 1 << 26
}

/// Buffers of one training run, allocated once.
struct Trainer {
    bp: Backprop,
    grad: Vec<f32>,
    order: Vec<usize>,
    snapshot: Vec<f32>,
    best: Vec<f32>,
    batched: Option<Batched>,
}

/// The worker pool and the buffers of the batched paths (made by the first run: they depend
/// on the configuration).
struct Batched {
    pool: rayon::ThreadPool,
    eval: Evaluator,
    steps: Option<BatchTrainer>,
}

impl Batched {
    fn new(net: &Network, cfg: &TrainConfig, rows: usize) -> Result<Batched> {
        let pool = build_pool(cfg.threads)?;
        let threads = pool.current_num_threads();
        let batch = cfg.batch_size.min(rows);
        let steps = if use_gemm(net, batch) {
            Some(BatchTrainer::new(net, batch, threads)?)
        } else {
            None
        };
        Ok(Batched {
            // training and validation sets of any length
            eval: Evaluator::new(net, threads, usize::MAX)?,
            pool,
            steps,
        })
    }
}

impl Trainer {
    fn new(net: &Network, rows: usize) -> Result<Trainer> {
        let d = net.num_weights();
        let mut order = Vec::new();
        order
            .try_reserve_exact(rows)
            .map_err(|_| Error::OutOfMemory(format!("cannot allocate the order of {rows} rows")))?;
        order.extend(0..rows);
        Ok(Trainer {
            bp: Backprop::new(net)?,
            grad: try_zeroed(d, "the gradient")?,
            order,
            snapshot: try_zeroed(d, "the weight snapshot")?,
            best: try_zeroed(d, "the best weights")?,
            batched: None,
        })
    }

    /// One epoch of per-sample SGD over the rows in `self.order`; returns the sum of the
    /// sample errors (each before its step), or `None` as soon as one is not finite.
    ///
    /// Without a regularizer the whole epoch runs in one call of the kernel set's fused pass
    /// (`kernels::sgd`): backward products fused with the updates, the first layer's update
    /// fused with the next sample's forward product. With a regularizer, each layer's step
    /// runs between its backward product and its update, layer by layer ([`Self::sgd_step`]).
    fn sgd_epoch(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        eta: f32,
        reg: &Regularization,
    ) -> Result<Option<f64>> {
        let layers = net.layers().to_vec();
        let off = net.offsets().to_vec();
        if reg.is_active() {
            let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
            let mut sum = 0.0;
            for p in 0..self.order.len() {
                let i = self.order[p];
                let x = &sets.x[i * n_in..(i + 1) * n_in];
                let y = &sets.y[i * n_out..(i + 1) * n_out];
                let e = self.sgd_step(net, &layers, &off, x, y, eta, reg);
                if !e.is_finite() {
                    return Ok(None);
                }
                sum += e;
            }
            return Ok(Some(sum));
        }
        let mut next_input = try_zeroed(net.num_inputs() + 1, "the next input")?;
        next_input[0] = 1.0;
        let k = net.kernels();
        let tanh_output = net.output() == Output::Tanh;
        let mut pass = SgdPass {
            layers: &layers,
            offsets: &off,
            tanh_output,
            weights: net.weights_mut(),
            x: sets.x,
            y: sets.y,
            order: &self.order,
            eta,
            acts: &mut self.bp.fwd.acts,
            next_input: &mut next_input,
            deltas: &mut self.bp.deltas,
            z: &mut self.bp.z,
        };
        Ok(k.sgd_pass(&mut pass))
    }

    /// One per-sample SGD step with a regularizer; returns the sample's error before the step.
    #[allow(clippy::too_many_arguments)]
    fn sgd_step(
        &mut self,
        net: &mut Network,
        layers: &[usize],
        off: &[usize],
        x: &[f32],
        y: &[f32],
        eta: f32,
        reg: &Regularization,
    ) -> f64 {
        let e = self.bp.forward_output_delta(net, x, y);
        let k = net.kernels();
        let reg_on = reg.is_active();
        let w_all = net.weights_mut();
        for l in (1..layers.len()).rev() {
            let rows = layers[l - 1] + 1;
            let cols = layers[l];
            let w = &mut w_all[off[l - 1]..off[l]];
            let bp = &mut self.bp;
            if l >= 2 && !reg_on {
                k.matvec_t_rank1_unchecked(
                    w,
                    rows,
                    cols,
                    &bp.deltas[l - 1],
                    -eta,
                    &bp.fwd.acts[l - 1],
                    &mut bp.z,
                );
            } else {
                if l >= 2 {
                    k.matvec_t_unchecked(w, rows, cols, &bp.deltas[l - 1], &mut bp.z);
                }
                if reg_on {
                    let start = if reg.include_bias { 0 } else { cols };
                    reg.step(&mut w[start..], eta * reg.lambda);
                }
                k.rank1_update_unchecked(
                    w,
                    rows,
                    cols,
                    -eta,
                    &bp.fwd.acts[l - 1],
                    &bp.deltas[l - 1],
                );
            }
            if l >= 2 {
                bp.hidden_delta_from_z(l);
            }
        }
        e
    }

    /// One mini-batch step over the rows `batch`; returns the summed sample errors.
    fn batch_step(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        batch: &[usize],
        eta: f32,
        reg: &Regularization,
    ) -> f64 {
        let n_in = net.num_inputs();
        let n_out = net.num_outputs();
        self.grad.fill(0.0);
        let mut sum = 0.0;
        for &i in batch {
            let xr = &sets.x[i * n_in..(i + 1) * n_in];
            let yr = &sets.y[i * n_out..(i + 1) * n_out];
            sum += self.bp.forward_output_delta(net, xr, yr);
            self.bp.backward(net);
            self.bp.accumulate(net, &mut self.grad, 1.0);
        }
        let layers = net.layers().to_vec();
        let off = net.offsets().to_vec();
        let w_all = net.weights_mut();
        if reg.is_active() {
            for l in 1..layers.len() {
                let start = reg.layer_start(off[l - 1], layers[l]);
                reg.step(&mut w_all[start..off[l]], eta * reg.lambda);
            }
        }
        let alpha = -eta / batch.len() as f32;
        for (w, g) in w_all.iter_mut().zip(&self.grad) {
            *w += alpha * g;
        }
        sum
    }

    /// One run of at most `cfg.epochs` epochs from the network's current weights.
    fn run(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        cfg: &TrainConfig,
        run: u32,
        on_epoch: &mut dyn FnMut(&EpochInfo) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        let n_in = net.num_inputs();
        let rows = sets.x.len() / n_in;
        let eta = cfg.learning_rate;
        let reg = cfg.regularization;
        let mut rng = SeededRng::new(cfg.seed, 2 * run as u64 + 1);
        // taken for the run and put back at its end (an error ends training anyway)
        let mut batched = match self.batched.take() {
            Some(b) => b,
            None => Batched::new(net, cfg, rows)?,
        };
        let mut history = Vec::new();
        let mut best_val = f64::INFINITY;
        let mut best_epoch = 0u32;
        let mut since_best = 0u32;
        let mut stopped = false;
        for epoch in 1..=cfg.epochs {
            self.snapshot.copy_from_slice(net.weights());
            match cfg.order {
                Order::Sequential => {}
                Order::Shuffle => rng.shuffle(&mut self.order),
                Order::RandomPick => {
                    for v in self.order.iter_mut() {
                        *v = rng.below(rows);
                    }
                }
            }
            let mut finite = true;
            if cfg.batch_size == 1 {
                finite = self.sgd_epoch(net, sets, eta, &reg)?.is_some();
            } else if let Some(bt) = &mut batched.steps {
                bt.load(net);
                let threads = batched.pool.current_num_threads();
                let order = &self.order;
                let shared: &Network = net;
                let mut epoch = || {
                    order.chunks(cfg.batch_size).all(|batch| {
                        bt.step(shared, threads, sets.x, sets.y, batch, eta, &reg)
                            .is_finite()
                    })
                };
                // the whole epoch runs on a worker of the pool, which then spreads each step
                finite = if threads > 1 {
                    batched.pool.install(epoch)
                } else {
                    epoch()
                };
                bt.store(net);
            } else {
                let order = std::mem::take(&mut self.order);
                for batch in order.chunks(cfg.batch_size) {
                    if !self.batch_step(net, sets, batch, eta, &reg).is_finite() {
                        finite = false;
                        break;
                    }
                }
                self.order = order;
            }
            let train_error = if finite && net.weights().iter().all(|w| w.is_finite()) {
                batched.eval.load(net);
                batched
                    .eval
                    .mean_error(net, Some(&batched.pool), sets.x, sets.y)
            } else {
                f64::NAN
            };
            if !train_error.is_finite() {
                net.weights_mut().copy_from_slice(&self.snapshot);
                return Err(Error::Diverged(format!(
                    "the loss or a weight became non-finite in epoch {epoch} (learning rate {eta}); \
                     the network keeps the weights from before that epoch"
                )));
            }
            let validation_error = match sets.val {
                Some((vx, vy)) => batched.eval.mean_error(net, Some(&batched.pool), vx, vy),
                None => f64::NAN,
            };
            let info = EpochInfo {
                epoch,
                train_error,
                validation_error,
            };
            history.push(info);
            if sets.val.is_some() {
                if validation_error < best_val {
                    best_val = validation_error;
                    best_epoch = epoch;
                    since_best = 0;
                    self.best.copy_from_slice(net.weights());
                } else {
                    since_best += 1;
                }
            } else {
                best_epoch = epoch;
            }
            if on_epoch(&info).is_break() {
                stopped = true;
                break;
            }
            if cfg.patience > 0 && since_best >= cfg.patience {
                break;
            }
        }
        self.batched = Some(batched);
        let epochs_run = history.len() as u32;
        if sets.val.is_some() && best_epoch > 0 {
            net.weights_mut().copy_from_slice(&self.best);
        }
        let (train_error, validation_error) = if best_epoch > 0 {
            let h = history[best_epoch as usize - 1];
            (h.train_error, h.validation_error)
        } else {
            // a validation error that never improved on infinity: keep the last epoch
            let h = history[history.len() - 1];
            best_epoch = h.epoch;
            (h.train_error, h.validation_error)
        };
        Ok(TrainReport {
            epochs_run,
            best_epoch,
            train_error,
            validation_error,
            history,
            run,
            stopped_by_callback: stopped,
        })
    }
}

impl Network {
    /// Trains on row-major inputs `x` (`d(0)` per row) and targets `y` (`d(L)` per row), with
    /// an optional validation set `(inputs, targets)` for early stopping and for choosing among
    /// restarts.
    ///
    /// Errors on a bad configuration or shapes (nothing changes then), and with
    /// [`Error::Diverged`] when the loss or a weight becomes non-finite (the network then keeps
    /// the last finite weights).
    ///
    /// ```
    /// use nnet::{Network, Output, TrainConfig};
    /// // XOR on +-1 inputs with a 2-3-1 tanh network
    /// let x = [-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    /// let y = [-1.0, 1.0, 1.0, -1.0];
    /// let mut net = Network::new(&[2, 3, 1], Output::Tanh, 3, 1.0).unwrap();
    /// let cfg = TrainConfig { learning_rate: 0.1, epochs: 500, init_range: 1.0, restarts: 2,
    ///                         ..TrainConfig::default() };
    /// let report = net.train(&cfg, &x, &y, None).unwrap();
    /// assert!(report.train_error < 0.1);
    /// assert_eq!(net.classify(&x).unwrap(), y);
    /// ```
    pub fn train(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
    ) -> Result<TrainReport> {
        self.train_with_callback(cfg, x, y, validation, |_| ControlFlow::Continue(()))
    }

    /// [`Network::train`] with a callback after every epoch; returning `ControlFlow::Break(())`
    /// stops training (the report then says `stopped_by_callback`).
    pub fn train_with_callback(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        validation: Option<(&[f32], &[f32])>,
        mut on_epoch: impl FnMut(&EpochInfo) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        cfg.validate()?;
        check_xy(self, x, y, "training")?;
        if let Some((vx, vy)) = validation {
            check_xy(self, vx, vy, "validation")?;
        }
        let scaled = scaled_copies(self, x, y)?;
        let scaled_val = match validation {
            Some((vx, vy)) => scaled_copies(self, vx, vy)?,
            None => None,
        };
        let sets = Sets {
            x: scaled.as_ref().map_or(x, |s| &s.0[..]),
            y: scaled.as_ref().map_or(y, |s| &s.1[..]),
            val: match (&scaled_val, validation) {
                (Some((a, b)), _) => Some((&a[..], &b[..])),
                (None, v) => v,
            },
        };
        let rows = sets.x.len() / self.num_inputs();
        let mut trainer = Trainer::new(self, rows)?;
        // the weights of the best run so far, needed only when there is more than one run
        let kept_len = if cfg.restarts > 0 {
            self.num_weights()
        } else {
            0
        };
        let mut kept = try_zeroed(kept_len, "the best run's weights")?;
        let mut best: Option<TrainReport> = None;
        let mut stopped_any = false;
        for run in 0..=cfg.restarts {
            if run > 0 {
                fill_uniform(
                    self.weights_mut(),
                    restart_seed(cfg.seed, run),
                    cfg.init_range,
                );
            }
            trainer
                .order
                .iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = i);
            let report = trainer.run(self, &sets, cfg, run, &mut on_epoch)?;
            let score = |r: &TrainReport| {
                if sets.val.is_some() {
                    r.validation_error
                } else {
                    r.train_error
                }
            };
            let better = match &best {
                None => true,
                Some(b) => score(&report) < score(b),
            };
            stopped_any = report.stopped_by_callback;
            if better {
                if cfg.restarts > 0 {
                    kept.copy_from_slice(self.weights());
                }
                best = Some(report);
            }
            if stopped_any {
                break;
            }
        }
        let mut report = best.expect("at least one run");
        if cfg.restarts > 0 {
            self.weights_mut().copy_from_slice(&kept);
        }
        report.stopped_by_callback = stopped_any;
        Ok(report)
    }
}

impl Network {
    /// One epoch of per-sample SGD over the rows of `x` and `y` in order, without a regularizer
    /// and without evaluation: the inner loop of [`Network::train`] with `batch_size = 1` and
    /// [`Order::Sequential`], for online learning and custom schedules. Returns the mean of the
    /// sample errors `e_n`, each measured just before its own step (in standardized units when
    /// the network has a scaling).
    ///
    /// Errors on a learning rate that is not finite and > 0, bad shapes or non-finite data
    /// (nothing changes then), and with [`Error::Diverged`] when a sample's error or a weight
    /// becomes non-finite (the network then keeps the weights it had before the call).
    ///
    /// ```
    /// use nnet::{Network, Output};
    /// // y = x1 + x2 with a 2-1 linear network
    /// let x = [0.5, 0.25, -0.5, 1.0, 1.0, -1.0, 0.0, 0.5];
    /// let y = [0.75, 0.5, 0.0, 0.5];
    /// let mut net = Network::new(&[2, 1], Output::Linear, 1, 0.1).unwrap();
    /// let first = net.sgd_epoch(&x, &y, 0.1).unwrap();
    /// let mut last = first;
    /// for _ in 0..500 {
    ///     last = net.sgd_epoch(&x, &y, 0.1).unwrap();
    /// }
    /// assert!(last < 1e-4 && last < first);
    /// ```
    pub fn sgd_epoch(&mut self, x: &[f32], y: &[f32], learning_rate: f32) -> Result<f64> {
        let cfg = TrainConfig {
            learning_rate,
            ..TrainConfig::default()
        };
        cfg.validate()?;
        let rows = check_xy(self, x, y, "training")?;
        let scaled = scaled_copies(self, x, y)?;
        let sets = Sets {
            x: scaled.as_ref().map_or(x, |s| &s.0[..]),
            y: scaled.as_ref().map_or(y, |s| &s.1[..]),
            val: None,
        };
        let mut trainer = Trainer::new(self, rows)?;
        trainer.snapshot.copy_from_slice(self.weights());
        let sum = trainer.sgd_epoch(self, &sets, learning_rate, &cfg.regularization)?;
        match sum {
            Some(s) if self.weights().iter().all(|w| w.is_finite()) => Ok(s / rows as f64),
            _ => {
                self.weights_mut().copy_from_slice(&trainer.snapshot);
                Err(Error::Diverged(format!(
                    "the loss or a weight became non-finite (learning rate {learning_rate}); \
                     the network keeps the weights from before the epoch"
                )))
            }
        }
    }
}
