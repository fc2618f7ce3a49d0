//! Facts from the lecture "Neural Network" (Machine Learning Techniques, lecture 12): the
//! weight count D and neuron count V, the weight-elimination derivative, and the hand-built
//! AND / OR / XOR networks on +-1 inputs.
//!
//! "sign" is checked two ways: a linear output whose value's sign is taken (and `classify`,
//! which is sign with sign(0) = +1 for one output), and a tanh output with every weight
//! scaled by 10 so that tanh approximates sign: `classify` gives the label and the output is
//! within 1e-6 of +-1.

mod common;

use approx::assert_relative_eq;
use common::*;
use nnet::{Network, Output, RegKind, Regularization};

const INPUTS: [[f32; 2]; 4] = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];

fn sign(v: f32) -> f32 {
    if v >= 0.0 { 1.0 } else { -1.0 }
}

#[test]
fn a_3_5_1_network_has_26_weights_and_6_neurons() {
    let net = Network::new(&[3, 5, 1], Output::Linear, 1, 0.1).unwrap();
    assert_eq!(net.num_weights(), 26);
    assert_eq!(net.num_neurons(), 6);
    assert_eq!(net.weights().len(), 26);
    assert_eq!(net.num_layers(), 2);
    assert_eq!(net.layer_weights(1).unwrap().len(), 4 * 5);
    assert_eq!(net.layer_weights(2).unwrap().len(), 6);
}

#[test]
fn weight_and_neuron_counts_follow_the_formulas() {
    for layers in [
        &[1, 1][..],
        &[2, 1],
        &[3, 1, 2],
        &[4, 6, 5, 3],
        &[784, 100, 10],
        &[5, 4, 3, 2, 1],
    ] {
        let net = Network::new(layers, Output::Tanh, 3, 0.5).unwrap();
        // D = sum_l (d(l-1)+1) d(l), V = sum_{l>=1} d(l)
        let d: usize = layers.windows(2).map(|p| (p[0] + 1) * p[1]).sum();
        let v: usize = layers[1..].iter().sum();
        assert_eq!(net.num_weights(), d, "{layers:?}");
        assert_eq!(net.num_neurons(), v, "{layers:?}");
        assert_eq!(net.layers(), layers);
        assert_eq!(net.num_inputs(), layers[0]);
        assert_eq!(net.num_outputs(), *layers.last().unwrap());
        let mut total = 0;
        for l in 1..layers.len() {
            let n = net.layer_weights(l).unwrap().len();
            assert_eq!(n, (layers[l - 1] + 1) * layers[l]);
            total += n;
        }
        assert_eq!(total, d);
        assert!(net.layer_weights(0).is_err());
        assert!(net.layer_weights(layers.len()).is_err());
    }
}

#[test]
fn initial_weights_are_uniform_in_the_range() {
    let r = 0.3;
    let net = Network::new(&[10, 20, 5], Output::Linear, 42, r).unwrap();
    let w = net.weights();
    assert!(w.iter().all(|v| v.abs() <= r));
    // "random and small": not all equal, both signs, spread over the range
    let (lo, hi) = w
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(lo < -0.8 * r && hi > 0.8 * r, "range [{lo}, {hi}]");
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
    assert!(mean.abs() < 0.05, "mean {mean}");
    let zero = Network::new(&[10, 20, 5], Output::Linear, 42, 0.0).unwrap();
    assert!(zero.weights().iter().all(|&v| v == 0.0));
}

