//! The checks of data-parallel training, run by every rank of a group: in-process thread ranks
//! (tests/distributed.rs) and MPI ranks under mpirun (tests/mpi.rs).

#![allow(dead_code)]

use std::ops::ControlFlow;

use nnet::distributed::{
    self, Collective, DistributedConfig, DistributedReport, LocalData, Shard, fingerprint,
};
use nnet::{
    Checkpointing, EpochInfo, Error, Network, Optimizer, OptimizerState, Order, Output,
    Regularization, Schedule, TrainConfig, TrainPath, TrainReport,
};

/// Rows of the training and the validation set (divisible by 1, 2 and 4 ranks).
pub const ROWS: usize = 96;
pub const VAL_ROWS: usize = 40;
pub const LAYERS: [usize; 3] = [5, 7, 3];
/// Rows a rank takes per step.
pub const LOCAL_BATCH: usize = 4;
/// Rows of the training set of the matrix-product checks (divisible by 1, 2 and 4 ranks): the
/// last step of an epoch takes 8 rows with 1 rank, 4 a rank with 2 ranks, 66 a rank with 4.
pub const GEMM_ROWS: usize = 776;
/// Rows a rank takes per step in the matrix-product checks: two chunks of the engine's
/// products.
pub const GEMM_LOCAL_BATCH: usize = 128;

/// A smooth 3-class problem on 5 inputs (the same on every rank).
pub fn data(rows: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let mut x = Vec::with_capacity(rows * 5);
    let mut y = Vec::with_capacity(rows * 3);
    for _ in 0..rows {
        let r: Vec<f32> = (0..5).map(|_| next()).collect();
        let score = [r[0] + 0.5 * r[1], r[2] - r[3], 0.3 * r[4] - r[0]];
        let best = (0..3).fold(0, |b, k| if score[k] > score[b] { k } else { b });
        y.extend((0..3).map(|k| if k == best { 1.0 } else { -1.0 }));
        x.extend(r);
    }
    (x, y)
}

pub fn network() -> Network {
    Network::new(&LAYERS, Output::Tanh, 7, 0.5).unwrap()
}

pub fn config(epochs: u32, reg: Regularization) -> TrainConfig {
    TrainConfig {
        learning_rate: 0.05,
        epochs,
        batch_size: LOCAL_BATCH,
        order: Order::Sequential,
        regularization: reg,
        ..TrainConfig::default()
    }
}

/// The rows `order` of row-major `data` (`width` values a row).
fn gather(data: &[f32], width: usize, order: &[usize]) -> Vec<f32> {
    order
        .iter()
        .flat_map(|&i| data[i * width..(i + 1) * width].iter().copied())
        .collect()
}

/// `max |a - b| / max |b|`.
fn rel_diff(a: &[f32], b: &[f32]) -> f64 {
    let num = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .fold(0.0, f64::max);
    let den = b.iter().map(|y| y.abs() as f64).fold(0.0, f64::max);
    num / den
}

fn say(c: &dyn Collective, what: &str) {
    if c.rank() == 0 {
        eprintln!("  ok (ranks: {}): {what}", c.size());
    }
}

