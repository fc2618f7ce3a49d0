//! Exact training trajectories: a few epochs of `Order::Sequential` training equal the
//! lecture's update rule unrolled by hand in f64,
//!
//! `w <- w - eta * (mean over the batch of x_i(l-1) delta_j(l) + lambda * dOmega/dw)`,
//!
//! with every delta computed from the weights before the update (B = 1 is the lecture's SGD).
//!
//! Tolerance: `max_i |w_i - w_ref_i| <= TOL * max(1, max_i |w_ref_i|)` with TOL = 2e-5 (the
//! crate runs in f32: each of the 20-30 steps adds a few f32 epsilons). Every case also
//! checks that the weights moved by more than 100 x TOL, so a no-op update cannot pass.

mod common;

use common::*;
use nnet::{Network, Order, Output, RegKind, Regularization, TrainConfig};

const TOL: f64 = 2e-5;

/// The reference: `epochs` epochs over rows `0..n` in order, in batches of `batch`.
/// Returns the weights and `E_in` after each epoch.
#[allow(clippy::too_many_arguments)]
fn unrolled(
    layers: &[usize],
    tanh_out: bool,
    w_init: &[f32],
    x: &[f32],
    y: &[f32],
    eta: f64,
    reg: &Regularization,
    batch: usize,
    epochs: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (x, y) = (to_f64(x), to_f64(y));
    let n = x.len() / layers[0];
    let mut w = to_f64(w_init);
    let mut errors = Vec::new();
    let all: Vec<usize> = (0..n).collect();
    for _ in 0..epochs {
        for rows in all.chunks(batch) {
            // both parts from the weights before this update
            let g = mean_gradient(layers, tanh_out, &w, &x, &y, rows);
            let r = reg_gradient(reg, layers, &w);
            for i in 0..w.len() {
                w[i] -= eta * (g[i] + r[i]);
            }
        }
        errors.push(e_in(layers, tanh_out, &w, &x, &y));
    }
    (w, errors)
}

struct Case {
    layers: &'static [usize],
    output: Output,
    reg: Regularization,
    batch: usize,
    rows: usize,
    eta: f32,
    epochs: u32,
}

fn run(case: &Case, seed: u64) {
    let layers = case.layers;
    let mut rng = TestRng::new(seed);
    let w0 = rng.vec_away_from_zero(num_weights(layers), 0.05, 0.7);
    let x = rng.vec(case.rows * layers[0], -1.0, 1.0);
    let y = rng.vec(case.rows * layers.last().unwrap(), -0.9, 0.9);
    for kernels in all_kernels() {
        let mut net = Network::from_weights(layers, case.output, &w0).unwrap();
        net.set_kernels(kernels);
        check_run(case, &mut net, &w0, &x, &y);
    }
}

fn check_run(case: &Case, net: &mut Network, w0: &[f32], x: &[f32], y: &[f32]) {
    let layers = case.layers;
    let tanh_out = case.output == Output::Tanh;
    let cfg = TrainConfig {
        learning_rate: case.eta,
        epochs: case.epochs,
        batch_size: case.batch,
        order: Order::Sequential,
        regularization: case.reg,
        ..TrainConfig::default()
    };
    let report = net.train(&cfg, x, y, None).unwrap();
    let (w_ref, e_ref) = unrolled(
        layers,
        tanh_out,
        w0,
        x,
        y,
        case.eta as f64,
        &case.reg,
        case.batch,
        case.epochs as usize,
    );
    let what = format!(
        "{layers:?} {:?} {:?} lambda {} w0 {} bias {} batch {} rows {} ({})",
        case.output,
        case.reg.kind,
        case.reg.lambda,
        case.reg.w0,
        case.reg.include_bias,
        case.batch,
        case.rows,
        net.kernels().isa()
    );
    let w = to_f64(net.weights());
    let scale = w_ref.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let err = max_abs_diff(&w, &w_ref) / scale;
    assert!(
        err <= TOL,
        "{what}: weights off by {err:e}\n got {w:?}\n want {w_ref:?}"
    );
    let moved = max_abs_diff(&w_ref, &to_f64(w0));
    assert!(
        moved > 100.0 * TOL * scale,
        "{what}: the weights barely moved ({moved:e})"
    );

    assert_eq!(report.epochs_run, case.epochs);
    assert_eq!(report.history.len(), case.epochs as usize);
    for (h, e) in report.history.iter().zip(&e_ref) {
        assert!(
            (h.train_error - e).abs() <= 1e-5 * (e + e.sqrt()),
            "{what}: E_in after epoch {}: {} vs {e}",
            h.epoch,
            h.train_error
        );
        assert!(h.validation_error.is_nan());
    }
    // without a validation set the network ends with the last epoch's weights
    assert_eq!(report.best_epoch, case.epochs);
    assert_eq!(
        report.train_error,
        report.history.last().unwrap().train_error
    );
    assert_same_error(net.error(x, y).unwrap(), report.train_error);
}

#[test]
fn sequential_sgd_with_l2_equals_the_lecture_rule() {
    for (i, layers) in [&[2, 3, 1][..], &[3, 4, 2]].into_iter().enumerate() {
        run(
            &Case {
                layers,
                output: Output::Tanh,
                reg: Regularization::l2(0.01),
                batch: 1,
                rows: 6,
                eta: 0.1,
                epochs: 2,
            },
            100 + i as u64,
        );
    }
}

