//! `predict` against an f64 forward pass written from SPEC section 1, and `classify`
//! (sign with sign(0) = +1 for one output, argmax for several).
//!
//! Tolerance: `|out - out_f64| <= 1e-5 * (1 + |out_f64|)` (f32 sums of at most a few dozen
//! terms per unit, through at most four layers).

mod common;

use common::*;
use nnet::{Network, Output, Scaling};

const SHAPES: [&[usize]; 9] = [
    &[1, 1],
    &[3, 5, 1],
    &[2, 1, 3],
    &[4, 6, 5, 3],
    &[17, 33, 9],
    &[8, 8, 8, 8, 8],
    &[64, 32, 10],
    &[1, 16, 1],
    &[5, 2],
];

fn close(got: f32, want: f64) -> bool {
    (got as f64 - want).abs() <= 1e-5 * (1.0 + want.abs())
}

#[test]
fn predict_matches_an_f64_forward_pass() {
    for (si, layers) in SHAPES.into_iter().enumerate() {
        for output in [Output::Linear, Output::Tanh] {
            let mut rng = TestRng::new(si as u64 * 2 + output.to_u32() as u64);
            // weights scaled so that hidden units are neither saturated nor linear
            let scale = 1.5 / (layers[0] as f32 + 1.0).sqrt();
            let w = rng.vec(num_weights(layers), -scale, scale);
            let x = rng.vec(7 * layers[0], -2.0, 2.0);
            for kernels in all_kernels() {
                let mut net = Network::from_weights(layers, output, &w).unwrap();
                net.set_kernels(kernels);
                check_predict(&net, &w, &x);
            }
        }
    }
}

fn check_predict(net: &Network, w: &[f32], x: &[f32]) {
    let layers = net.layers();
    let tanh_out = net.output() == Output::Tanh;
    let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
    let rows = x.len() / n_in;
    let what = format!("{layers:?} {:?} ({})", net.output(), net.kernels().isa());
    let y = net.predict(x).unwrap();
    assert_eq!(y.len(), rows * n_out);
    let wf = to_f64(w);
    for r in 0..rows {
        let xr = &x[r * n_in..(r + 1) * n_in];
        let want = outputs(layers, tanh_out, &wf, &to_f64(xr));
        let got = &y[r * n_out..(r + 1) * n_out];
        for k in 0..n_out {
            assert!(
                close(got[k], want[k]),
                "{what} row {r} output {k}: {} vs {}",
                got[k],
                want[k]
            );
            if tanh_out {
                assert!(got[k].abs() <= 1.0, "{what}");
            }
        }
        // one row at a time gives the same bits as the batch
        assert_eq!(bits(&net.predict(xr).unwrap()), bits(got), "{what}");
    }
    // predict_into writes the same values
    let mut out = vec![f32::NAN; rows * n_out];
    net.predict_into(x, &mut out).unwrap();
    assert_eq!(bits(&out), bits(&y), "{what}");
    // predict does not change the network
    assert_eq!(bits(net.weights()), bits(w), "{what}");
}

#[test]
fn predict_uses_the_flat_layout_exactly() {
    // integer-valued weights and inputs make every sum exact: checks the indexing of the
    // row-major layout (row 0 = bias, row i = input i, column j = unit j)
    let layers = [3, 2];
    #[rustfmt::skip]
    let w = [
        1.0, -2.0,  // bias row
        3.0,  4.0,  // x1
        5.0, -6.0,  // x2
        7.0,  8.0,  // x3
    ];
    let net = Network::from_weights(&layers, Output::Linear, &w).unwrap();
    let y = net.predict(&[1.0, 10.0, 100.0, 0.0, 0.0, 0.0]).unwrap();
    assert_eq!(
        y,
        vec![
            1.0 + 3.0 + 50.0 + 700.0,
            -2.0 + 4.0 - 60.0 + 800.0,
            1.0,
            -2.0
        ]
    );
    // a second layer reads the first layer's outputs, x_0 = 1 first: with a linear output
    // and hidden units at tanh(0) = 0 only the bias passes
    let net = Network::from_weights(
        &[1, 2, 1],
        Output::Linear,
        &[0.0, 0.0, 0.0, 0.0, 2.5, 9.0, 9.0],
    )
    .unwrap();
    assert_eq!(net.predict(&[0.0]).unwrap(), vec![2.5]);
}

#[test]
fn predict_applies_the_scaling() {
    let layers = [2, 3, 1];
    let mut rng = TestRng::new(77);
    let w = rng.vec(num_weights(&layers), -0.7, 0.7);
    let mut net = Network::from_weights(&layers, Output::Linear, &w).unwrap();
    let s = Scaling::from_parts(
        vec![10.0, -1.0],
        vec![2.0, 0.5],
        Some((vec![100.0], vec![20.0])),
    )
    .unwrap();
    net.set_scaling(Some(s)).unwrap();
    let x = [12.0f32, -1.25, 7.0, 0.0];
    let y = net.predict(&x).unwrap();
    let wf = to_f64(&w);
    for r in 0..2 {
        let xs = [
            (x[2 * r] as f64 - 10.0) / 2.0,
            (x[2 * r + 1] as f64 + 1.0) / 0.5,
        ];
        let want = outputs(&layers, false, &wf, &xs)[0] * 20.0 + 100.0;
        assert!(
            (y[r] as f64 - want).abs() <= 1e-5 * want.abs(),
            "{} vs {want}",
            y[r]
        );
    }
    // clearing the scaling gives the plain forward pass
    net.set_scaling(None).unwrap();
    let plain = net.predict(&x).unwrap();
    assert!(close(
        plain[0],
        outputs(&layers, false, &wf, &[12.0, -1.25])[0]
    ));
}

