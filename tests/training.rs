//! Training behaviour (SPEC section 3): early stopping, patience, restarts, divergence,
//! determinism, the per-epoch callback and the report's history.
//!
//! Weights "at epoch k" are obtained by rerunning: training from the same start with the same
//! seed for k epochs (no validation set) gives the weights after epoch k of a longer run,
//! because the sample order depends only on the seed and the epoch.

mod common;

use std::ops::ControlFlow;

use common::*;
use nnet::{EpochInfo, Error, Network, Order, Output, Regularization, TrainConfig, TrainReport};

/// Training rows for `y = x1 - 0.5 x2` and validation rows whose targets are half of that: a
/// network that starts near 0 and learns the training targets passes through the validation
/// targets, so the validation error first falls and then rises.
struct Data {
    x: Vec<f32>,
    y: Vec<f32>,
    vx: Vec<f32>,
    vy: Vec<f32>,
}

fn data(seed: u64) -> Data {
    let mut rng = TestRng::new(seed);
    let f = |r: &[f32]| r[0] - 0.5 * r[1];
    let x = rng.vec(24 * 2, -1.0, 1.0);
    let y: Vec<f32> = x.chunks(2).map(f).collect();
    let vx = rng.vec(12 * 2, -1.0, 1.0);
    let vy: Vec<f32> = vx.chunks(2).map(|r| 0.5 * f(r)).collect();
    Data { x, y, vx, vy }
}

fn start() -> Network {
    Network::new(&[2, 4, 1], Output::Linear, 11, 0.1).unwrap()
}

fn config(order: Order, batch: usize, epochs: u32) -> TrainConfig {
    TrainConfig {
        learning_rate: 0.02,
        epochs,
        batch_size: batch,
        order,
        seed: 5,
        ..TrainConfig::default()
    }
}

/// The weights after `epochs` epochs from `start` without a validation set.
fn weights_after(start: &Network, cfg: &TrainConfig, d: &Data, epochs: u32) -> Vec<f32> {
    if epochs == 0 {
        return start.weights().to_vec();
    }
    let mut net = start.clone();
    let cfg = TrainConfig {
        epochs,
        patience: 0,
        restarts: 0,
        ..cfg.clone()
    };
    net.train(&cfg, &d.x, &d.y, None).unwrap();
    net.weights().to_vec()
}

/// The first epoch (1-based) with the lowest validation error among the first `n` epochs.
fn best_of(history: &[EpochInfo], n: usize) -> u32 {
    let mut best = 0;
    for (i, h) in history[..n].iter().enumerate() {
        if h.validation_error < history[best].validation_error {
            best = i;
        }
    }
    history[best].epoch
}

/// Equality of two histories, NaN validation errors included.
fn same_history(a: &[EpochInfo], b: &[EpochInfo]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.epoch == y.epoch
                && x.train_error.to_bits() == y.train_error.to_bits()
                && x.validation_error.to_bits() == y.validation_error.to_bits()
        })
}

fn check_history(report: &TrainReport) {
    assert_eq!(report.history.len(), report.epochs_run as usize);
    for (i, h) in report.history.iter().enumerate() {
        assert_eq!(h.epoch, i as u32 + 1);
        assert!(h.train_error.is_finite());
    }
}