#[test]
fn sequential_sgd_other_shapes_outputs_and_bias_exclusion() {
    let cases = [
        (&[2, 3, 2, 1][..], Output::Tanh, Regularization::l2(0.02)),
        (&[3, 4, 2], Output::Linear, Regularization::none()),
        (
            &[2, 3, 1],
            Output::Tanh,
            Regularization {
                include_bias: false,
                ..Regularization::l2(0.05)
            },
        ),
        (&[1, 1], Output::Linear, Regularization::l2(0.01)),
    ];
    for (i, (layers, output, reg)) in cases.into_iter().enumerate() {
        run(
            &Case {
                layers,
                output,
                reg,
                batch: 1,
                rows: 5,
                eta: 0.05,
                epochs: 3,
            },
            200 + i as u64,
        );
    }
}

#[test]
fn mini_batches_of_3_over_10_rows_with_a_short_last_batch() {
    for (i, layers) in [&[2, 3, 1][..], &[3, 4, 2]].into_iter().enumerate() {
        for reg in [Regularization::none(), Regularization::l2(0.01)] {
            run(
                &Case {
                    layers,
                    output: Output::Tanh,
                    reg,
                    batch: 3,
                    rows: 10,
                    eta: 0.2,
                    epochs: 2,
                },
                300 + i as u64,
            );
        }
    }
}

#[test]
fn l1_and_weight_elimination_once_each() {
    for (i, reg) in [
        Regularization::l1(0.01),
        Regularization::weight_elimination(0.02, 1.0),
        Regularization::weight_elimination(0.02, 0.5),
    ]
    .into_iter()
    .enumerate()
    {
        for batch in [1, 3] {
            run(
                &Case {
                    layers: &[3, 4, 2],
                    output: Output::Tanh,
                    reg,
                    batch,
                    rows: 10,
                    eta: 0.1,
                    epochs: 2,
                },
                400 + i as u64,
            );
        }
    }
}

#[test]
fn full_batch_and_oversized_batches_are_gradient_descent_on_e_aug() {
    // batch = N and batch > N: one step per epoch, w - eta * grad E_aug from Network::gradient
    let layers = [3, 4, 2];
    let mut rng = TestRng::new(500);
    let w0 = rng.vec(num_weights(&layers), -0.5, 0.5);
    let x = rng.vec(10 * 3, -1.0, 1.0);
    let y = rng.vec(10 * 2, -0.9, 0.9);
    let reg = Regularization::weight_elimination(0.05, 0.8);
    let eta = 0.3f32;
    let start = Network::from_weights(&layers, Output::Tanh, &w0).unwrap();
    let (g, _) = start.gradient(&x, &y, &reg).unwrap();
    let want: Vec<f64> = w0
        .iter()
        .zip(&g)
        .map(|(&w, &gi)| w as f64 - eta as f64 * gi as f64)
        .collect();
    for batch in [10, 11, 1000] {
        let mut net = start.clone();
        let cfg = TrainConfig {
            learning_rate: eta,
            epochs: 1,
            batch_size: batch,
            order: Order::Sequential,
            regularization: reg,
            ..TrainConfig::default()
        };
        net.train(&cfg, &x, &y, None).unwrap();
        let err = max_abs_diff(&to_f64(net.weights()), &want);
        assert!(err <= TOL, "batch {batch}: off by {err:e}");
    }
    // and B = 1 is not B = N: the test can tell the paths apart
    let mut sgd = start.clone();
    let cfg = TrainConfig {
        learning_rate: eta,
        epochs: 1,
        order: Order::Sequential,
        regularization: reg,
        ..TrainConfig::default()
    };
    sgd.train(&cfg, &x, &y, None).unwrap();
    assert!(max_abs_diff(&to_f64(sgd.weights()), &want) > 100.0 * TOL);
}

#[test]
fn the_regularizer_step_uses_the_weights_before_the_update() {
    // A linear 1-1 network on the single row x = 0 whose target equals its output (the bias):
    // the error gradient is exactly zero, so one step moves each weight by exactly
    // eta * lambda * dOmega/dw at the old weight.
    let layers = [1, 1];
    for kind in [RegKind::L2, RegKind::L1, RegKind::WeightElimination] {
        let w0 = [0.6f32, -0.4];
        let target = w0[0];
        let reg = Regularization {
            kind,
            lambda: 0.1,
            w0: 0.5,
            include_bias: true,
        };
        let mut net = Network::from_weights(&layers, Output::Linear, &w0).unwrap();
        let cfg = TrainConfig {
            learning_rate: 0.5,
            epochs: 1,
            order: Order::Sequential,
            regularization: reg,
            ..TrainConfig::default()
        };
        net.train(&cfg, &[0.0], &[target], None).unwrap();
        for (i, &w) in w0.iter().enumerate() {
            let want = w as f64 - 0.5 * 0.1 * omega_deriv(kind, 0.5, w as f64);
            let got = net.weights()[i] as f64;
            assert!(
                (got - want).abs() <= 1e-6,
                "{kind:?} weight {i}: {got} vs {want}"
            );
        }
    }
}
