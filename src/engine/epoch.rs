//! The epoch loop, written once over [`Step`]: the sample order, the per-epoch evaluation,
//! divergence, early stopping, the callback, restarts and the report.

use std::ops::ControlFlow;

use rayon::ThreadPool;

use super::batched::Gemm;
use super::config::{EpochInfo, Order, TrainConfig, TrainReport};
use super::evaluate::Evaluator;
use super::plan::{TrainPath, build_pool};
use super::step::{Accumulated, FusedSgd, PerSample, Sets, Step};
use super::update::{Sgd, Stateful};
use crate::error::{Error, Result, try_zeroed};
use crate::network::{Network, fill_uniform};
use crate::optim::{Optimizer, OptimizerState};
use crate::rng::SeededRng;

/// The seed of restart `run`'s initialization.
pub(crate) fn restart_seed(seed: u64, run: u32) -> u64 {
    seed ^ (0xA076_1D64_78BD_642F_u64.wrapping_mul(run as u64 + 1))
}

/// The step of the plan's path, with the configured optimizer as the update (its state
/// allocated here, once per training call).
fn make_step(
    net: &Network,
    cfg: &TrainConfig,
    path: TrainPath,
    batch: usize,
    threads: usize,
) -> Result<Box<dyn Step + Send>> {
    let (eta, reg) = (cfg.learning_rate, cfg.regularization);
    if cfg.optimizer != Optimizer::Sgd {
        let update = Stateful::new(OptimizerState::for_network(cfg.optimizer, net)?)?;
        return Ok(match path {
            TrainPath::PerSample => Box::new(PerSample::new(net, eta, reg, update)?),
            TrainPath::Gemm => Box::new(Gemm::new(net, batch, threads, eta, reg, Some(update))?),
            _ => Box::new(Accumulated::new(net, batch, eta, reg, update)?),
        });
    }
    Ok(match path {
        TrainPath::FusedSgd => Box::new(FusedSgd::new(net, eta)?),
        TrainPath::PerSample => Box::new(PerSample::new(net, eta, reg, Sgd)?),
        TrainPath::Accumulated => Box::new(Accumulated::new(net, batch, eta, reg, Sgd)?),
        TrainPath::Gemm => Box::new(Gemm::new(net, batch, threads, eta, reg, None)?),
    })
}

/// The buffers of one training call, allocated once for all its runs.
struct Trainer {
    step: Box<dyn Step + Send>,
    pool: ThreadPool,
    eval: Evaluator,
    order: Vec<usize>,
    snapshot: Vec<f32>,
    best: Vec<f32>,
}

impl Trainer {
    fn new(net: &Network, cfg: &TrainConfig, rows: usize) -> Result<Trainer> {
        let plan = net.train_plan(cfg, rows);
        let pool = build_pool(cfg.threads)?;
        let threads = pool.current_num_threads();
        let d = net.num_weights();
        let mut order = Vec::new();
        order
            .try_reserve_exact(rows)
            .map_err(|_| Error::OutOfMemory(format!("cannot allocate the order of {rows} rows")))?;
        order.extend(0..rows);
        Ok(Trainer {
            step: make_step(net, cfg, plan.path, plan.batch, threads)?,
            // training and validation sets of any length
            eval: Evaluator::new(net, threads, usize::MAX)?,
            pool,
            order,
            snapshot: try_zeroed(d, "the weight snapshot")?,
            best: try_zeroed(d, "the best weights")?,
        })
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
        let rows = self.order.len();
        let eta = cfg.learning_rate;
        let mut rng = SeededRng::new(cfg.seed, 2 * run as u64 + 1);
        self.order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
        let mut history = Vec::new();
        let mut best_val = f64::INFINITY;
        let mut best_epoch = 0u32;
        let mut since_best = 0u32;
        let mut stopped = false;
        self.step.reset();
        for epoch in 1..=cfg.epochs {
            self.snapshot.copy_from_slice(net.weights());
            let rate = cfg.schedule.rate(eta, epoch - 1, cfg.epochs);
            self.step.set_rate(rate);
            match cfg.order {
                Order::Sequential => {}
                Order::Shuffle => rng.shuffle(&mut self.order),
                Order::RandomPick => {
                    for v in self.order.iter_mut() {
                        *v = rng.below(rows);
                    }
                }
            }
            let finite = self.step.epoch(net, sets, &self.order, &self.pool);
            let train_error = if finite && net.weights().iter().all(|w| w.is_finite()) {
                self.eval.load(net);
                self.eval.mean_error(net, Some(&self.pool), sets.x, sets.y)
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
                Some((vx, vy)) => self.eval.mean_error(net, Some(&self.pool), vx, vy),
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

/// Every run of a training call (the given weights, then `cfg.restarts` re-initializations),
/// keeping the best: the lowest validation error with a validation set, else the lowest
/// training error.
pub(crate) fn train(
    net: &mut Network,
    sets: &Sets,
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochInfo) -> ControlFlow<()>,
) -> Result<TrainReport> {
    let rows = sets.x.len() / net.num_inputs();
    cfg.optimizer.check_batch(cfg.batch_size, rows)?;
    let mut trainer = Trainer::new(net, cfg, rows)?;
    // the weights of the best run so far, needed only when there is more than one run
    let kept_len = if cfg.restarts > 0 {
        net.num_weights()
    } else {
        0
    };
    let mut kept = try_zeroed(kept_len, "the best run's weights")?;
    let mut best: Option<TrainReport> = None;
    let mut stopped_any = false;
    for run in 0..=cfg.restarts {
        if run > 0 {
            fill_uniform(
                net.weights_mut(),
                restart_seed(cfg.seed, run),
                cfg.init_range,
            );
        }
        let report = trainer.run(net, sets, cfg, run, on_epoch)?;
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
                kept.copy_from_slice(net.weights());
            }
            best = Some(report);
        }
        if stopped_any {
            break;
        }
    }
    let mut report = best.expect("at least one run");
    if cfg.restarts > 0 {
        net.weights_mut().copy_from_slice(&kept);
    }
    report.stopped_by_callback = stopped_any;
    Ok(report)
}