#[test]
fn early_stopping_restores_the_best_epochs_weights() {
    let d = data(1);
    for (order, batch, eta) in [
        (Order::Sequential, 1, 0.02),
        (Order::Shuffle, 1, 0.02),
        (Order::Shuffle, 5, 0.1),
        (Order::RandomPick, 3, 0.05),
    ] {
        let epochs = 40;
        let cfg = TrainConfig {
            learning_rate: eta,
            ..config(order, batch, epochs)
        };
        let mut net = start();
        let report = net.train(&cfg, &d.x, &d.y, Some((&d.vx, &d.vy))).unwrap();
        let what = format!("{order:?} batch {batch}");
        check_history(&report);
        assert_eq!(
            report.epochs_run, epochs,
            "{what}: patience 0 runs every epoch"
        );
        let best = best_of(&report.history, report.history.len());
        // the data make the validation error fall and then rise
        assert!(
            best > 1 && best < epochs,
            "{what}: best epoch {best} is not inside the run"
        );
        assert_eq!(report.best_epoch, best, "{what}");
        let h = report.history[best as usize - 1];
        assert_eq!(report.validation_error, h.validation_error, "{what}");
        assert_eq!(report.train_error, h.train_error, "{what}");
        assert!(
            report
                .history
                .iter()
                .all(|e| e.validation_error >= h.validation_error)
        );
        // the network holds that epoch's weights, bitwise
        assert_eq!(
            bits(net.weights()),
            bits(&weights_after(&start(), &cfg, &d, best)),
            "{what}"
        );
        assert_ne!(
            bits(net.weights()),
            bits(&weights_after(&start(), &cfg, &d, epochs)),
            "{what}: not the last epoch's weights"
        );
        // and the report's errors are those of the weights it holds
        assert_same_error(net.error(&d.vx, &d.vy).unwrap(), report.validation_error);
        assert_same_error(net.error(&d.x, &d.y).unwrap(), report.train_error);
    }
}

#[test]
fn patience_stops_after_that_many_epochs_without_improvement() {
    let d = data(2);
    let cfg = config(Order::Shuffle, 1, 60);
    let mut full_net = start();
    let full = full_net
        .train(&cfg, &d.x, &d.y, Some((&d.vx, &d.vy)))
        .unwrap();
    for patience in [1u32, 2, 3, 7] {
        // the first epoch t whose run of non-improving evaluations reaches `patience`
        let stop = (1..=full.history.len())
            .find(|&t| t as u32 - best_of(&full.history, t) >= patience)
            .unwrap_or(full.history.len());
        assert!(
            stop < full.history.len(),
            "patience {patience} never triggers"
        );
        let mut net = start();
        let report = net
            .train(
                &TrainConfig {
                    patience,
                    ..cfg.clone()
                },
                &d.x,
                &d.y,
                Some((&d.vx, &d.vy)),
            )
            .unwrap();
        check_history(&report);
        assert_eq!(report.epochs_run as usize, stop, "patience {patience}");
        assert_eq!(
            report.history[..],
            full.history[..stop],
            "patience {patience}"
        );
        let best = best_of(&report.history, stop);
        assert_eq!(report.best_epoch, best);
        assert_eq!(report.epochs_run - report.best_epoch, patience);
        assert_eq!(
            bits(net.weights()),
            bits(&weights_after(&start(), &cfg, &d, best))
        );
        assert!(!report.stopped_by_callback);
    }
}

#[test]
fn patience_without_a_validation_set_runs_every_epoch() {
    let d = data(3);
    let cfg = TrainConfig {
        patience: 1,
        ..config(Order::Shuffle, 1, 15)
    };
    let mut net = start();
    let report = net.train(&cfg, &d.x, &d.y, None).unwrap();
    assert_eq!(report.epochs_run, 15);
    assert_eq!(report.best_epoch, 15);
    assert!(report.validation_error.is_nan());
    check_history(&report);
}

/// The initialization seed of restart `run >= 1`, as derived in src/train.rs.
fn restart_seed(seed: u64, run: u32) -> u64 {
    seed ^ 0xA076_1D64_78BD_642F_u64.wrapping_mul(run as u64 + 1)
}

