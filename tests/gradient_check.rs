//! `Network::gradient` against central finite differences of an independent f64 `E_aug`
//! (SPEC sections 1-2), for several shapes, both output kinds, every regularizer, with and
//! without bias rows in `Omega`.
//!
//! Tolerances (f32 arithmetic in the crate, f64 in the reference):
//! - gradient: `max_i |g_i - fd_i| <= GRAD_TOL * max(1, ||fd||_2)`, GRAD_TOL = 1e-5 (about 80
//!   f32 epsilons; a wrong term in backprop is off by O(1) relative to the norm);
//! - `E_aug` and `E_in`: `|e - e_f64| <= VALUE_TOL * (e_f64 + sqrt(e_f64))`, VALUE_TOL = 1e-5:
//!   the crate forms each residual `y - out` in f32 (absolute error a few f32 epsilons), so the
//!   error of `mean r^2` is relative for large residuals and `~ sqrt(E)` for small ones;
//! - the f64 reference backprop itself against the finite differences: `<= 1e-7` relative.

mod common;

use common::*;
use nnet::{Network, Output, RegKind, Regularization, Scaling};

const GRAD_TOL: f64 = 1e-5;
const VALUE_TOL: f64 = 1e-5;
/// The central-difference step in f64: truncation error O(h^2), rounding O(1e-16 / h).
const H: f64 = 1e-6;

const SHAPES: [&[usize]; 6] = [
    &[3, 5, 1],
    &[4, 6, 5, 3],
    &[3, 1, 2],
    &[2, 4, 3],
    &[1, 1],
    &[2, 3, 1, 2],
];

fn regularizers() -> Vec<Regularization> {
    let mut v = vec![Regularization::none()];
    for include_bias in [true, false] {
        for base in [
            Regularization::l2(0.05),
            Regularization::l1(0.05),
            Regularization::weight_elimination(0.05, 1.0),
            Regularization::weight_elimination(0.05, 0.5),
        ] {
            v.push(Regularization {
                include_bias,
                ..base
            });
        }
    }
    v
}

fn value_tol(e: f64) -> f64 {
    VALUE_TOL * (e + e.sqrt())
}

fn finite_differences(
    layers: &[usize],
    tanh_out: bool,
    reg: &Regularization,
    w: &[f64],
    x: &[f64],
    y: &[f64],
) -> Vec<f64> {
    let mut wp = w.to_vec();
    (0..w.len())
        .map(|i| {
            wp[i] = w[i] + H;
            let plus = e_aug(layers, tanh_out, reg, &wp, x, y);
            wp[i] = w[i] - H;
            let minus = e_aug(layers, tanh_out, reg, &wp, x, y);
            wp[i] = w[i];
            (plus - minus) / (2.0 * H)
        })
        .collect()
}

struct Case {
    layers: &'static [usize],
    output: Output,
    reg: Regularization,
    rows: usize,
    seed: u64,
}

/// Checks one case; returns the observed gradient error relative to the norm.
fn check(case: &Case) -> f64 {
    let layers = case.layers;
    let tanh_out = case.output == Output::Tanh;
    let mut rng = TestRng::new(case.seed);
    let d = num_weights(layers);
    // |w| in [0.05, 0.8]: away from L1's kink at 0 by far more than H
    let w32 = rng.vec_away_from_zero(d, 0.05, 0.8);
    let x32 = rng.vec(case.rows * layers[0], -1.0, 1.0);
    let ymax = if tanh_out { 0.9 } else { 2.0 };
    let y32 = rng.vec(case.rows * layers.last().unwrap(), -ymax, ymax);
    let (w, x, y) = (to_f64(&w32), to_f64(&x32), to_f64(&y32));

    let fd = finite_differences(layers, tanh_out, &case.reg, &w, &x, &y);
    let scale = norm(&fd).max(1.0);
    let base = format!(
        "{layers:?} {:?} {:?} lambda {} w0 {} bias {} rows {}",
        case.output, case.reg.kind, case.reg.lambda, case.reg.w0, case.reg.include_bias, case.rows
    );

    // the reference backprop agrees with the finite differences (checks the oracle itself)
    let all: Vec<usize> = (0..case.rows).collect();
    let mut bp = mean_gradient(layers, tanh_out, &w, &x, &y, &all);
    for (a, b) in bp.iter_mut().zip(reg_gradient(&case.reg, layers, &w)) {
        *a += b;
    }
    let oracle_err = max_abs_diff(&bp, &fd) / scale;
    assert!(
        oracle_err <= 1e-7,
        "{base}: reference backprop off by {oracle_err:e}"
    );

    let e_ref = e_aug(layers, tanh_out, &case.reg, &w, &x, &y);
    let ein_ref = e_in(layers, tanh_out, &w, &x, &y);
    let mut worst: f64 = 0.0;
    for kernels in all_kernels() {
        let what = format!("{base} ({})", kernels.isa());
        let mut net = Network::from_weights(layers, case.output, &w32).unwrap();
        net.set_kernels(kernels);
        let (g, e) = net.gradient(&x32, &y32, &case.reg).unwrap();
        assert_eq!(g.len(), d);
        let err = max_abs_diff(&to_f64(&g), &fd) / scale;
        assert!(
            err <= GRAD_TOL,
            "{what}: gradient off by {err:e} (relative to norm {scale}); got {g:?}, expected {fd:?}"
        );
        worst = worst.max(err);
        assert!(
            (e - e_ref).abs() <= value_tol(e_ref),
            "{what}: E_aug {e} vs f64 {e_ref}"
        );
        let ein = net.error(&x32, &y32).unwrap();
        assert!(
            (ein - ein_ref).abs() <= value_tol(ein_ref),
            "{what}: E_in {ein} vs f64 {ein_ref}"
        );
        if !case.reg.is_active() {
            assert_eq!(e, ein, "{what}: without a regularizer E_aug is E_in");
        } else {
            assert!(e > ein, "{what}: Omega > 0 for nonzero weights");
        }
    }
    worst
}

