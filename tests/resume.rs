//! Checkpoints and resume (SPEC section 7): a run stopped at any epoch and resumed from its
//! checkpoint ends with the weights and report of an uninterrupted run, bit for bit, for
//! every optimizer and training path, with early stopping, validation and restarts; a
//! checkpoint of another run or a damaged file is refused without changing the network.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use nnet::{
    Checkpointing, Error, Network, Optimizer, Order, Output, Regularization, Schedule, TrainConfig,
    TrainPath, TrainReport,
};

const LAYERS: [usize; 4] = [4, 16, 8, 2];
const ROWS: usize = 80;
const VAL_ROWS: usize = 24;

struct Data {
    x: Vec<f32>,
    y: Vec<f32>,
    vx: Vec<f32>,
    vy: Vec<f32>,
}

fn lcg(state: &mut u64) -> f32 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ((*state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

fn data() -> Data {
    let mut s = 12345u64;
    let mut rows = |n: usize, noise: f32| {
        let x: Vec<f32> = (0..n * LAYERS[0]).map(|_| lcg(&mut s)).collect();
        let y: Vec<f32> = x
            .chunks(LAYERS[0])
            .flat_map(|r| {
                let a = (r[0] * 1.3 - r[1] * 0.7 + r[2] * r[3]).tanh() * 0.8;
                let b = (r[1] + r[2] - r[3]).sin() * 0.6;
                [a, b]
            })
            .collect();
        let y: Vec<f32> = y.iter().map(|v| v + noise * lcg(&mut s)).collect();
        (x, y)
    };
    let (x, y) = rows(ROWS, 0.05);
    // noisy validation targets, so that early stopping ends some runs early
    let (vx, vy) = rows(VAL_ROWS, 0.4);
    Data { x, y, vx, vy }
}

fn network() -> Network {
    Network::new(&LAYERS, Output::Linear, 7, 0.5).unwrap()
}

/// A fresh checkpoint path; on a RAM file system where there is one (/dev/shm), so that the
/// thousands of synced writes of these tests cost little.
fn temp_path(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!(
        "nnet-resume-{}-{what}-{}.ckpt",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn bits(w: &[f32]) -> Vec<u32> {
    w.iter().map(|v| v.to_bits()).collect()
}

/// Reports compared bit for bit (NaN validation errors included).
fn same_report(a: &TrainReport, b: &TrainReport) -> bool {
    let f = |v: f64| v.to_bits();
    a.epochs_run == b.epochs_run
        && a.best_epoch == b.best_epoch
        && a.run == b.run
        && a.stopped_by_callback == b.stopped_by_callback
        && f(a.train_error) == f(b.train_error)
        && f(a.validation_error) == f(b.validation_error)
        && a.history.len() == b.history.len()
        && a.history.iter().zip(&b.history).all(|(p, q)| {
            p.epoch == q.epoch
                && f(p.train_error) == f(q.train_error)
                && f(p.validation_error) == f(q.validation_error)
        })
}

fn optimizers() -> Vec<(&'static str, Optimizer)> {
    vec![
        ("sgd", Optimizer::Sgd),
        ("momentum", Optimizer::momentum()),
        ("nesterov", Optimizer::nesterov()),
        ("adam", Optimizer::adam()),
        ("adamw", Optimizer::adamw()),
        ("rprop", Optimizer::rprop()),
    ]
}

/// A base configuration for `optimizer` at `batch`, checkpointing every epoch to `path`.
fn config(optimizer: Optimizer, batch: usize, path: PathBuf) -> TrainConfig {
    TrainConfig {
        learning_rate: match optimizer {
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } => 0.01,
            Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => 0.01,
            _ => 0.05,
        },
        epochs: 9,
        batch_size: batch,
        optimizer,
        seed: 3,
        threads: 1,
        checkpoint: Some(Checkpointing::every_epoch(path)),
        ..TrainConfig::default()
    }
}

/// The scenarios of one optimizer and batch: plain, and early stopping with validation,
/// restarts, a regularizer and a schedule, in every sample order.
fn scenarios(optimizer: Optimizer, batch: usize) -> Vec<(String, TrainConfig, bool)> {
    let mut out = Vec::new();
    let base = config(optimizer, batch, temp_path("s"));
    out.push(("plain shuffle".to_string(), base.clone(), false));
    for order in [Order::Shuffle, Order::Sequential, Order::RandomPick] {
        let cfg = TrainConfig {
            order,
            patience: 2,
            restarts: 2,
            init_range: 0.4,
            regularization: Regularization::l2(1e-3),
            schedule: Schedule::Cosine { eta_min: 0.0 },
            ..base.clone()
        };
        out.push((
            format!("{order:?} val+patience+restarts"),
            cfg.clone(),
            true,
        ));
        out.push((
            format!("{order:?} restarts without validation"),
            TrainConfig {
                patience: 0,
                epochs: 5,
                ..cfg
            },
            false,
        ));
    }
    out
}

fn stop_after(n: usize) -> impl FnMut(&nnet::EpochInfo) -> ControlFlow<()> {
    let mut seen = 0;
    move |_| {
        seen += 1;
        if seen >= n {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Trains uninterrupted, then again stopped every `every` epochs (counted over all runs)
/// and resumed until done; both must end equal, bit for bit.
fn check_resumes(name: &str, cfg: &TrainConfig, validation: bool, every: &[usize]) {
    let d = data();
    let val = validation.then_some((&d.vx[..], &d.vy[..]));
    let plain = TrainConfig {
        checkpoint: None,
        ..cfg.clone()
    };
    let mut reference = network();
    let want = reference.train(&plain, &d.x, &d.y, val).unwrap();
    // writing checkpoints changes nothing
    let mut with_files = network();
    let got = with_files.train(cfg, &d.x, &d.y, val).unwrap();
    assert!(
        same_report(&got, &want),
        "{name}: checkpointing changed the report"
    );
    assert_eq!(
        bits(with_files.weights()),
        bits(reference.weights()),
        "{name}"
    );
    let total: usize = want.history.len().max(1);
    for &n in every {
        let mut net = network();
        let mut r = net
            .train_with_callback(cfg, &d.x, &d.y, val, stop_after(n))
            .unwrap();
        let mut resumes = 0;
        while r.stopped_by_callback {
            r = net
                .resume_with_callback(cfg, &d.x, &d.y, val, stop_after(n))
                .unwrap();
            resumes += 1;
            assert!(resumes <= 200, "{name}: resuming does not end");
        }
        assert!(
            same_report(&r, &want),
            "{name}, stopped every {n} epochs ({resumes} resumes, {total} epochs kept): \
             {r:?} != {want:?}"
        );
        assert_eq!(
            bits(net.weights()),
            bits(reference.weights()),
            "{name}, stopped every {n} epochs: weights differ"
        );
        // the checkpoint of a finished run gives the result again, without any epoch
        let mut again = network();
        let mut calls = 0;
        let r2 = again
            .resume_with_callback(cfg, &d.x, &d.y, val, |_| {
                calls += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(calls, 0, "{name}: a finished checkpoint ran epochs");
        assert!(same_report(&r2, &want), "{name}");
        assert_eq!(bits(again.weights()), bits(reference.weights()), "{name}");
    }
    let _ = std::fs::remove_file(&cfg.checkpoint.as_ref().unwrap().path);
}

fn check_optimizer(name: &str, optimizer: Optimizer, batches: &[usize]) {
    for &batch in batches {
        for (what, cfg, validation) in scenarios(optimizer, batch) {
            let label = format!("{name} batch {batch} {what}");
            check_resumes(&label, &cfg, validation, &[1, 4, 7]);
        }
    }
}

#[test]
fn sgd_resumes_bitwise_on_every_path() {
    let net = network();
    let plan = |batch, reg: bool| {
        let cfg = TrainConfig {
            batch_size: batch,
            regularization: if reg {
                Regularization::l2(1e-3)
            } else {
                Regularization::none()
            },
            ..TrainConfig::default()
        };
        net.train_plan(&cfg, ROWS).path
    };
    // the paths these batches take: the fused pass, per-sample with a regularizer, the
    // matrix products, and the accumulated rank-1 updates
    assert_eq!(plan(1, false), TrainPath::FusedSgd);
    assert_eq!(plan(1, true), TrainPath::PerSample);
    assert_eq!(plan(16, false), TrainPath::Gemm);
    assert_eq!(plan(2, false), TrainPath::Accumulated);
    check_optimizer("sgd", Optimizer::Sgd, &[1, 2, 16, ROWS]);
}

#[test]
fn momentum_resumes_bitwise() {
    check_optimizer("momentum", Optimizer::momentum(), &[1, 16, ROWS]);
}

#[test]
fn nesterov_resumes_bitwise() {
    check_optimizer("nesterov", Optimizer::nesterov(), &[1, 16, ROWS]);
}

#[test]
fn adam_resumes_bitwise() {
    check_optimizer("adam", Optimizer::adam(), &[1, 16, ROWS]);
}

#[test]
fn adamw_resumes_bitwise() {
    check_optimizer("adamw", Optimizer::adamw(), &[1, 32, ROWS]);
}

#[test]
fn rprop_resumes_bitwise_full_batch() {
    check_optimizer("rprop", Optimizer::rprop(), &[ROWS]);
}

#[test]
fn every_optimizer_resumes_with_a_longer_interval() {
    // checkpoints every 3 epochs: a stop in between writes its own checkpoint
    for (name, o) in optimizers() {
        let batch = if name == "rprop" { ROWS } else { 16 };
        let mut cfg = config(o, batch, temp_path("every3"));
        cfg.checkpoint.as_mut().unwrap().every = 3;
        cfg.restarts = 1;
        check_resumes(&format!("{name} every 3"), &cfg, true, &[2, 5]);
    }
}

#[test]
fn resume_without_a_file_trains_from_the_beginning() {
    let d = data();
    let cfg = config(Optimizer::adam(), 16, temp_path("fresh"));
    let mut a = network();
    let want = a.train(&cfg, &d.x, &d.y, None).unwrap();
    std::fs::remove_file(&cfg.checkpoint.as_ref().unwrap().path).unwrap();
    let mut b = network();
    let got = b.resume(&cfg, &d.x, &d.y, None).unwrap();
    assert!(same_report(&got, &want));
    assert_eq!(bits(a.weights()), bits(b.weights()));
    // and it left a checkpoint of the finished run
    assert!(cfg.checkpoint.as_ref().unwrap().path.exists());
    // the thread count is not part of a run's identity: results do not depend on it
    let mut c = network();
    let other_threads = TrainConfig {
        threads: 2,
        ..cfg.clone()
    };
    c.train_with_callback(&cfg, &d.x, &d.y, None, stop_after(3))
        .unwrap();
    let got = c.resume(&other_threads, &d.x, &d.y, None).unwrap();
    assert!(same_report(&got, &want));
    assert_eq!(bits(a.weights()), bits(c.weights()));
    std::fs::remove_file(&cfg.checkpoint.as_ref().unwrap().path).unwrap();
}

/// A network stopped after 3 epochs of `cfg` (its checkpoint on disk).
fn stopped(cfg: &TrainConfig, d: &Data) -> Network {
    let mut net = network();
    let r = net
        .train_with_callback(cfg, &d.x, &d.y, Some((&d.vx, &d.vy)), stop_after(3))
        .unwrap();
    assert!(r.stopped_by_callback);
    net
}

fn expect_mismatch(
    net: &mut Network,
    cfg: &TrainConfig,
    x: &[f32],
    y: &[f32],
    val: Option<(&[f32], &[f32])>,
    field: &str,
) {
    let before = bits(net.weights());
    match net.resume(cfg, x, y, val) {
        Err(Error::InvalidArgument(m)) => {
            assert!(
                m.contains(&format!("`{field}`")),
                "{m:?} does not name {field}"
            )
        }
        other => panic!("expected a mismatch naming {field}, got {other:?}"),
    }
    assert_eq!(
        bits(net.weights()),
        before,
        "a refused resume changed the network"
    );
}

#[test]
fn a_checkpoint_of_another_run_is_refused_by_name() {
    let d = data();
    let cfg = TrainConfig {
        patience: 3,
        restarts: 1,
        ..config(Optimizer::momentum(), 16, temp_path("mismatch"))
    };
    let mut net = stopped(&cfg, &d);
    let val = Some((&d.vx[..], &d.vy[..]));
    let changes: Vec<(&str, TrainConfig)> = vec![
        (
            "learning_rate",
            TrainConfig {
                learning_rate: 0.051,
                ..cfg.clone()
            },
        ),
        (
            "epochs",
            TrainConfig {
                epochs: 10,
                ..cfg.clone()
            },
        ),
        (
            "batch_size",
            TrainConfig {
                batch_size: 8,
                ..cfg.clone()
            },
        ),
        (
            "sample_order",
            TrainConfig {
                order: Order::Sequential,
                ..cfg.clone()
            },
        ),
        (
            "regularization",
            TrainConfig {
                regularization: Regularization::l1(1e-3),
                ..cfg.clone()
            },
        ),
        (
            "patience",
            TrainConfig {
                patience: 4,
                ..cfg.clone()
            },
        ),
        (
            "restarts",
            TrainConfig {
                restarts: 2,
                ..cfg.clone()
            },
        ),
        (
            "seed",
            TrainConfig {
                seed: 4,
                ..cfg.clone()
            },
        ),
        (
            "init_range",
            TrainConfig {
                init_range: 0.2,
                ..cfg.clone()
            },
        ),
        (
            "optimizer",
            TrainConfig {
                optimizer: Optimizer::Momentum { mu: 0.8 },
                ..cfg.clone()
            },
        ),
        (
            "schedule",
            TrainConfig {
                schedule: Schedule::Exponential { gamma: 0.9 },
                ..cfg.clone()
            },
        ),
    ];
    for (field, other) in &changes {
        expect_mismatch(&mut net, other, &d.x, &d.y, val, field);
    }
    // other data: one value, fewer rows, another validation set or none
    let mut x2 = d.x.clone();
    x2[17] += 0.25;
    expect_mismatch(&mut net, &cfg, &x2, &d.y, val, "training_data");
    let mut y2 = d.y.clone();
    y2[3] = -y2[3];
    expect_mismatch(&mut net, &cfg, &d.x, &y2, val, "training_data");
    expect_mismatch(
        &mut net,
        &cfg,
        &d.x[..(ROWS - 1) * LAYERS[0]],
        &d.y[..(ROWS - 1) * 2],
        val,
        "rows",
    );
    let mut vy2 = d.vy.clone();
    vy2[0] += 1.0;
    expect_mismatch(
        &mut net,
        &cfg,
        &d.x,
        &d.y,
        Some((&d.vx, &vy2)),
        "validation_data",
    );
    expect_mismatch(&mut net, &cfg, &d.x, &d.y, None, "validation_rows");
    // another network: layers, output, scaling
    let mut wide = Network::new(&[4, 17, 8, 2], Output::Linear, 7, 0.5).unwrap();
    expect_mismatch(&mut wide, &cfg, &d.x, &d.y, val, "layers");
    let mut tanh = Network::new(&LAYERS, Output::Tanh, 7, 0.5).unwrap();
    expect_mismatch(&mut tanh, &cfg, &d.x, &d.y, val, "output");
    let mut scaled = network();
    scaled
        .set_scaling(Some(
            nnet::Scaling::fit(&d.x, LAYERS[0], Some(&d.y), 2).unwrap(),
        ))
        .unwrap();
    expect_mismatch(&mut scaled, &cfg, &d.x, &d.y, val, "scaling");
    // the matching run still resumes
    net.resume(&cfg, &d.x, &d.y, val).unwrap();
    std::fs::remove_file(&cfg.checkpoint.as_ref().unwrap().path).unwrap();
}

#[test]
fn a_damaged_checkpoint_is_a_format_error() {
    let d = data();
    let cfg = config(Optimizer::adam(), 1, temp_path("damaged"));
    let path = cfg.checkpoint.as_ref().unwrap().path.clone();
    let mut net = stopped(&cfg, &d);
    let good = std::fs::read(&path).unwrap();
    let val = Some((&d.vx[..], &d.vy[..]));
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("a model file".into(), network().to_bytes().unwrap()),
    ];
    for len in [1, 8, 20, good.len() / 2, good.len() - 1] {
        cases.push((format!("truncated to {len}"), good[..len].to_vec()));
    }
    for at in [0, 9, 30, good.len() / 3, good.len() - 2] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        cases.push((format!("byte {at} flipped"), b));
    }
    let before = bits(net.weights());
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        match net.resume(&cfg, &d.x, &d.y, val) {
            Err(Error::Format(_)) => {}
            other => panic!("{what}: expected a format error, got {other:?}"),
        }
        assert_eq!(bits(net.weights()), before, "{what}: the network changed");
    }
    std::fs::write(&path, &good).unwrap();
    net.resume(&cfg, &d.x, &d.y, val).unwrap();
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn bad_checkpoint_settings_are_errors() {
    let d = data();
    let mut net = network();
    let before = bits(net.weights());
    let mut cfg = config(Optimizer::Sgd, 1, temp_path("bad"));
    cfg.checkpoint.as_mut().unwrap().every = 0;
    assert!(matches!(
        net.train(&cfg, &d.x, &d.y, None),
        Err(Error::InvalidArgument(m)) if m.contains("interval")
    ));
    let cfg = config(
        Optimizer::Sgd,
        1,
        std::env::temp_dir().join("nnet-no-such-dir-for-resume/run.ckpt"),
    );
    assert!(matches!(
        net.train(&cfg, &d.x, &d.y, None),
        Err(Error::Io(_))
    ));
    assert!(matches!(
        net.resume(&cfg, &d.x, &d.y, None),
        Err(Error::Io(_))
    ));
    let dir = config(Optimizer::Sgd, 1, std::env::temp_dir());
    assert!(matches!(
        net.train(&dir, &d.x, &d.y, None),
        Err(Error::Io(_))
    ));
    let cfg = config(Optimizer::Sgd, 1, PathBuf::new());
    assert!(matches!(
        net.train(&cfg, &d.x, &d.y, None),
        Err(Error::InvalidArgument(_))
    ));
    let none = TrainConfig::default();
    assert!(matches!(
        net.resume(&none, &d.x, &d.y, None),
        Err(Error::InvalidArgument(m)) if m.contains("checkpoint")
    ));
    assert_eq!(bits(net.weights()), before);
}

#[test]
fn an_inconsistent_state_with_a_valid_checksum_is_a_format_error() {
    use nnet::checkpoint::{Checkpoint, Value};
    let d = data();
    let cfg = TrainConfig {
        restarts: 1,
        ..config(Optimizer::adam(), 16, temp_path("inconsistent"))
    };
    let path = cfg.checkpoint.as_ref().unwrap().path.clone();
    let mut net = stopped(&cfg, &d);
    let good = Checkpoint::load(&path).unwrap();
    let n = good.get_f32s("weights").unwrap().len();
    let mut nan_weights = vec![0.0f32; n];
    nan_weights[3] = f32::NAN;
    let changes: Vec<(&str, Value)> = vec![
        ("phase", Value::Str("paused".into())),
        ("run", Value::U64(2)),
        ("epoch", Value::U64(0)),
        ("epoch", Value::U64(9)),
        ("weights", Value::F32s(vec![0.0; n - 1])),
        ("weights", Value::F32s(nan_weights)),
        ("order", Value::U64s(vec![0; ROWS - 1])),
        ("order", Value::U64s(vec![ROWS as u64; ROWS])),
        ("order_rng", Value::Bytes(vec![0; 47])),
        ("best_epoch", Value::U64(4)),
        ("train_errors", Value::F64s(vec![0.5; 2])),
        ("optimizer_s1", Value::F32s(vec![0.0; 5])),
        ("optimizer_t", Value::Str("one".into())),
        ("has_kept", Value::U64(1)),
    ];
    let val = Some((&d.vx[..], &d.vy[..]));
    let before = bits(net.weights());
    for (field, v) in changes {
        let mut c = good.clone();
        c.put(field, v.clone()).unwrap();
        c.save(&path).unwrap();
        match net.resume(&cfg, &d.x, &d.y, val) {
            Err(Error::Format(_)) => {}
            other => panic!("{field} = {v:?}: expected a format error, got {other:?}"),
        }
        assert_eq!(bits(net.weights()), before, "{field}: the network changed");
    }
    good.save(&path).unwrap();
    net.resume(&cfg, &d.x, &d.y, val).unwrap();
    std::fs::remove_file(&path).unwrap();
}