#[test]
fn weight_elimination_derivative_is_2w_over_1_plus_w2_squared_for_w0_1() {
    let reg = Regularization {
        kind: RegKind::WeightElimination,
        lambda: 0.1,
        ..Default::default()
    };
    assert_eq!(reg.w0, 1.0, "the default scale is the lecture's w0 = 1");
    for w in [
        0.0f32, 1e-3, -1e-3, 0.25, -0.5, 1.0, -1.0, 2.0, -3.5, 10.0, 100.0,
    ] {
        let wd = w as f64;
        let expect = 2.0 * wd / (1.0 + wd * wd).powi(2);
        assert_relative_eq!(
            reg.derivative(w) as f64,
            expect,
            max_relative = 1e-6,
            epsilon = 1e-12
        );
        // Omega(w) = w^2 / (1 + w^2)
        assert_relative_eq!(
            reg.value(w),
            wd * wd / (1.0 + wd * wd),
            max_relative = 1e-12
        );
    }
    // and it is the derivative of value(): central differences in f64 around w = 0.7
    let h = 1e-3f32;
    let fd = (reg.value(0.7 + h) - reg.value(0.7 - h)) / (2.0 * h as f64);
    assert_relative_eq!(reg.derivative(0.7) as f64, fd, max_relative = 1e-4);
    // the lecture's point: large weights are pushed less than small ones
    assert!(reg.derivative(10.0) < reg.derivative(1.0));
    assert_eq!(reg.derivative(0.0), 0.0);
}

#[test]
fn weight_elimination_derivative_with_other_scales_and_other_regularizers() {
    for w0 in [0.5f32, 2.0] {
        let reg = Regularization::weight_elimination(1.0, w0);
        for w in [-2.0f32, -0.3, 0.1, 0.9, 4.0] {
            let (wd, s) = (w as f64, w0 as f64);
            let u = wd / s;
            let expect = (2.0 * wd / (s * s)) / (1.0 + u * u).powi(2);
            assert_relative_eq!(reg.derivative(w) as f64, expect, max_relative = 1e-6);
        }
    }
    let l2 = Regularization::l2(1.0);
    let l1 = Regularization::l1(1.0);
    for w in [-2.0f32, -0.3, 0.0, 0.1, 4.0] {
        assert_eq!(l2.derivative(w), 2.0 * w);
        assert_eq!(
            l1.derivative(w),
            if w > 0.0 {
                1.0
            } else if w < 0.0 {
                -1.0
            } else {
                0.0
            }
        );
    }
    assert_eq!(Regularization::none().derivative(3.0), 0.0);
}

/// A 2-1 network computing `sign(bias + g1 + g2)` (scaled by `k`).
fn perceptron(bias: f32, a: f32, b: f32, k: f32, output: Output) -> Network {
    // W(1) is 3 x 1: row 0 the bias, rows 1 and 2 the input weights
    Network::from_weights(&[2, 1], output, &[k * bias, k * a, k * b]).unwrap()
}

fn check_gate(net: &Network, truth: impl Fn(f32, f32) -> f32, name: &str) {
    for [g1, g2] in INPUTS {
        let want = truth(g1, g2);
        let out = net.predict(&[g1, g2]).unwrap()[0];
        match net.output() {
            Output::Linear => assert_eq!(sign(out), want, "{name}({g1}, {g2}): output {out}"),
            Output::Tanh => assert!(
                (out - want).abs() <= 1e-6,
                "{name}({g1}, {g2}): tanh output {out} is not close to {want}"
            ),
        }
        assert_eq!(
            net.classify(&[g1, g2]).unwrap(),
            vec![want],
            "{name}({g1}, {g2})"
        );
    }
    // the batch form agrees with the per-row form
    let x: Vec<f32> = INPUTS.iter().flatten().copied().collect();
    let want: Vec<f32> = INPUTS.iter().map(|&[a, b]| truth(a, b)).collect();
    assert_eq!(net.classify(&x).unwrap(), want, "{name} batch");
}

fn and(a: f32, b: f32) -> f32 {
    if a > 0.0 && b > 0.0 { 1.0 } else { -1.0 }
}

fn or(a: f32, b: f32) -> f32 {
    if a > 0.0 || b > 0.0 { 1.0 } else { -1.0 }
}

fn xor(a: f32, b: f32) -> f32 {
    if (a > 0.0) != (b > 0.0) { 1.0 } else { -1.0 }
}