#[test]
fn gradient_matches_finite_differences_for_every_shape_output_and_regularizer() {
    let mut worst: f64 = 0.0;
    let mut cases = 0;
    for (si, layers) in SHAPES.into_iter().enumerate() {
        for output in [Output::Linear, Output::Tanh] {
            for (ri, reg) in regularizers().into_iter().enumerate() {
                for rows in [1, 7] {
                    let seed = (si * 1000 + ri * 10 + rows) as u64 + 17 * output.to_u32() as u64;
                    worst = worst.max(check(&Case {
                        layers,
                        output,
                        reg,
                        rows,
                        seed,
                    }));
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, SHAPES.len() * 2 * 9 * 2);
    eprintln!("worst relative gradient error over {cases} cases: {worst:e}");
}

#[test]
fn bias_rows_are_excluded_from_omega_when_asked() {
    // with lambda large and E_in's gradient small, the regularizer's part is exactly
    // lambda * dOmega/dw off the bias rows and absent on them
    let layers = [2, 3, 2];
    let mut rng = TestRng::new(5);
    let w = rng.vec_away_from_zero(num_weights(&layers), 0.1, 0.9);
    let x = rng.vec(2 * 4, -1.0, 1.0);
    let y = rng.vec(2 * 4, -1.0, 1.0);
    let net = Network::from_weights(&layers, Output::Linear, &w).unwrap();
    let (g0, _) = net.gradient(&x, &y, &Regularization::none()).unwrap();
    for kind in [RegKind::L2, RegKind::L1, RegKind::WeightElimination] {
        for include_bias in [true, false] {
            let reg = Regularization {
                kind,
                lambda: 0.5,
                w0: 0.7,
                include_bias,
            };
            let (g, _) = net.gradient(&x, &y, &reg).unwrap();
            for i in 0..w.len() {
                let extra = (g[i] - g0[i]) as f64;
                let expect = if include_bias || !is_bias(&layers, i) {
                    0.5 * omega_deriv(kind, 0.7, w[i] as f64)
                } else {
                    0.0
                };
                assert!(
                    (extra - expect).abs() <= 1e-5,
                    "{kind:?} include_bias {include_bias} weight {i}: {extra} vs {expect}"
                );
            }
        }
    }
}

#[test]
fn lambda_zero_or_kind_none_adds_nothing() {
    let layers = [3, 4, 1];
    let mut rng = TestRng::new(9);
    let w = rng.vec(num_weights(&layers), -0.5, 0.5);
    let x = rng.vec(3 * 5, -1.0, 1.0);
    let y = rng.vec(5, -1.0, 1.0);
    let net = Network::from_weights(&layers, Output::Tanh, &w).unwrap();
    let (g0, e0) = net.gradient(&x, &y, &Regularization::none()).unwrap();
    for reg in [
        Regularization::l2(0.0),
        Regularization::l1(0.0),
        Regularization::weight_elimination(0.0, 2.0),
        Regularization {
            kind: RegKind::None,
            lambda: 3.0,
            ..Default::default()
        },
    ] {
        let (g, e) = net.gradient(&x, &y, &reg).unwrap();
        assert_eq!(bits(&g), bits(&g0), "{reg:?}");
        assert_eq!(e, e0, "{reg:?}");
    }
}

#[test]
fn gradient_with_scaling_is_the_gradient_on_standardized_data() {
    // A network with a Scaling computes the gradient and E_in in standardized units.
    let layers = [2, 3, 1];
    let mut rng = TestRng::new(21);
    let w = rng.vec(num_weights(&layers), -0.6, 0.6);
    let rows = 6;
    let x: Vec<f32> = (0..rows * 2)
        .map(|i| {
            if i % 2 == 0 {
                10.0 + rng.uniform(-3.0, 3.0)
            } else {
                rng.uniform(-0.1, 0.1)
            }
        })
        .collect();
    let y: Vec<f32> = (0..rows).map(|_| 50.0 + rng.uniform(-20.0, 20.0)).collect();
    let scaling = Scaling::fit(&x, 2, Some(&y), 1).unwrap();
    let mut net = Network::from_weights(&layers, Output::Linear, &w).unwrap();
    net.set_scaling(Some(scaling.clone())).unwrap();

    let (im, is) = (scaling.input_mean(), scaling.input_std());
    let (tm, ts) = (
        scaling.target_mean().unwrap(),
        scaling.target_std().unwrap(),
    );
    let xs: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| (v as f64 - im[i % 2] as f64) / is[i % 2] as f64)
        .collect();
    let ys: Vec<f64> = y
        .iter()
        .map(|&v| (v as f64 - tm[0] as f64) / ts[0] as f64)
        .collect();
    let wf = to_f64(&w);
    let reg = Regularization::l2(0.01);
    let (g, e) = net.gradient(&x, &y, &reg).unwrap();
    let fd = finite_differences(&layers, false, &reg, &wf, &xs, &ys);
    let err = max_abs_diff(&to_f64(&g), &fd) / norm(&fd).max(1.0);
    assert!(err <= GRAD_TOL, "scaled gradient off by {err:e}");
    let e_ref = e_aug(&layers, false, &reg, &wf, &xs, &ys);
    assert!((e - e_ref).abs() <= value_tol(e_ref), "{e} vs {e_ref}");
}