/// Trains this rank's shards of the test data, checking after every epoch that every rank
/// holds the same weights bit for bit.
fn train_shards(
    c: &dyn Collective,
    cfg: &TrainConfig,
    with_validation: bool,
) -> (Network, DistributedReport) {
    let (x, y) = data(ROWS, 1);
    let (vx, vy) = data(VAL_ROWS, 2);
    let shard = Shard::of(c, ROWS).unwrap();
    let vshard = Shard::of(c, VAL_ROWS).unwrap();
    let vx_local = vshard.slice(&vx, LAYERS[0]).unwrap();
    let vy_local = vshard.slice(&vy, LAYERS[2]).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: with_validation.then_some((vx_local, vy_local)),
    };
    let mut net = network();
    let dcfg = DistributedConfig {
        train: cfg.clone(),
        checkpoint: None,
    };
    let mut epochs_seen = 0;
    let report =
        distributed::train_distributed(&mut net, local, &dcfg, c, distributed::sgd, |info, net| {
            epochs_seen += 1;
            assert_eq!(info.epoch, epochs_seen);
            assert!(
                c.all_equal(fingerprint(net.weights())),
                "weights differ between ranks after epoch {}",
                info.epoch
            );
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(epochs_seen, report.report.epochs_run);
    (net, report)
}

/// Every check, in the same order on every rank.
pub fn run_all(c: &dyn Collective) {
    identical_and_repeatable(c);
    equals_single_process(c, Regularization::none(), false);
    equals_single_process(c, Regularization::l2(1e-3), true);
    bad_shape_is_the_same_error_everywhere(c);
    different_weights_are_refused(c);
    one_rank_stopping_stops_all(c);
    checkpoint_is_written_by_rank_0(c);
    restarts_equal_single_process(c, None, true);
    restarts_equal_single_process(c, None, false);
    restarts_equal_single_process(c, Some(Optimizer::momentum()), true);
    restarts_stop_on_a_callback(c);
    matrix_products_equal_single_process(c, None, Regularization::none());
    matrix_products_equal_single_process(c, Some(Optimizer::momentum()), Regularization::l2(1e-3));
    resumed_run_equals_uninterrupted(c, None);
    resumed_run_equals_uninterrupted(c, Some(Optimizer::momentum()));
    mismatched_checkpoint_is_refused(c);
}

fn identical_and_repeatable(c: &dyn Collective) {
    let mut cfg = config(4, Regularization::none());
    cfg.order = Order::Shuffle;
    cfg.seed = 11;
    let (a, ra) = train_shards(c, &cfg, true);
    let (b, rb) = train_shards(c, &cfg, true);
    assert_eq!(a.weights(), b.weights(), "two runs differ");
    assert_eq!(ra.report, rb.report);
    assert!(c.all_equal(fingerprint(a.weights())));
    // every rank reports the same history
    let h: Vec<f32> = ra
        .report
        .history
        .iter()
        .flat_map(|e| [e.train_error as f32, e.validation_error as f32])
        .collect();
    assert!(c.all_equal(fingerprint(&h)));
    assert_eq!(ra.steps, 4 * (ROWS / c.size()).div_ceil(LOCAL_BATCH) as u64);
    say(
        c,
        "identical weights on every rank after every epoch; two runs equal bit for bit",
    );
}

fn equals_single_process(c: &dyn Collective, reg: Regularization, with_validation: bool) {
    let cfg = config(3, reg);
    let (dist, report) = train_shards(c, &cfg, with_validation);
    // one process: the same global batches (size x local batch rows, in the order the ranks
    // visit them)
    let (x, y) = data(ROWS, 1);
    let (vx, vy) = data(VAL_ROWS, 2);
    let order = Shard::of(c, ROWS).unwrap().global_order(LOCAL_BATCH);
    let xs = gather(&x, LAYERS[0], &order);
    let ys = gather(&y, LAYERS[2], &order);
    let mut single = network();
    let one = TrainConfig {
        batch_size: LOCAL_BATCH * c.size(),
        threads: 1,
        ..cfg
    };
    let val = with_validation.then_some((&vx[..], &vy[..]));
    let r = single.train(&one, &xs, &ys, val).unwrap();
    let d = rel_diff(dist.weights(), single.weights());
    assert!(d < 1e-5, "relative difference {d} to one process ({reg:?})");
    if c.size() == 1 && !reg.is_active() {
        // one rank, a batch of 4 (dividing by it is exact): the same operations
        assert_eq!(dist.weights(), single.weights());
    }
    assert_ne!(
        dist.weights(),
        network().weights(),
        "training changed nothing"
    );
    assert_eq!(report.report.epochs_run, r.epochs_run);
    assert_eq!(report.report.best_epoch, r.best_epoch);
    for (a, b) in report.report.history.iter().zip(&r.history) {
        assert!((a.train_error - b.train_error).abs() <= 1e-5 * b.train_error);
        if with_validation {
            assert!((a.validation_error - b.validation_error).abs() <= 1e-5 * b.validation_error);
        } else {
            assert!(a.validation_error.is_nan());
        }
    }
    say(
        c,
        &format!(
            "equal to one process to {d:.1e} after 3 epochs ({:?})",
            reg.kind
        ),
    );
}

fn bad_shape_is_the_same_error_everywhere(c: &dyn Collective) {
    let (x, y) = data(ROWS, 1);
    let shard = Shard::of(c, ROWS).unwrap();
    let bad_rank = c.size() - 1;
    let mut lx = shard.slice(&x, LAYERS[0]).unwrap();
    if c.rank() == bad_rank {
        lx = &lx[1..];
    }
    let local = LocalData {
        x: lx,
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: None,
    };
    let mut net = network();
    let before = net.weights().to_vec();
    let cfg = DistributedConfig {
        train: config(2, Regularization::none()),
        checkpoint: None,
    };
    let e = distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch(_)), "{e}");
    assert!(
        e.message().starts_with(&format!("rank {bad_rank}: ")),
        "{e}"
    );
    assert!(c.all_equal(fingerprint_str(&e.to_string())), "{e}");
    assert_eq!(net.weights(), &before[..]);
    // a bad configuration on one rank only
    let mut bad_cfg = config(2, Regularization::none());
    if c.rank() == 0 {
        bad_cfg.learning_rate = -1.0;
    }
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: None,
    };
    let cfg = DistributedConfig {
        train: bad_cfg,
        checkpoint: None,
    };
    let e = distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(e.message().starts_with("rank 0: learning rate"), "{e}");
    assert!(c.all_equal(fingerprint_str(&e.to_string())));
    say(
        c,
        "bad data or configuration on one rank: the same error on every rank",
    );
}

