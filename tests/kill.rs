//! Training that survives SIGKILL (SPEC section 7): a child process (this test binary again,
//! running `train_child`) trains 64-32-10 on sklearn's digits with a checkpoint after every
//! epoch and resumes from it on every start; the parent kills it at seeded pseudo-random
//! moments (right after the start, in an epoch, in the middle of a checkpoint write),
//! starts it again, and once it finishes compares its weights and report bit for bit with an
//! uninterrupted run. Every optimizer on the per-sample and the batched path, early stopping with
//! a validation set and a restart.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nnet::checkpoint::Checkpoint;
use nnet::data::{CsvOptions, Dataset, read_csv};
use nnet::{Checkpointing, Network, Optimizer, Output, TrainConfig, TrainReport};

mod child_process;
use child_process::self_command;

const CHILD_ENV: &str = "NNET_KILL_CHILD";
const TRAIN_ROWS: usize = 400;
const VAL_ROWS: usize = 150;
/// Kills per configuration before the child is let to finish.
const KILLS_PER_CONFIG: usize = 5;

struct Case {
    name: String,
    optimizer: Optimizer,
    batch: usize,
    learning_rate: f32,
}

/// Every optimizer on the per-sample path (batch 1) and on the batched (matrix-product)
/// path, and iRPROP- at its full batch.
fn cases() -> Vec<Case> {
    // (name, optimizer, per-sample rate, batched rate)
    let optimizers: [(&'static str, Optimizer, f32, f32); 5] = [
        ("sgd", Optimizer::Sgd, 0.01, 0.1),
        ("momentum", Optimizer::momentum(), 0.002, 0.02),
        ("nesterov", Optimizer::nesterov(), 0.002, 0.02),
        ("adam", Optimizer::adam(), 0.002, 0.005),
        ("adamw", Optimizer::adamw(), 0.002, 0.005),
    ];
    let mut cases = Vec::new();
    for (name, optimizer, per_sample, batched) in optimizers {
        cases.push(Case {
            name: format!("{name} per-sample"),
            optimizer,
            batch: 1,
            learning_rate: per_sample,
        });
        cases.push(Case {
            name: format!("{name} batched"),
            optimizer,
            batch: 32,
            learning_rate: batched,
        });
    }
    cases.push(Case {
        name: "rprop full-batch".into(),
        optimizer: Optimizer::rprop(),
        batch: TRAIN_ROWS,
        learning_rate: 0.01,
    });
    cases
}

fn config(case: &Case, path: &Path) -> TrainConfig {
    TrainConfig {
        learning_rate: case.learning_rate,
        epochs: 20,
        batch_size: case.batch,
        optimizer: case.optimizer,
        patience: 6,
        restarts: 1,
        init_range: 0.2,
        seed: 11,
        threads: 1,
        checkpoint: Some(Checkpointing::every_epoch(path)),
        ..TrainConfig::default()
    }
}

/// The training and validation rows, and a standardizing network.
fn setup() -> (Dataset, Dataset, Network) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sklearn-digits/digits.train.csv");
    let all = read_csv(file, &CsvOptions::one_hot("target").num_classes(10)).unwrap();
    let idx: Vec<usize> = (0..TRAIN_ROWS + VAL_ROWS).collect();
    let train = all.subset(&idx[..TRAIN_ROWS]).unwrap();
    let val = all.subset(&idx[TRAIN_ROWS..]).unwrap();
    let mut net = Network::new(&[64, 32, 10], Output::Tanh, 5, 0.2).unwrap();
    net.set_scaling(Some(train.fit_scaling(false).unwrap()))
        .unwrap();
    (train, val, net)
}

/// The outcome of a run as one line: the report (Debug prints every float exactly) and
/// the weights' bits.
fn outcome(report: &TrainReport, net: &Network) -> String {
    let w: Vec<String> = net
        .weights()
        .iter()
        .map(|v| format!("{:08x}", v.to_bits()))
        .collect();
    format!("{report:?} weights {}", w.join(""))
}

