//! The batched (matrix-product) mini-batch path against the straightforward mini-batch math
//! of the specification: per batch, the mean gradient over its rows plus `lambda dOmega/dw`
//! at the old weights, then one step.

use nnet::{Isa, Kernels, Network, Order, Output, Regularization, TrainConfig};

fn data(rows: usize, n_in: usize, n_out: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut s = seed;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let x: Vec<f32> = (0..rows * n_in).map(|_| u()).collect();
    let y: Vec<f32> = (0..rows * n_out).map(|_| 0.8 * u()).collect();
    (x, y)
}

/// `epochs` epochs of sequential mini-batches with `Network::gradient`.
fn reference(
    net: &mut Network,
    x: &[f32],
    y: &[f32],
    batch: usize,
    eta: f32,
    reg: &Regularization,
    epochs: usize,
) {
    let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
    let rows = x.len() / n_in;
    for _ in 0..epochs {
        for b0 in (0..rows).step_by(batch) {
            let b1 = (b0 + batch).min(rows);
            let (g, _) = net
                .gradient(&x[b0 * n_in..b1 * n_in], &y[b0 * n_out..b1 * n_out], reg)
                .unwrap();
            let w: Vec<f32> = net
                .weights()
                .iter()
                .zip(&g)
                .map(|(w, g)| w - eta * g)
                .collect();
            net.set_weights(&w).unwrap();
        }
    }
}

fn compare(layers: &[usize], output: Output, rows: usize, batch: usize, reg: Regularization) {
    let (x, y) = data(
        rows,
        layers[0],
        *layers.last().unwrap(),
        rows as u64 + batch as u64,
    );
    for isa in Isa::available() {
        let mut start = Network::new(layers, output, 5, 0.5).unwrap();
        start.set_kernels(Kernels::for_isa(isa).unwrap());
        compare_with(&start, &x, &y, batch, reg);
    }
}

fn compare_with(start: &Network, x: &[f32], y: &[f32], batch: usize, reg: Regularization) {
    let (layers, output, rows) = (start.layers(), start.output(), x.len() / start.num_inputs());
    let eta = 0.05;
    let epochs = 3;
    let mut expect = start.clone();
    reference(&mut expect, x, y, batch, eta, &reg, epochs);
    let mut got = start.clone();
    let cfg = TrainConfig {
        learning_rate: eta,
        epochs: epochs as u32,
        batch_size: batch,
        order: Order::Sequential,
        regularization: reg,
        threads: 2,
        ..TrainConfig::default()
    };
    got.train(&cfg, x, y, None).unwrap();
    let mut worst = 0.0f32;
    for (a, b) in got.weights().iter().zip(expect.weights()) {
        worst = worst.max((a - b).abs() / (1.0 + b.abs()));
    }
    assert!(
        worst < 2e-4,
        "{layers:?} {output:?} {} rows={rows} batch={batch} {reg:?}: worst relative difference {worst}",
        start.kernels().isa()
    );
    // and training moved the weights
    let moved = got
        .weights()
        .iter()
        .zip(start.weights())
        .any(|(a, b)| (a - b).abs() > 1e-3);
    assert!(moved);
}

#[test]
fn batched_training_matches_the_mini_batch_math() {
    for &(layers, output) in &[
        (&[3usize, 5, 1][..], Output::Linear),
        (&[4, 7, 3][..], Output::Tanh),
        (&[13, 33, 17, 2][..], Output::Linear),
        (&[6, 70, 1][..], Output::Tanh),
    ] {
        for &(rows, batch) in &[(50, 2), (50, 7), (130, 64), (200, 65), (150, 150), (97, 32)] {
            compare(layers, output, rows, batch, Regularization::none());
        }
    }
}

#[test]
fn batched_training_with_every_regularizer() {
    let regs = [
        Regularization::l2(0.01),
        Regularization::l1(0.003),
        Regularization::weight_elimination(0.01, 0.7),
        Regularization {
            include_bias: false,
            ..Regularization::l2(0.02)
        },
    ];
    for reg in regs {
        compare(&[5, 9, 4, 2], Output::Linear, 90, 16, reg);
        compare(&[5, 40, 3], Output::Tanh, 130, 70, reg);
    }
}

#[test]
fn batched_prediction_matches_row_by_row() {
    let net = Network::new(&[17, 45, 33, 3], Output::Tanh, 9, 0.4).unwrap();
    let (x, _) = data(301, 17, 3, 4);
    let all = net.predict(&x).unwrap();
    for (r, xr) in x.chunks_exact(17).enumerate() {
        let one = net.predict(xr).unwrap();
        for (a, b) in one.iter().zip(&all[r * 3..r * 3 + 3]) {
            assert!((a - b).abs() <= 1e-5, "row {r}: {a} vs {b}");
        }
    }
    // the error over many rows agrees with the row-by-row sum
    let (_, y) = data(301, 17, 3, 5);
    let e = net.error(&x, &y).unwrap();
    let mut sum = 0.0f64;
    for (xr, yr) in x.chunks_exact(17).zip(y.chunks_exact(3)) {
        let o = net.predict(xr).unwrap();
        sum += o
            .iter()
            .zip(yr)
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum::<f64>();
    }
    assert!(
        (e - sum / 301.0).abs() < 1e-5 * (1.0 + e),
        "{e} vs {}",
        sum / 301.0
    );
}

#[test]
fn a_validation_set_larger_than_the_training_set() {
    let (x, y) = data(10, 4, 2, 1);
    let (vx, vy) = data(300, 4, 2, 2);
    let mut net = Network::new(&[4, 8, 2], Output::Linear, 1, 0.5).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.05,
        epochs: 3,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let r = net.train(&cfg, &x, &y, Some((&vx, &vy))).unwrap();
    assert_eq!(r.validation_error, net.error(&vx, &vy).unwrap());
}