fn fingerprint_str(s: &str) -> u64 {
    let v: Vec<f32> = s.bytes().map(f32::from).collect();
    fingerprint(&v)
}

fn different_weights_are_refused(c: &dyn Collective) {
    if c.size() == 1 {
        return;
    }
    let (x, y) = data(ROWS, 1);
    let shard = Shard::of(c, ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: None,
    };
    let mut net = Network::new(&LAYERS, Output::Tanh, 7 + c.rank() as u64, 0.5).unwrap();
    let cfg = DistributedConfig {
        train: config(1, Regularization::none()),
        checkpoint: None,
    };
    let e = distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(e.message().contains("different networks"), "{e}");
    say(c, "ranks with different weights: an error on every rank");
}

fn one_rank_stopping_stops_all(c: &dyn Collective) {
    let (x, y) = data(ROWS, 1);
    let shard = Shard::of(c, ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: None,
    };
    let mut net = network();
    let cfg = DistributedConfig {
        train: config(5, Regularization::none()),
        checkpoint: None,
    };
    let last = c.size() - 1;
    let r =
        distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |info, _| {
            if c.rank() == last && info.epoch == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(r.report.epochs_run, 2);
    assert!(r.report.stopped_by_callback);
    say(c, "a callback stopping on one rank stops every rank");
}

fn checkpoint_is_written_by_rank_0(c: &dyn Collective) {
    let (x, y) = data(ROWS, 1);
    let (vx, vy) = data(VAL_ROWS, 2);
    let shard = Shard::of(c, ROWS).unwrap();
    let vshard = Shard::of(c, VAL_ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: Some((
            vshard.slice(&vx, LAYERS[0]).unwrap(),
            vshard.slice(&vy, LAYERS[2]).unwrap(),
        )),
    };
    // groups in one process (tests run in parallel) each take a fresh number from rank 0
    static GROUPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut group = [0u8; 8];
    if c.rank() == 0 {
        group = GROUPS
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes();
    }
    c.broadcast(0, &mut group);
    let path = std::env::temp_dir().join(format!(
        "nnet-checkpoint-{}-{}-{}.nnet",
        c.size(),
        std::process::id(),
        u64::from_le_bytes(group)
    ));
    // every rank must use rank 0's path: only rank 0 writes
    let mut net = network();
    let cfg = DistributedConfig {
        train: config(4, Regularization::none()),
        checkpoint: Some(&path),
    };
    distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap();
    if c.rank() == 0 {
        let saved = Network::load(&path).unwrap();
        assert_eq!(
            saved.weights(),
            net.weights(),
            "the checkpoint is the kept epoch"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // a checkpoint rank 0 cannot write is an error on every rank
    let bad = std::path::Path::new("/nonexistent-dir/nnet.nnet");
    let cfg = DistributedConfig {
        train: config(2, Regularization::none()),
        checkpoint: Some(bad),
    };
    let mut net = network();
    let e = distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e}");
    assert!(e.message().starts_with("rank 0: "), "{e}");
    say(
        c,
        "rank 0 writes the checkpoint; its failure is an error on every rank",
    );
}

/// A fresh checkpoint path, the same on every rank (rank 0's).
fn checkpoint_path(c: &dyn Collective, what: &str) -> std::path::PathBuf {
    static GROUPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut group = [0u8; 8];
    if c.rank() == 0 {
        group = GROUPS
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes();
    }
    c.broadcast(0, &mut group);
    std::env::temp_dir().join(format!(
        "nnet-{what}-{}-{}-{}.nnet",
        c.size(),
        std::process::id(),
        u64::from_le_bytes(group)
    ))
}

/// The restart settings of the restart checks: 3 runs of at most 4 epochs, early stopping
/// after 2 epochs without a better validation error, a step schedule.
fn restart_config(optimizer: Option<Optimizer>) -> TrainConfig {
    TrainConfig {
        restarts: 2,
        init_range: 0.5,
        seed: 5,
        patience: 2,
        schedule: Schedule::Step {
            gamma: 0.5,
            every: 2,
        },
        optimizer: optimizer.unwrap_or(Optimizer::Sgd),
        ..config(4, Regularization::none())
    }
}

/// Restarts: every run re-initializes identically on every rank (the weights agree bit for
/// bit after every epoch of every run), the optimizer state starts over, and the kept run, its
/// report and every epoch of every run agree with one process over the same global batches;
/// with one rank and plain SGD bit for bit. Rank 0's checkpoint ends as the kept network.
fn restarts_equal_single_process(
    c: &dyn Collective,
    optimizer: Option<Optimizer>,
    with_validation: bool,
) {
    let cfg = restart_config(optimizer);
    let (x, y) = data(ROWS, 1);
    let (vx, vy) = data(VAL_ROWS, 2);
    let shard = Shard::of(c, ROWS).unwrap();
    let vshard = Shard::of(c, VAL_ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: with_validation.then(|| {
            (
                vshard.slice(&vx, LAYERS[0]).unwrap(),
                vshard.slice(&vy, LAYERS[2]).unwrap(),
            )
        }),
    };
    let path = checkpoint_path(c, "restarts");
    let dcfg = DistributedConfig {
        train: cfg.clone(),
        checkpoint: Some(&path),
    };
    let mut dist = network();
    let mut seen: Vec<EpochInfo> = Vec::new();
    let mut on_epoch = |info: &EpochInfo, net: &Network| {
        seen.push(*info);
        assert!(
            c.all_equal(fingerprint(net.weights())),
            "weights differ between ranks after epoch {} of run {}",
            info.epoch,
            seen.iter().filter(|e| e.epoch == 1).count() - 1
        );
        ControlFlow::Continue(())
    };
    let report = match optimizer {
        None => distributed::train_distributed(
            &mut dist,
            local,
            &dcfg,
            c,
            distributed::sgd,
            &mut on_epoch,
        ),
        Some(o) => distributed::train_distributed(
            &mut dist,
            local,
            &dcfg,
            c,
            OptimizerState::for_network(o, &network()).unwrap(),
            &mut on_epoch,
        ),
    }
    .unwrap()
    .report;
    assert!(c.all_equal(fingerprint(dist.weights())));
    if c.rank() == 0 {
        let saved = Network::load(&path).unwrap();
        assert_eq!(
            saved.weights(),
            dist.weights(),
            "the checkpoint is the kept run"
        );
        std::fs::remove_file(&path).unwrap();
    }

    let order = shard.global_order(LOCAL_BATCH);
    let xs = gather(&x, LAYERS[0], &order);
    let ys = gather(&y, LAYERS[2], &order);
    let one = TrainConfig {
        batch_size: LOCAL_BATCH * c.size(),
        threads: 1,
        ..cfg
    };
    let mut single = network();
    let mut single_seen: Vec<EpochInfo> = Vec::new();
    let val = with_validation.then_some((&vx[..], &vy[..]));
    let r = single
        .train_with_callback(&one, &xs, &ys, val, |info| {
            single_seen.push(*info);
            ControlFlow::Continue(())
        })
        .unwrap();
    let what = format!("{optimizer:?}, validation {with_validation}");
    assert_eq!(report.run, r.run, "{what}");
    assert_eq!(report.epochs_run, r.epochs_run, "{what}");
    assert_eq!(report.best_epoch, r.best_epoch, "{what}");
    assert_eq!(seen.len(), single_seen.len(), "{what}: epochs of all runs");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs() || (a.is_nan() && b.is_nan());
    for (a, b) in seen.iter().zip(&single_seen) {
        assert_eq!(a.epoch, b.epoch, "{what}");
        assert!(close(a.train_error, b.train_error), "{what}: {a:?} {b:?}");
        assert!(
            close(a.validation_error, b.validation_error),
            "{what}: {a:?} {b:?}"
        );
    }
    let d = rel_diff(dist.weights(), single.weights());
    assert!(d < 1e-5, "{what}: relative difference {d} to one process");
    if c.size() == 1 && optimizer.is_none() {
        assert_eq!(dist.weights(), single.weights(), "{what}: one rank");
        let bits = |h: &[EpochInfo]| -> Vec<(u32, u64, u64)> {
            h.iter()
                .map(|e| {
                    (
                        e.epoch,
                        e.train_error.to_bits(),
                        e.validation_error.to_bits(),
                    )
                })
                .collect()
        };
        assert_eq!(bits(&seen), bits(&single_seen), "{what}: one rank");
    }
    // the runs start from different weights
    let firsts: Vec<f64> = seen
        .iter()
        .filter(|e| e.epoch == 1)
        .map(|e| e.train_error)
        .collect();
    assert_eq!(firsts.len(), 3, "{what}: three runs");
    assert!(firsts[0] != firsts[1] && firsts[1] != firsts[2], "{what}");
    say(
        c,
        &format!(
            "restarts ({what}): kept run {} of 3, equal to one process to {d:.1e}, every \
             epoch of every run",
            report.run
        ),
    );
}

/// A callback's stop in the first run ends the whole call (no restart runs).
fn restarts_stop_on_a_callback(c: &dyn Collective) {
    let (x, y) = data(ROWS, 1);
    let shard = Shard::of(c, ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: None,
    };
    let dcfg = DistributedConfig {
        train: restart_config(None),
        checkpoint: None,
    };
    let mut net = network();
    let mut calls = 0;
    let r = distributed::train_distributed(&mut net, local, &dcfg, c, distributed::sgd, |_, _| {
        calls += 1;
        if calls == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(calls, 2);
    assert_eq!((r.report.run, r.report.epochs_run), (0, 2));
    assert!(r.report.stopped_by_callback);
    say(c, "restarts: a callback's stop ends every run");
}

/// Local batches on the engine's matrix-product path (`batch * D >= 1024`): each rank's
/// gradient sum comes from the products of the engine's mini-batch step. Identical weights on
/// every rank after every epoch, two runs equal bit for bit, and equal to one process over the
/// same global batches to float32 rounding; with one rank and an optimizer state (a batch of
/// 128, so dividing by it is exact) bit for bit, as one process computes the same products.
fn matrix_products_equal_single_process(
    c: &dyn Collective,
    optimizer: Option<Optimizer>,
    reg: Regularization,
) {
    let cfg = TrainConfig {
        batch_size: GEMM_LOCAL_BATCH,
        optimizer: optimizer.unwrap_or(Optimizer::Sgd),
        ..config(3, reg)
    };
    let rows = GEMM_ROWS / c.size();
    assert_eq!(network().train_plan(&cfg, rows).path, TrainPath::Gemm);
    let (x, y) = data(GEMM_ROWS, 3);
    let (vx, vy) = data(VAL_ROWS, 2);
    let shard = Shard::of(c, GEMM_ROWS).unwrap();
    let vshard = Shard::of(c, VAL_ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: Some((
            vshard.slice(&vx, LAYERS[0]).unwrap(),
            vshard.slice(&vy, LAYERS[2]).unwrap(),
        )),
    };
    let dcfg = DistributedConfig {
        train: cfg.clone(),
        checkpoint: None,
    };
    let train = || {
        let mut net = network();
        let on_epoch = |info: &EpochInfo, net: &Network| {
            assert!(
                c.all_equal(fingerprint(net.weights())),
                "weights differ between ranks after epoch {}",
                info.epoch
            );
            ControlFlow::Continue(())
        };
        let r = match optimizer {
            None => distributed::train_distributed(
                &mut net,
                local,
                &dcfg,
                c,
                distributed::sgd,
                on_epoch,
            ),
            Some(o) => distributed::train_distributed(
                &mut net,
                local,
                &dcfg,
                c,
                OptimizerState::for_network(o, &network()).unwrap(),
                on_epoch,
            ),
        }
        .unwrap();
        (net, r)
    };
    let (dist, report) = train();
    let (again, _) = train();
    assert_eq!(dist.weights(), again.weights(), "two runs differ");
    let per_epoch = (rows).div_ceil(GEMM_LOCAL_BATCH) as u64;
    assert_eq!(report.steps, 3 * per_epoch);

    let order = shard.global_order(GEMM_LOCAL_BATCH);
    let xs = gather(&x, LAYERS[0], &order);
    let ys = gather(&y, LAYERS[2], &order);
    let one = TrainConfig {
        batch_size: GEMM_LOCAL_BATCH * c.size(),
        threads: 1,
        ..cfg
    };
    let mut single = network();
    let r = single
        .train(&one, &xs, &ys, Some((&vx[..], &vy[..])))
        .unwrap();
    let what = format!("{optimizer:?}, {:?}", reg.kind);
    let d = rel_diff(dist.weights(), single.weights());
    assert!(d < 1e-5, "{what}: relative difference {d} to one process");
    if c.size() == 1 && optimizer.is_some() {
        assert_eq!(dist.weights(), single.weights(), "{what}: one rank");
    }
    assert_ne!(
        dist.weights(),
        network().weights(),
        "training changed nothing"
    );
    assert_eq!(report.report.best_epoch, r.best_epoch, "{what}");
    for (a, b) in report.report.history.iter().zip(&r.history) {
        assert!(
            (a.train_error - b.train_error).abs() <= 1e-5 * b.train_error,
            "{what}"
        );
        assert!(
            (a.validation_error - b.validation_error).abs() <= 1e-5 * b.validation_error,
            "{what}"
        );
    }
    say(
        c,
        &format!(
            "matrix-product gradient sums ({what}): equal to one process to {d:.1e} after 3 \
             epochs"
        ),
    );
}

/// The settings of the resume checks: shuffled rows, validation with patience 2, a step
/// schedule, 3 runs of at most 6 epochs, a resumable checkpoint every 2 epochs.
fn resume_config(optimizer: Option<Optimizer>, path: &std::path::Path, seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: 6,
        order: Order::Shuffle,
        seed,
        checkpoint: Some(Checkpointing {
            path: path.to_path_buf(),
            every: 2,
        }),
        ..restart_config(optimizer)
    }
}

/// Trains this rank's shards with validation (resuming from the checkpoint with `resume`),
/// the callback stopping at its `stop_at`-th call; returns the network, the report and the
/// epochs the callback saw.
fn train_resumable(
    c: &dyn Collective,
    cfg: &TrainConfig,
    optimizer: Option<Optimizer>,
    resume: bool,
    stop_at: Option<usize>,
) -> (Network, nnet::Result<TrainReport>, Vec<EpochInfo>) {
    let (x, y) = data(ROWS, 1);
    let (vx, vy) = data(VAL_ROWS, 2);
    let shard = Shard::of(c, ROWS).unwrap();
    let vshard = Shard::of(c, VAL_ROWS).unwrap();
    let local = LocalData {
        x: shard.slice(&x, LAYERS[0]).unwrap(),
        y: shard.slice(&y, LAYERS[2]).unwrap(),
        validation: Some((
            vshard.slice(&vx, LAYERS[0]).unwrap(),
            vshard.slice(&vy, LAYERS[2]).unwrap(),
        )),
    };
    let dcfg = DistributedConfig {
        train: cfg.clone(),
        checkpoint: None,
    };
    let mut net = network();
    let mut seen = Vec::new();
    let on_epoch = |info: &EpochInfo, net: &Network| {
        seen.push(*info);
        assert!(c.all_equal(fingerprint(net.weights())));
        if Some(seen.len()) == stop_at {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let train = if resume {
        distributed::train_distributed_resume
    } else {
        distributed::train_distributed
    };
    let r = match optimizer {
        None => train(&mut net, local, &dcfg, c, distributed::sgd, on_epoch),
        Some(o) => {
            let state = OptimizerState::for_network(o, &network()).unwrap();
            distributed_with_state(resume, &mut net, local, &dcfg, c, state, on_epoch)
        }
    };
    (net, r.map(|r| r.report), seen)
}

#[allow(clippy::too_many_arguments)]
fn distributed_with_state<F>(
    resume: bool,
    net: &mut Network,
    local: LocalData<'_>,
    dcfg: &DistributedConfig<'_>,
    c: &dyn Collective,
    state: OptimizerState,
    on_epoch: F,
) -> nnet::Result<DistributedReport>
where
    F: FnMut(&EpochInfo, &Network) -> ControlFlow<()>,
{
    if resume {
        distributed::train_distributed_resume(net, local, dcfg, c, state, on_epoch)
    } else {
        distributed::train_distributed(net, local, dcfg, c, state, on_epoch)
    }
}

/// The report's fields with its floats as bits.
fn report_bits(r: &TrainReport) -> String {
    let h: Vec<(u32, u64, u64)> = r
        .history
        .iter()
        .map(|e| {
            (
                e.epoch,
                e.train_error.to_bits(),
                e.validation_error.to_bits(),
            )
        })
        .collect();
    format!(
        "{} {} {} {} {} {} {h:?}",
        r.epochs_run,
        r.best_epoch,
        r.run,
        r.train_error.to_bits(),
        r.validation_error.to_bits(),
        r.stopped_by_callback
    )
}

/// A run stopped by the callback after epoch k (in the first run and in a restart), then
/// resumed from rank 0's checkpoint, ends with the weights, report and callback epochs of the
/// uninterrupted run bit for bit (every rank restores its own sample order and generator).
fn resumed_run_equals_uninterrupted(c: &dyn Collective, optimizer: Option<Optimizer>) {
    let path = checkpoint_path(c, "resume");
    let cfg = resume_config(optimizer, &path, 5);
    let (full, full_report, full_seen) = train_resumable(c, &cfg, optimizer, false, None);
    let full_report = full_report.unwrap();
    assert!(full_seen.len() > 6, "{optimizer:?}: more than one run");
    // resuming without the file starts from the beginning
    if c.rank() == 0 {
        std::fs::remove_file(&path).unwrap();
    }
    let (fresh, fresh_report, _) = train_resumable(c, &cfg, optimizer, true, None);
    assert_eq!(fresh.weights(), full.weights(), "{optimizer:?}: no file");
    assert_eq!(
        report_bits(&fresh_report.unwrap()),
        report_bits(&full_report)
    );
    for stop_at in [3, 5, full_seen.len() - 2] {
        if c.rank() == 0 {
            std::fs::remove_file(&path).unwrap();
        }
        let (_, stopped, mut seen) = train_resumable(c, &cfg, optimizer, false, Some(stop_at));
        assert!(stopped.unwrap().stopped_by_callback);
        let (resumed, report, rest) = train_resumable(c, &cfg, optimizer, true, None);
        let what = format!("{optimizer:?}, stopped after epoch {stop_at} of all runs");
        assert_eq!(resumed.weights(), full.weights(), "{what}");
        assert!(c.all_equal(fingerprint(resumed.weights())));
        assert_eq!(
            report_bits(&report.unwrap()),
            report_bits(&full_report),
            "{what}"
        );
        seen.extend(rest);
        assert_eq!(format!("{seen:?}"), format!("{full_seen:?}"), "{what}");
    }
    if c.rank() == 0 {
        std::fs::remove_file(&path).unwrap();
    }
    say(
        c,
        &format!(
            "resumed from rank 0's checkpoint ({optimizer:?}): weights and report equal to the \
             uninterrupted run bit for bit"
        ),
    );
}

/// A checkpoint of another run (another seed) is refused with the same error on every rank,
/// the network unchanged.
fn mismatched_checkpoint_is_refused(c: &dyn Collective) {
    let path = checkpoint_path(c, "mismatch");
    let cfg = resume_config(None, &path, 5);
    let (_, r, _) = train_resumable(c, &cfg, None, false, Some(3));
    assert!(r.unwrap().stopped_by_callback);
    let other = resume_config(None, &path, 6);
    let (net, r, seen) = train_resumable(c, &other, None, true, None);
    let e = r.unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(
        e.message()
            .contains("`seed` is 5 in the checkpoint, 6 in this run"),
        "{e}"
    );
    assert!(c.all_equal(fingerprint_str(&e.to_string())), "{e}");
    assert_eq!(net.weights(), network().weights());
    assert!(seen.is_empty());
    // an update with state does not resume a checkpoint of plain SGD
    let (_, r, _) = train_resumable(c, &cfg, Some(Optimizer::momentum()), true, None);
    let e = r.unwrap_err();
    assert!(e.message().contains("`optimizer_state`"), "{e}");
    if c.rank() == 0 {
        std::fs::remove_file(&path).unwrap();
    }
    // resuming needs a checkpoint path
    let none = TrainConfig {
        checkpoint: None,
        ..cfg
    };
    let (_, r, _) = train_resumable(c, &none, None, true, None);
    let e = r.unwrap_err();
    assert!(
        e.message().contains("resuming needs a checkpoint path"),
        "{e}"
    );
    say(
        c,
        "a checkpoint of another run: the same error on every rank",
    );
}
