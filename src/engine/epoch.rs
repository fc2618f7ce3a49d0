//! The epoch loop, written once over [`Step`]: the sample order, the per-epoch evaluation,
//! divergence, early stopping, the callback, restarts, checkpoints and the report.

use std::ops::ControlFlow;

use rayon::ThreadPool;

use super::batched::Gemm;
use super::config::{EpochInfo, Order, TrainConfig, TrainReport};
use super::evaluate::Evaluator;
use super::plan::{TrainPath, build_pool};
use super::resume::{self, Restored, RunPosition, Saver, put_history, restore};
use super::step::{Accumulated, FusedSgd, PerSample, Sets, Step};
use super::update::{Sgd, Stateful};
use crate::checkpoint::Checkpoint;
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

/// The best run so far of a training call with its weights (kept only with restarts).
struct Kept {
    weights: Vec<f32>,
    report: Option<TrainReport>,
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

    /// The start of run `run`: the order in row order, the optimizer state zero.
    fn begin(&mut self, cfg: &TrainConfig, run: u32) -> RunPosition {
        self.order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
        self.step.reset();
        RunPosition {
            run,
            epoch: 0,
            rng: SeededRng::new(cfg.seed, 2 * run as u64 + 1),
            history: Vec::new(),
            best_val: f64::INFINITY,
            best_epoch: 0,
            since_best: 0,
        }
    }

    /// Writes the checkpoint of run `state.run` after `state.epoch` epochs.
    fn save_running(
        &mut self,
        saver: &Saver,
        net: &Network,
        state: &RunPosition,
        kept: &Kept,
    ) -> Result<()> {
        let mut c = saver.identity.clone();
        c.put_str("phase", "running")?;
        c.put_u64("run", u64::from(state.run))?;
        c.put_u64("epoch", u64::from(state.epoch))?;
        c.put_f32s("weights", net.weights())?;
        put_kept(&mut c, kept)?;
        let order: Vec<u64> = self.order.iter().map(|&i| i as u64).collect();
        c.put_u64s("order", &order)?;
        c.put_rng("order_rng", &state.rng)?;
        put_history(&mut c, "", &state.history)?;
        c.put_f64("best_validation_error", state.best_val)?;
        c.put_u64("best_epoch", u64::from(state.best_epoch))?;
        c.put_u64("since_best", u64::from(state.since_best))?;
        c.put_f32s("best_weights", &self.best)?;
        if let Some(o) = self.step.optimizer_state_mut() {
            let (t, s1, s2) = o.raw();
            c.put_u64("optimizer_t", t)?;
            c.put_f32s("optimizer_s1", s1)?;
            c.put_f32s("optimizer_s2", s2)?;
        }
        c.save(&saver.path)
    }

