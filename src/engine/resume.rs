//! What a training checkpoint holds (SPEC section 7) and how it is read back.
//!
//! A checkpoint of the engine is a [`Checkpoint`] with two groups of fields:
//!
//! - the run's identity, which a resumed run must match ([`Checkpoint::check_fields`] names
//!   the first difference): every [`TrainConfig`] field that changes the result (all but
//!   `threads`, on which results do not depend, and `checkpoint` itself), the network's
//!   layers, output and scaling, the data's rows, inputs, outputs and validation rows, and a
//!   fingerprint of the training and of the validation data;
//! - the state: `phase` (`running`: in run `run`, `epoch` epochs done; `run_done`: run `run`
//!   ended and was compared with the earlier runs), the network's weights, and for a running
//!   run the sample order and its generator, the history, the best validation error, epoch
//!   and weights, the early-stopping counter and the optimizer's step counter and vectors;
//!   with restarts, the best run's weights and report so far.

use std::path::{Path, PathBuf};

use super::config::{EpochInfo, TrainConfig, TrainReport};
use super::step::Sets;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::rng::SeededRng;

/// A fingerprint of a float array that does not depend on the build: 64-bit FNV-1a over
/// the values' bit patterns (as 32-bit words), then the length.
pub(crate) fn data_fingerprint(values: &[f32]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for v in values {
        h = (h ^ u64::from(v.to_bits())).wrapping_mul(PRIME);
    }
    (h ^ values.len() as u64).wrapping_mul(PRIME)
}

fn scaling_fingerprint(net: &Network) -> u64 {
    match net.scaling() {
        None => 0,
        Some(s) => {
            let mut all = Vec::new();
            all.extend_from_slice(s.input_mean());
            all.extend_from_slice(s.input_std());
            all.extend_from_slice(s.target_mean().unwrap_or(&[]));
            all.extend_from_slice(s.target_std().unwrap_or(&[]));
            data_fingerprint(&all) | 1
        }
    }
}

/// The fingerprint of a data set's inputs and targets.
pub(crate) fn pair_fingerprint(x: &[f32], y: &[f32]) -> u64 {
    data_fingerprint(x) ^ data_fingerprint(y).rotate_left(1)
}

/// The identity fields of a run's configuration and network (not its data).
pub(crate) fn config_identity(net: &Network, cfg: &TrainConfig) -> Result<Checkpoint> {
    let mut c = Checkpoint::new();
    c.put_str("content", "nnet training run")?;
    c.put_f64("learning_rate", f64::from(cfg.learning_rate))?;
    c.put_u64("epochs", u64::from(cfg.epochs))?;
    c.put_u64("batch_size", cfg.batch_size as u64)?;
    c.put_str("sample_order", &format!("{:?}", cfg.order))?;
    c.put_str("regularization", &format!("{:?}", cfg.regularization))?;
    c.put_u64("patience", u64::from(cfg.patience))?;
    c.put_u64("restarts", u64::from(cfg.restarts))?;
    c.put_u64("seed", cfg.seed)?;
    c.put_f64("init_range", f64::from(cfg.init_range))?;
    c.put_str("optimizer", &format!("{:?}", cfg.optimizer))?;
    c.put_str("schedule", &format!("{:?}", cfg.schedule))?;
    let layers: Vec<u64> = net.layers().iter().map(|&l| l as u64).collect();
    c.put_u64s("layers", &layers)?;
    c.put_str("output", &format!("{:?}", net.output()))?;
    c.put_u64("scaling", scaling_fingerprint(net))?;
    Ok(c)
}

/// The identity fields of a run: what a checkpoint must match to be resumed by it.
pub(crate) fn identity(net: &Network, sets: &Sets, cfg: &TrainConfig) -> Result<Checkpoint> {
    let mut c = config_identity(net, cfg)?;
    let n_in = net.num_inputs();
    c.put_u64("rows", (sets.x.len() / n_in) as u64)?;
    c.put_u64("inputs", n_in as u64)?;
    c.put_u64("outputs", net.num_outputs() as u64)?;
    let (vrows, vprint) = match sets.val {
        Some((vx, vy)) => ((vx.len() / n_in) as u64, pair_fingerprint(vx, vy)),
        None => (0, 0),
    };
    c.put_u64("validation_rows", vrows)?;
    c.put_u64("training_data", pair_fingerprint(sets.x, sets.y))?;
    c.put_u64("validation_data", vprint)?;
    Ok(c)
}

/// Where checkpoints go, with the identity fields of the run (computed once).
pub(crate) struct Saver {
    pub(crate) path: PathBuf,
    pub(crate) every: u32,
    pub(crate) identity: Checkpoint,
}