#[test]
fn classify_one_output_is_sign_with_sign_0_plus_1() {
    // out = b + w x on a 1-1 linear network
    let cases: [(f32, f32, f32, f32); 7] = [
        (0.0, 0.0, 5.0, 1.0),     // output exactly 0 -> +1
        (0.0, 1.0, 0.0, 1.0),     // 0 again
        (0.0, 1.0, -0.0, 1.0),    // -0 input: 0 + 1 * -0 = +0 -> +1
        (-1e-30, 0.0, 1.0, -1.0), // the smallest negative output -> -1
        (1e-30, 0.0, 1.0, 1.0),
        (2.0, -3.0, 1.0, -1.0),
        (2.0, 3.0, 1.0, 1.0),
    ];
    for (b, w, x, want) in cases {
        for output in [Output::Linear, Output::Tanh] {
            let net = Network::from_weights(&[1, 1], output, &[b, w]).unwrap();
            assert_eq!(
                net.classify(&[x]).unwrap(),
                vec![want],
                "b {b} w {w} x {x} {output:?}"
            );
        }
    }
    // a batch: one class per row, each the sign of that row's output
    let net = Network::from_weights(&[1, 1], Output::Linear, &[0.0, 1.0]).unwrap();
    let x = [-2.0, 0.0, 3.0, -0.5, 0.5];
    assert_eq!(net.classify(&x).unwrap(), vec![-1.0, 1.0, 1.0, -1.0, 1.0]);
    // random networks: classify is the sign of predict
    let mut rng = TestRng::new(3);
    let layers = [4, 5, 1];
    let net = Network::from_weights(
        &layers,
        Output::Tanh,
        &rng.vec(num_weights(&layers), -1.0, 1.0),
    )
    .unwrap();
    let x = rng.vec(4 * 20, -1.0, 1.0);
    let y = net.predict(&x).unwrap();
    let c = net.classify(&x).unwrap();
    assert_eq!(c.len(), 20);
    for (ci, yi) in c.iter().zip(&y) {
        assert_eq!(*ci, if *yi >= 0.0 { 1.0 } else { -1.0 });
    }
    assert!(
        c.contains(&1.0) && c.contains(&-1.0),
        "both classes occur: {c:?}"
    );
}

#[test]
fn classify_several_outputs_is_the_argmax() {
    // a 3-3 linear network whose outputs are the inputs: the class is the index of the largest
    #[rustfmt::skip]
    let identity = [
        0.0, 0.0, 0.0,
        1.0, 0.0, 0.0,
        0.0, 1.0, 0.0,
        0.0, 0.0, 1.0,
    ];
    let net = Network::from_weights(&[3, 3], Output::Linear, &identity).unwrap();
    let x = [
        1.0, 2.0, 3.0, // 2
        3.0, 2.0, 1.0, // 0
        -5.0, -1.0, -2.0, // 1
        0.0, 0.0, 0.0, // tie: the first index
        1.0, 7.0, 7.0, // tie between 1 and 2: the first
        -1e-30, 0.0, -1e-30, // 1
    ];
    assert_eq!(
        net.classify(&x).unwrap(),
        vec![2.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    );
    // random networks: the argmax of predict
    let mut rng = TestRng::new(4);
    for layers in [&[4, 6, 10][..], &[2, 3, 2], &[5, 4, 3, 7]] {
        let w = rng.vec(num_weights(layers), -1.0, 1.0);
        let net = Network::from_weights(layers, Output::Tanh, &w).unwrap();
        let n_out = *layers.last().unwrap();
        let x = rng.vec(layers[0] * 15, -1.0, 1.0);
        let y = net.predict(&x).unwrap();
        let c = net.classify(&x).unwrap();
        assert_eq!(c.len(), 15);
        for (row, &ci) in y.chunks(n_out).zip(&c) {
            let k = ci as usize;
            assert_eq!(ci, k as f32);
            assert!(row.iter().all(|&v| v <= row[k]), "{row:?} -> {k}");
            assert!(
                row[..k].iter().all(|&v| v < row[k]),
                "first maximum: {row:?} -> {k}"
            );
        }
    }
}

#[test]
fn predict_and_gradient_from_several_threads_at_once() {
    // SPEC section 5: predict and gradient on a shared network may run concurrently
    fn shareable<T: Send + Sync>() {}
    shareable::<Network>();
    let layers = [6, 9, 3];
    let mut rng = TestRng::new(8);
    let net = Network::from_weights(
        &layers,
        Output::Tanh,
        &rng.vec(num_weights(&layers), -0.5, 0.5),
    )
    .unwrap();
    let x = rng.vec(6 * 40, -1.0, 1.0);
    let y = rng.vec(3 * 40, -1.0, 1.0);
    let reg = nnet::Regularization::l2(0.01);
    let p0 = bits(&net.predict(&x).unwrap());
    let (g0, e0) = net.gradient(&x, &y, &reg).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(bits(&net.predict(&x).unwrap()), p0);
                        let (g, e) = net.gradient(&x, &y, &reg).unwrap();
                        assert_eq!(bits(&g), bits(&g0));
                        assert_eq!(e, e0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}