#[test]
fn and_is_sign_of_minus_1_plus_g1_plus_g2() {
    check_gate(&perceptron(-1.0, 1.0, 1.0, 1.0, Output::Linear), and, "AND");
    check_gate(&perceptron(-1.0, 1.0, 1.0, 10.0, Output::Tanh), and, "AND");
    // the linear scores are exactly -3, -1, -1, +1
    let net = perceptron(-1.0, 1.0, 1.0, 1.0, Output::Linear);
    let x: Vec<f32> = INPUTS.iter().flatten().copied().collect();
    assert_eq!(net.predict(&x).unwrap(), vec![-3.0, -1.0, -1.0, 1.0]);
}

#[test]
fn or_is_sign_of_plus_1_plus_g1_plus_g2() {
    check_gate(&perceptron(1.0, 1.0, 1.0, 1.0, Output::Linear), or, "OR");
    check_gate(&perceptron(1.0, 1.0, 1.0, 10.0, Output::Tanh), or, "OR");
    let net = perceptron(1.0, 1.0, 1.0, 1.0, Output::Linear);
    let x: Vec<f32> = INPUTS.iter().flatten().copied().collect();
    assert_eq!(net.predict(&x).unwrap(), vec![-1.0, 1.0, 1.0, 3.0]);
}

/// XOR = OR(AND(-g1, g2), AND(g1, -g2)) as a 2-2-1 network with every weight times `k`.
fn xor_network(k: f32, output: Output) -> Network {
    #[rustfmt::skip]
    let w = [
        // W(1): 3 rows (bias, g1, g2) x 2 columns (h1 = AND(-g1, g2), h2 = AND(g1, -g2))
        -1.0, -1.0, // bias row
        -1.0,  1.0, // g1
         1.0, -1.0, // g2
        // W(2): 3 rows (bias, h1, h2) x 1 column: OR(h1, h2)
         1.0,
         1.0,
         1.0,
    ];
    let w: Vec<f32> = w.iter().map(|v| k * v).collect();
    Network::from_weights(&[2, 2, 1], output, &w).unwrap()
}

#[test]
fn xor_is_or_of_two_ands_in_a_2_2_1_network() {
    // tanh hidden units approximate sign once the weights are scaled up (scale 10: the hidden
    // scores are +-10 or +-30, tanh(10) = 1 - 4e-9)
    check_gate(&xor_network(10.0, Output::Tanh), xor, "XOR");
    check_gate(&xor_network(10.0, Output::Linear), xor, "XOR");

    // the hidden layer really computes the two ANDs: read it off a 2-2 network with the
    // first layer alone and a tanh output
    let full = xor_network(10.0, Output::Tanh);
    let first =
        Network::from_weights(&[2, 2], Output::Tanh, full.layer_weights(1).unwrap()).unwrap();
    for [g1, g2] in INPUTS {
        let h = first.predict(&[g1, g2]).unwrap();
        assert!(
            (h[0] - and(-g1, g2)).abs() <= 1e-6,
            "AND(-g1, g2) at ({g1}, {g2}): {h:?}"
        );
        assert!(
            (h[1] - and(g1, -g2)).abs() <= 1e-6,
            "AND(g1, -g2) at ({g1}, {g2}): {h:?}"
        );
    }
}

#[test]
fn xor_with_unscaled_weights_is_not_sign_but_still_separates() {
    // with scale 1 the tanh units are soft: the outputs are far from +-1, which is why the
    // lecture's construction needs large weights to approximate sign
    let soft = xor_network(1.0, Output::Tanh);
    let x: Vec<f32> = INPUTS.iter().flatten().copied().collect();
    let out = soft.predict(&x).unwrap();
    assert!(out.iter().all(|v| v.abs() < 0.99), "{out:?}");
    let labels: Vec<f32> = INPUTS.iter().map(|&[a, b]| xor(a, b)).collect();
    assert_eq!(soft.classify(&x).unwrap(), labels);
    // compare with the f64 reference forward
    let want: Vec<f64> = INPUTS
        .iter()
        .map(|&[a, b]| {
            outputs(
                &[2, 2, 1],
                true,
                &to_f64(soft.weights()),
                &[a as f64, b as f64],
            )[0]
        })
        .collect();
    for (o, w) in out.iter().zip(&want) {
        assert_relative_eq!(*o as f64, *w, max_relative = 1e-6);
    }
}