impl Saver {
    /// The saver of `cfg.checkpoint`, or `None`. Errors when the checkpoint's directory does
    /// not exist or the path is a directory, before anything changes.
    pub(crate) fn new(net: &Network, sets: &Sets, cfg: &TrainConfig) -> Result<Option<Saver>> {
        let Some(ck) = &cfg.checkpoint else {
            return Ok(None);
        };
        let path = ck.path.clone();
        check_path(&path)?;
        Ok(Some(Saver {
            path,
            every: ck.every,
            identity: identity(net, sets, cfg)?,
        }))
    }
}

/// Errors when the directory of checkpoint `path` does not exist or `path` is a directory.
pub(crate) fn check_path(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::Io(format!(
            "the checkpoint path {} is a directory",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::Io(format!(
            "the directory of the checkpoint {} does not exist",
            path.display()
        )));
    }
    Ok(())
}

/// Puts the best run so far (`None`: no run has ended yet): its report, and its weights when
/// `weights` is not empty (with restarts).
pub(crate) fn put_kept(
    c: &mut Checkpoint,
    weights: &[f32],
    report: Option<&TrainReport>,
) -> Result<()> {
    match report {
        Some(r) => {
            c.put_u64("has_kept", 1)?;
            if !weights.is_empty() {
                c.put_f32s("kept_weights", weights)?;
            }
            put_report(c, "kept_", r)
        }
        None => c.put_u64("has_kept", 0),
    }
}

/// Puts a report (of the best run so far) under names starting with `p`.
pub(crate) fn put_report(c: &mut Checkpoint, p: &str, r: &TrainReport) -> Result<()> {
    c.put_u64(&format!("{p}epochs_run"), u64::from(r.epochs_run))?;
    c.put_u64(&format!("{p}best_epoch"), u64::from(r.best_epoch))?;
    c.put_f64(&format!("{p}train_error"), r.train_error)?;
    c.put_f64(&format!("{p}validation_error"), r.validation_error)?;
    put_history(c, p, &r.history)?;
    c.put_u64(&format!("{p}run"), u64::from(r.run))
}

/// Puts the per-epoch errors of a history (its epochs are 1, 2, ...).
pub(crate) fn put_history(c: &mut Checkpoint, p: &str, h: &[EpochInfo]) -> Result<()> {
    let t: Vec<f64> = h.iter().map(|e| e.train_error).collect();
    let v: Vec<f64> = h.iter().map(|e| e.validation_error).collect();
    c.put_f64s(&format!("{p}train_errors"), &t)?;
    c.put_f64s(&format!("{p}validation_errors"), &v)
}

fn bad(msg: String) -> Error {
    Error::Format(format!("inconsistent checkpoint: {msg}"))
}

fn get_history(c: &Checkpoint, p: &str) -> Result<Vec<EpochInfo>> {
    let t = c.get_f64s(&format!("{p}train_errors"))?;
    let v = c.get_f64s(&format!("{p}validation_errors"))?;
    if t.len() != v.len() || t.len() > u32::MAX as usize {
        return Err(bad(format!(
            "{} training and {} validation errors in `{p}` history",
            t.len(),
            v.len()
        )));
    }
    Ok(t.iter()
        .zip(v)
        .enumerate()
        .map(|(i, (&train_error, &validation_error))| EpochInfo {
            epoch: i as u32 + 1,
            train_error,
            validation_error,
        })
        .collect())
}

fn get_report(c: &Checkpoint, p: &str, cfg: &TrainConfig) -> Result<TrainReport> {
    let r = TrainReport {
        epochs_run: c.get_u32(&format!("{p}epochs_run"))?,
        best_epoch: c.get_u32(&format!("{p}best_epoch"))?,
        train_error: c.get_f64(&format!("{p}train_error"))?,
        validation_error: c.get_f64(&format!("{p}validation_error"))?,
        history: get_history(c, p)?,
        run: c.get_u32(&format!("{p}run"))?,
        stopped_by_callback: false,
    };
    let n = r.history.len() as u32;
    if r.epochs_run != n || n == 0 || r.best_epoch == 0 || r.best_epoch > n || r.run > cfg.restarts
    {
        return Err(bad(format!("the best run's report ({r:?})")));
    }
    Ok(r)
}

/// The state of a run in progress, as read from a checkpoint.
pub(crate) struct RunningState {
    pub(crate) epoch: u32,
    pub(crate) rng: SeededRng,
    pub(crate) order: Vec<usize>,
    pub(crate) history: Vec<EpochInfo>,
    pub(crate) best_val: f64,
    pub(crate) best_epoch: u32,
    pub(crate) since_best: u32,
    pub(crate) best_weights: Vec<f32>,
    pub(crate) optimizer: Option<(u64, Vec<f32>, Vec<f32>)>,
}

/// Everything a checkpoint restores, read and checked before anything changes.
pub(crate) struct Restored {
    pub(crate) run: u32,
    /// `None`: run `run` had ended.
    pub(crate) running: Option<RunningState>,
    pub(crate) weights: Vec<f32>,
    pub(crate) kept: Option<(Vec<f32>, TrainReport)>,
}