#[test]
fn restarts_keep_the_run_with_the_lowest_validation_error() {
    let d = data(4);
    let restarts = 4;
    let cfg = TrainConfig {
        restarts,
        init_range: 1.0,
        patience: 3,
        ..config(Order::Sequential, 1, 25)
    };
    // each run trained on its own (restarts = 0): run 0 from the given weights, run r from the
    // restart seed's initialization; Sequential order makes the runs independent of the run
    // number, so they can be reproduced one by one
    let mut runs = Vec::new();
    for run in 0..=restarts {
        let mut net = if run == 0 {
            start()
        } else {
            Network::new(
                &[2, 4, 1],
                Output::Linear,
                restart_seed(cfg.seed, run),
                cfg.init_range,
            )
            .unwrap()
        };
        let report = net
            .train(
                &TrainConfig {
                    restarts: 0,
                    ..cfg.clone()
                },
                &d.x,
                &d.y,
                Some((&d.vx, &d.vy)),
            )
            .unwrap();
        runs.push((report, net.weights().to_vec()));
    }
    let mut kept = 0;
    for (r, (rep, _)) in runs.iter().enumerate() {
        if rep.validation_error < runs[kept].0.validation_error {
            kept = r;
        }
    }
    assert!(
        kept != 0,
        "the restarts never beat the given weights: pick other data"
    );
    let scores: Vec<f64> = runs.iter().map(|(r, _)| r.validation_error).collect();
    assert!(scores.iter().any(|&s| s != scores[0]), "{scores:?}");

    let mut net = start();
    let report = net.train(&cfg, &d.x, &d.y, Some((&d.vx, &d.vy))).unwrap();
    assert_eq!(report.run, kept as u32, "scores {scores:?}");
    assert_eq!(bits(net.weights()), bits(&runs[kept].1));
    let want = &runs[kept].0;
    assert_eq!(report.validation_error, want.validation_error);
    assert_eq!(report.train_error, want.train_error);
    assert_eq!(report.history, want.history);
    assert_eq!(report.best_epoch, want.best_epoch);
    assert_eq!(report.epochs_run, want.epochs_run);
    assert_same_error(net.error(&d.vx, &d.vy).unwrap(), report.validation_error);
}

#[test]
fn restarts_without_validation_keep_the_lowest_training_error() {
    let d = data(5);
    let restarts = 3;
    let cfg = TrainConfig {
        restarts,
        init_range: 1.5,
        ..config(Order::Sequential, 4, 6)
    };
    let mut best = (f64::INFINITY, 0u32, Vec::new());
    for run in 0..=restarts {
        let mut net = if run == 0 {
            start()
        } else {
            Network::new(
                &[2, 4, 1],
                Output::Linear,
                restart_seed(cfg.seed, run),
                cfg.init_range,
            )
            .unwrap()
        };
        let r = net
            .train(
                &TrainConfig {
                    restarts: 0,
                    ..cfg.clone()
                },
                &d.x,
                &d.y,
                None,
            )
            .unwrap();
        if r.train_error < best.0 {
            best = (r.train_error, run, net.weights().to_vec());
        }
    }
    let mut net = start();
    let report = net.train(&cfg, &d.x, &d.y, None).unwrap();
    assert_eq!(report.run, best.1);
    assert_eq!(report.train_error, best.0);
    assert_eq!(bits(net.weights()), bits(&best.2));
    assert_eq!(report.best_epoch, report.epochs_run);
}