fn train_or_resume(case: &Case, path: &Path) -> String {
    let (train, val, mut net) = setup();
    let cfg = config(case, path);
    let (x, y) = train.as_pair();
    let report = net.resume(&cfg, x, y, Some(val.as_pair())).unwrap();
    outcome(&report, &net)
}

/// Runs only as the child of `a_killed_training_resumes_bitwise`: resumes (or starts) case
/// `i` at the path named by the environment and prints the outcome.
#[test]
fn train_child() {
    let Some(spec) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let spec = spec.into_string().unwrap();
    let (i, path) = spec.split_once(':').unwrap();
    let case = &cases()[i.parse::<usize>().unwrap()];
    println!("ready");
    let line = train_or_resume(case, Path::new(path));
    println!("result {line}");
}

/// The temporary files in `dir` that a save killed in the middle left behind; removes them.
fn remove_leftovers(dir: &Path, keep: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p != keep {
            std::fs::remove_file(p).unwrap();
            n += 1;
        }
    }
    n
}

#[test]
fn a_killed_training_resumes_bitwise() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let start = Instant::now();
    let dir: PathBuf = std::env::temp_dir().join(format!("nnet-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % bound.max(1)
    };
    let (mut kills, mut mid_save, mut resumed) = (0, 0, 0);
    for (i, case) in cases().iter().enumerate() {
        // the uninterrupted run, in this process, with its own checkpoint file (writing
        // checkpoints costs time, which sets the range of the kill moments)
        let reference_path = dir.join(format!("reference-{i}.ckpt"));
        let t0 = Instant::now();
        let want = train_or_resume(case, &reference_path);
        let full = t0.elapsed();
        std::fs::remove_file(&reference_path).unwrap();
        let path = dir.join(format!("case-{i}.ckpt"));
        let mut got = None;
        let mut starts = 0;
        while got.is_none() {
            starts += 1;
            assert!(starts <= 50, "{}: the child never finished", case.name);
            if path.exists() {
                resumed += 1;
            }
            let mut child = self_command()
                .args(["--exact", "train_child", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, format!("{i}:{}", path.display()))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut out = BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            loop {
                line.clear();
                assert!(out.read_line(&mut line).unwrap() > 0, "the child exited");
                if line.trim_end().ends_with("ready") {
                    break;
                }
            }
            let kill = starts <= KILLS_PER_CONFIG;
            if kill {
                // from right after the start to a fifth of a whole run
                let us = next(full.as_micros() as u64 / 5);
                std::thread::sleep(Duration::from_micros(us));
                child.kill().unwrap(); // SIGKILL
            }
            let mut rest = String::new();
            while out.read_line(&mut rest).unwrap() > 0 {}
            let status = child.wait().unwrap();
            if let Some(r) = rest.lines().find_map(|l| l.strip_prefix("result ")) {
                got = Some(r.to_string());
            } else {
                assert!(kill && !status.success(), "{}: the child failed", case.name);
                kills += 1;
                // the checkpoint on disk is whole whenever there is one
                if path.exists() {
                    Checkpoint::load(&path).unwrap_or_else(|e| {
                        panic!("{}: a kill left a damaged checkpoint: {e}", case.name)
                    });
                }
            }
            mid_save += remove_leftovers(&dir, &path);
        }
        assert!(
            got.as_deref() == Some(want.as_str()),
            "{}: the killed and resumed run differs from the uninterrupted one",
            case.name
        );
        println!(
            "{}: {} starts, uninterrupted run {:.0} ms",
            case.name,
            starts,
            full.as_secs_f64() * 1e3
        );
        std::fs::remove_file(&path).unwrap();
    }
    println!(
        "{kills} kills, {mid_save} inside a checkpoint write (a temporary file was left), \
         {resumed} starts from a checkpoint, {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(kills >= 20, "only {kills} kills landed");
    // most starts continue a run (a kill right after a start may precede the first save)
    assert!(
        resumed >= kills / 2,
        "only {resumed} starts found a checkpoint"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