    /// The rest of a run of at most `cfg.epochs` epochs from the network's current weights
    /// and `state`. Returns the run's report and whether the run ended by itself (all
    /// epochs, or early stopping), as opposed to being stopped by the callback.
    fn run(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        cfg: &TrainConfig,
        mut state: RunPosition,
        ctx: &mut Context,
    ) -> Result<(TrainReport, bool)> {
        let rows = self.order.len();
        let eta = cfg.learning_rate;
        let mut stopped = false;
        let mut ended = false;
        for epoch in state.epoch + 1..=cfg.epochs {
            self.snapshot.copy_from_slice(net.weights());
            let rate = cfg.schedule.rate(eta, epoch - 1, cfg.epochs);
            self.step.set_rate(rate);
            match cfg.order {
                Order::Sequential => {}
                Order::Shuffle => state.rng.shuffle(&mut self.order),
                Order::RandomPick => {
                    for v in self.order.iter_mut() {
                        *v = state.rng.below(rows);
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
            state.history.push(info);
            state.epoch = epoch;
            if sets.val.is_some() {
                if validation_error < state.best_val {
                    state.best_val = validation_error;
                    state.best_epoch = epoch;
                    state.since_best = 0;
                    self.best.copy_from_slice(net.weights());
                } else {
                    state.since_best += 1;
                }
            } else {
                state.best_epoch = epoch;
            }
            stopped = (ctx.on_epoch)(&info).is_break();
            ended = epoch == cfg.epochs || (cfg.patience > 0 && state.since_best >= cfg.patience);
            if let Some(saver) = ctx.saver
                && !ended
                && (stopped || epoch % saver.every == 0)
            {
                self.save_running(saver, net, &state, ctx.kept)?;
            }
            if stopped || ended {
                break;
            }
        }
        let history = state.history;
        let epochs_run = history.len() as u32;
        let mut best_epoch = state.best_epoch;
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
        let report = TrainReport {
            epochs_run,
            best_epoch,
            train_error,
            validation_error,
            history,
            run: state.run,
            stopped_by_callback: stopped,
        };
        Ok((report, ended))
    }
}

/// What a run needs besides its own state: the callback, the checkpoint and the best run so
/// far (which a checkpoint includes).
struct Context<'a, 'b> {
    on_epoch: &'a mut dyn FnMut(&EpochInfo) -> ControlFlow<()>,
    saver: Option<&'a Saver>,
    kept: &'b Kept,
}

fn put_kept(c: &mut Checkpoint, kept: &Kept) -> Result<()> {
    resume::put_kept(c, &kept.weights, kept.report.as_ref())
}

/// Every run of a training call (the given weights, then `cfg.restarts` re-initializations),
/// keeping the best: the lowest validation error with a validation set, else the lowest
/// training error. With `resume`, continues from the checkpoint of `cfg.checkpoint` when
/// that file exists (and starts from the beginning when it does not).
pub(crate) fn train(
    net: &mut Network,
    sets: &Sets,
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochInfo) -> ControlFlow<()>,
    resume: bool,
) -> Result<TrainReport> {
    let rows = sets.x.len() / net.num_inputs();
    cfg.optimizer.check_batch(cfg.batch_size, rows)?;
    let saver = Saver::new(net, sets, cfg)?;
    if resume && saver.is_none() {
        return Err(Error::InvalidArgument(
            "resuming needs a checkpoint path (TrainConfig::checkpoint)".into(),
        ));
    }
    let mut trainer = Trainer::new(net, cfg, rows)?;
    let restored = match (&saver, resume) {
        (Some(s), true) => {
            let has_state = trainer.step.optimizer_state_mut().is_some();
            load(s, net, cfg, rows, has_state)?
        }
        _ => None,
    };
    // the weights of the best run so far, needed only when there is more than one run
    let kept_len = if cfg.restarts > 0 {
        net.num_weights()
    } else {
        0
    };
    let mut kept = Kept {
        weights: try_zeroed(kept_len, "the best run's weights")?,
        report: None,
    };
    let mut first_run = 0;
    let mut continued = None;
    if let Some(r) = restored {
        // the optimizer state first: the only part that can still fail, and it changes only
        // the trainer
        trainer.step.reset();
        if let (Some(o), Some(s)) = (trainer.step.optimizer_state_mut(), &r.running)
            && let Some((t, s1, s2)) = &s.optimizer
        {
            o.restore_raw(*t, s1, s2)?;
        }
        let (first, position, report) = r.apply(
            net.weights_mut(),
            &mut trainer.order,
            &mut trainer.best,
            &mut kept.weights,
        );
        first_run = first;
        continued = position;
        kept.report = report;
    }
    let mut stopped_any = false;
    for run in first_run..=cfg.restarts {
        let state = match continued.take() {
            Some(s) => s,
            None => {
                if run > 0 {
                    fill_uniform(
                        net.weights_mut(),
                        restart_seed(cfg.seed, run),
                        cfg.init_range,
                    );
                }
                trainer.begin(cfg, run)
            }
        };
        let mut ctx = Context {
            on_epoch: &mut *on_epoch,
            saver: saver.as_ref(),
            kept: &kept,
        };
        let (report, ended) = trainer.run(net, sets, cfg, state, &mut ctx)?;
        let score = |r: &TrainReport| {
            if sets.val.is_some() {
                r.validation_error
            } else {
                r.train_error
            }
        };
        let better = match &kept.report {
            None => true,
            Some(b) => score(&report) < score(b),
        };
        stopped_any = report.stopped_by_callback;
        if better {
            if cfg.restarts > 0 {
                kept.weights.copy_from_slice(net.weights());
            }
            kept.report = Some(TrainReport {
                stopped_by_callback: false,
                ..report
            });
        }
        if let Some(s) = &saver
            && ended
        {
            let mut c = s.identity.clone();
            c.put_str("phase", "run_done")?;
            c.put_u64("run", u64::from(run))?;
            c.put_f32s("weights", net.weights())?;
            put_kept(&mut c, &kept)?;
            c.save(&s.path)?;
        }
        if stopped_any {
            break;
        }
    }
    let mut report = kept.report.expect("at least one run");
    if cfg.restarts > 0 {
        net.weights_mut().copy_from_slice(&kept.weights);
    }
    report.stopped_by_callback = stopped_any;
    Ok(report)
}

/// The checkpoint of `saver` for a resumed run: `None` when the file does not exist, else
/// its state after checking that it belongs to this run.
fn load(
    saver: &Saver,
    net: &Network,
    cfg: &TrainConfig,
    rows: usize,
    has_state: bool,
) -> Result<Option<Restored>> {
    match std::fs::metadata(&saver.path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let c = Checkpoint::load(&saver.path)?;
    c.check_fields(&saver.identity)?;
    restore(&c, net, cfg, rows, has_state, "order_rng").map(Some)
}