#[test]
fn restarts_with_shuffled_order_keep_the_best_run_seen_by_the_callback() {
    // every run reports its epochs to the callback; split them into runs and check that the
    // kept run has the lowest validation error of all
    let d = data(6);
    let cfg = TrainConfig {
        restarts: 3,
        init_range: 1.0,
        ..config(Order::Shuffle, 1, 8)
    };
    let mut seen: Vec<Vec<EpochInfo>> = Vec::new();
    let mut net = start();
    let report = net
        .train_with_callback(&cfg, &d.x, &d.y, Some((&d.vx, &d.vy)), |info| {
            if info.epoch == 1 {
                seen.push(Vec::new());
            }
            seen.last_mut().unwrap().push(*info);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen.len(), 4, "one history per run");
    let best_val: Vec<f64> = seen
        .iter()
        .map(|h| {
            h.iter()
                .map(|e| e.validation_error)
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut kept = 0;
    for (r, &v) in best_val.iter().enumerate() {
        if v < best_val[kept] {
            kept = r;
        }
    }
    assert_eq!(report.run as usize, kept, "{best_val:?}");
    assert_eq!(report.history, seen[kept]);
    assert_eq!(report.validation_error, best_val[kept]);
    assert_same_error(net.error(&d.vx, &d.vy).unwrap(), report.validation_error);
}

#[test]
fn divergence_is_an_error_and_leaves_the_last_finite_weights() {
    let d = data(7);
    // targets of size 100 on a linear output: a large step overshoots more every time
    let y: Vec<f32> = d.y.iter().map(|v| 100.0 * v).collect();
    let d = Data { y, ..d };
    let mut later = false;
    for (eta, batch) in [(1e3f32, 1), (0.5, 1), (1e3, 4), (0.9, 4), (1e30, 1)] {
        let cfg = TrainConfig {
            learning_rate: eta,
            ..config(Order::Shuffle, batch, 50)
        };
        let mut completed = 0u32;
        let mut net = start();
        let err = net
            .train_with_callback(&cfg, &d.x, &d.y, None, |_| {
                completed += 1;
                ControlFlow::Continue(())
            })
            .unwrap_err();
        let what = format!("eta {eta} batch {batch}");
        later |= completed > 0;
        let Error::Diverged(msg) = &err else {
            panic!("{what}: expected Diverged, got {err:?}");
        };
        assert!(
            msg.contains(&format!("epoch {}", completed + 1)),
            "{what}: {msg}"
        );
        assert!(msg.contains(&eta.to_string()), "{what}: {msg}");
        assert!(net.weights().iter().all(|w| w.is_finite()), "{what}");
        // the weights are those from before the diverging epoch
        assert_eq!(
            bits(net.weights()),
            bits(&weights_after(&start(), &cfg, &d, completed)),
            "{what}: diverged in epoch {}",
            completed + 1
        );
        // and the network still works
        assert!(net.predict(&d.x[..2]).unwrap()[0].is_finite());
    }
    assert!(later, "some case diverges after a finished epoch");
}

#[test]
fn the_same_seed_gives_bitwise_identical_weights() {
    let d = data(8);
    let reg = Regularization::l2(1e-3);
    for order in [Order::Shuffle, Order::Sequential, Order::RandomPick] {
        for batch in [1, 5] {
            let cfg = TrainConfig {
                regularization: reg,
                restarts: 1,
                init_range: 0.5,
                ..config(order, batch, 6)
            };
            let train = |threads: usize, seed: u64| {
                let mut net = start();
                let r = net
                    .train(
                        &TrainConfig {
                            threads,
                            seed,
                            ..cfg.clone()
                        },
                        &d.x,
                        &d.y,
                        Some((&d.vx, &d.vy)),
                    )
                    .unwrap();
                (bits(net.weights()), r)
            };
            let (a, ra) = train(0, 5);
            let (b, rb) = train(0, 5);
            let what = format!("{order:?} batch {batch}");
            assert_eq!(a, b, "{what}");
            assert_eq!(ra, rb, "{what}");
            // the number of threads does not change the result
            for threads in [1, 2, 3] {
                assert_eq!(train(threads, 5).0, a, "{what} threads {threads}");
            }
            // another seed changes the sample order (with Sequential it only changes the
            // restart, which may or may not be the run that is kept)
            if order != Order::Sequential {
                assert_ne!(train(0, 6).0, a, "{what}: the seed is used");
            }
        }
    }
    // the seed also fixes initialization
    let a = Network::new(&[3, 7, 2], Output::Tanh, 99, 0.4).unwrap();
    let b = Network::new(&[3, 7, 2], Output::Tanh, 99, 0.4).unwrap();
    let c = Network::new(&[3, 7, 2], Output::Tanh, 100, 0.4).unwrap();
    assert_eq!(bits(a.weights()), bits(b.weights()));
    assert_ne!(bits(a.weights()), bits(c.weights()));
    let mut e = c.clone();
    e.randomize(99, 0.4).unwrap();
    assert_eq!(bits(e.weights()), bits(a.weights()));
}

#[test]
fn orders_differ_and_each_epoch_is_n_samples() {
    // Shuffle, Sequential and RandomPick visit the rows differently, so one epoch of SGD
    // ends with different weights
    let d = data(9);
    let mut finals = Vec::new();
    for order in [Order::Shuffle, Order::Sequential, Order::RandomPick] {
        let mut net = start();
        net.train(&config(order, 1, 1), &d.x, &d.y, None).unwrap();
        finals.push(bits(net.weights()));
    }
    assert_ne!(finals[0], finals[1]);
    assert_ne!(finals[0], finals[2]);
    assert_ne!(finals[1], finals[2]);
    // an epoch is N updates: with batch N it is exactly one step, whatever the order
    let n = d.y.len();
    for order in [Order::Shuffle, Order::Sequential] {
        let mut net = start();
        net.train(&config(order, n, 1), &d.x, &d.y, None).unwrap();
        let (g, _) = start()
            .gradient(&d.x, &d.y, &Regularization::none())
            .unwrap();
        let want: Vec<f64> = start()
            .weights()
            .iter()
            .zip(&g)
            .map(|(&w, &gi)| w as f64 - 0.02 * gi as f64)
            .collect();
        assert!(
            max_abs_diff(&to_f64(net.weights()), &want) <= 1e-6,
            "{order:?}"
        );
    }
}

#[test]
fn the_callback_can_stop_training() {
    let d = data(10);
    for with_val in [false, true] {
        let cfg = TrainConfig {
            restarts: 2,
            ..config(Order::Shuffle, 1, 30)
        };
        let mut calls = Vec::new();
        let mut net = start();
        let val = with_val.then_some((&d.vx[..], &d.vy[..]));
        let report = net
            .train_with_callback(&cfg, &d.x, &d.y, val, |info| {
                calls.push(*info);
                if info.epoch == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(report.stopped_by_callback);
        assert_eq!(report.epochs_run, 3);
        assert_eq!(report.run, 0, "no restart runs after a stop");
        assert_eq!(calls.len(), 3);
        assert!(same_history(&report.history, &calls));
        check_history(&report);
        assert_same_error(net.error(&d.x, &d.y).unwrap(), report.train_error);
        if !with_val {
            assert_eq!(
                bits(net.weights()),
                bits(&weights_after(&start(), &cfg, &d, 3))
            );
        }
    }
    // a run that is not stopped says so
    let mut net = start();
    let report = net
        .train(&config(Order::Shuffle, 1, 2), &d.x, &d.y, None)
        .unwrap();
    assert!(!report.stopped_by_callback);
}

#[test]
fn the_history_has_one_entry_per_epoch_and_matches_the_callback() {
    let d = data(11);
    for (epochs, batch) in [(1, 1), (7, 1), (5, 3), (4, 100)] {
        let mut calls = Vec::new();
        let mut net = start();
        let report = net
            .train_with_callback(
                &config(Order::Shuffle, batch, epochs),
                &d.x,
                &d.y,
                Some((&d.vx, &d.vy)),
                |info| {
                    calls.push(*info);
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert_eq!(report.epochs_run, epochs);
        check_history(&report);
        assert_eq!(report.history, calls);
        assert_eq!(report.run, 0);
        assert!(
            report
                .history
                .iter()
                .all(|h| h.validation_error.is_finite())
        );
        assert!(report.best_epoch >= 1 && report.best_epoch <= epochs);
    }
}

#[test]
fn training_learns_a_simple_function() {
    // not a trajectory check: SGD on the lecture's model actually lowers E_in
    let d = data(12);
    let mut net = start();
    let before = net.error(&d.x, &d.y).unwrap();
    let report = net
        .train(&config(Order::Shuffle, 1, 200), &d.x, &d.y, None)
        .unwrap();
    assert!(
        report.train_error < 0.01 * before,
        "{before} -> {}",
        report.train_error
    );
}