/// The position within one run: what its next epoch depends on besides the weights, the
/// order, the best weights and the update's state. The one-process and the distributed
/// epoch loops both carry it.
pub(crate) struct RunPosition {
    pub(crate) run: u32,
    /// Epochs done.
    pub(crate) epoch: u32,
    pub(crate) rng: SeededRng,
    pub(crate) history: Vec<EpochInfo>,
    pub(crate) best_val: f64,
    pub(crate) best_epoch: u32,
    pub(crate) since_best: u32,
}

impl Restored {
    /// Puts what a checkpoint restores (the update's state aside) into a training call's
    /// buffers: the network's `weights`, the sample `order`, the run's `best` weights and the
    /// best run's `kept` weights (empty without restarts). Returns the first run to train, the
    /// position within it when it was running, and the best run's report so far.
    pub(crate) fn apply(
        self,
        weights: &mut [f32],
        order: &mut [usize],
        best: &mut [f32],
        kept: &mut [f32],
    ) -> (u32, Option<RunPosition>, Option<TrainReport>) {
        weights.copy_from_slice(&self.weights);
        let kept_report = self.kept.map(|(w, report)| {
            let n = kept.len();
            kept.copy_from_slice(&w[..n]);
            report
        });
        match self.running {
            None => (self.run + 1, None, kept_report),
            Some(s) => {
                order.copy_from_slice(&s.order);
                best.copy_from_slice(&s.best_weights);
                let position = RunPosition {
                    run: self.run,
                    epoch: s.epoch,
                    rng: s.rng,
                    history: s.history,
                    best_val: s.best_val,
                    best_epoch: s.best_epoch,
                    since_best: s.since_best,
                };
                (self.run, Some(position), kept_report)
            }
        }
    }
}

fn weights_field(c: &Checkpoint, name: &str, d: usize) -> Result<Vec<f32>> {
    let w = c.get_f32s_len(name, d)?;
    if !w.iter().all(|v| v.is_finite()) {
        return Err(bad(format!("`{name}` holds a non-finite value")));
    }
    Ok(w.to_vec())
}

/// Reads the state of checkpoint `c` of a run of `net` with `cfg` on `rows` rows (the sample
/// order's length), the order's generator from field `rng_field`; its identity has been
/// checked.
pub(crate) fn restore(
    c: &Checkpoint,
    net: &Network,
    cfg: &TrainConfig,
    rows: usize,
    optimizer: bool,
    rng_field: &str,
) -> Result<Restored> {
    let d = net.num_weights();
    let run = c.get_u32("run")?;
    if run > cfg.restarts {
        return Err(bad(format!("run {run} of {} restarts", cfg.restarts)));
    }
    let weights = weights_field(c, "weights", d)?;
    let kept = if c.get_u64("has_kept")? == 1 {
        let w = if cfg.restarts > 0 {
            weights_field(c, "kept_weights", d)?
        } else {
            Vec::new()
        };
        Some((w, get_report(c, "kept_", cfg)?))
    } else {
        None
    };
    let running = match c.get_str("phase")? {
        "run_done" => {
            if kept.is_none() {
                return Err(bad("an ended run without a best run".into()));
            }
            None
        }
        "running" => {
            let epoch = c.get_u32("epoch")?;
            if epoch == 0 || epoch >= cfg.epochs {
                return Err(bad(format!(
                    "a running run at epoch {epoch} of {}",
                    cfg.epochs
                )));
            }
            let order = c.get_u64s("order")?;
            if order.len() != rows || order.iter().any(|&i| i >= rows as u64) {
                return Err(bad(format!(
                    "the sample order of {} entries for {rows} rows",
                    order.len()
                )));
            }
            let history = get_history(c, "")?;
            let best_epoch = c.get_u32("best_epoch")?;
            let since_best = c.get_u32("since_best")?;
            if history.len() != epoch as usize || best_epoch > epoch || since_best > epoch {
                return Err(bad(format!(
                    "a history of {} epochs, best epoch {best_epoch}, at epoch {epoch}",
                    history.len()
                )));
            }
            let optimizer = if optimizer {
                Some((
                    c.get_u64("optimizer_t")?,
                    c.get_f32s("optimizer_s1")?.to_vec(),
                    c.get_f32s("optimizer_s2")?.to_vec(),
                ))
            } else {
                None
            };
            Some(RunningState {
                epoch,
                rng: c.get_rng(rng_field)?,
                order: order.iter().map(|&i| i as usize).collect(),
                history,
                best_val: c.get_f64("best_validation_error")?,
                best_epoch,
                since_best,
                best_weights: c.get_f32s_len("best_weights", d)?.to_vec(),
                optimizer,
            })
        }
        p => return Err(bad(format!("unknown phase {p:?}"))),
    };
    Ok(Restored {
        run,
        running,
        weights,
        kept,
    })
}
