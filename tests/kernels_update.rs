//! The optimizer update kernel of every SIMD kernel set against the scalar reference.
//!
//! - Every rule (sgd, momentum, Nesterov, Adam, AdamW, iRPROP-) with random weights, gradients
//!   and state, for lengths 0, 1, lanes-1, lanes, lanes+1, 2*lanes+-1 (4, 8 and 16 lanes),
//!   16k+15, 257 and 1030, each slice starting 0 to 3 floats into a larger buffer.
//! - The kernel is elementwise with correctly rounded operations only, so weights and state
//!   must be bitwise equal to the scalar reference, and the floats after each slice untouched.
//! - Several steps in a row, so the state written by one step is read by the next.
//! - iRPROP- inputs mix gradients with the sign of the previous one, the opposite sign and zero.

mod kernel_common;

use kernel_common::Gen;
use nnet::kernels::{Isa, Kernels, UpdateStep};

const SIZES: [usize; 19] = [
    0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 63, 64, 65, 257, 1030,
];
const GUARD: usize = 5;
const SENTINEL: f32 = 1234.5;

fn steps() -> Vec<UpdateStep> {
    vec![
        UpdateStep::Sgd { eta: 0.037 },
        UpdateStep::Momentum { eta: 0.05, mu: 0.9 },
        UpdateStep::Nesterov {
            eta: 0.05,
            mu: 0.87,
        },
        UpdateStep::Adam {
            step_size: 0.01 / (1.0 - 0.9),
            inv_sqrt_c2: 1.0 / (1.0f32 - 0.999).sqrt(),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            decay: 1.0,
        },
        UpdateStep::Adam {
            step_size: 0.003,
            inv_sqrt_c2: 3.1,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-6,
            decay: 0.9999,
        },
        UpdateStep::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta_min: 1e-3,
            delta_max: 0.4,
        },
    ]
}

/// `n` values at offset `off`, then `GUARD` sentinels.
fn buf(n: usize, off: usize, mut f: impl FnMut() -> f32) -> Vec<f32> {
    let mut v = vec![SENTINEL; off + n + GUARD];
    for x in &mut v[off..off + n] {
        *x = f();
    }
    v
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Weights, state 1 and state 2 after three steps of `step` with kernel set `k`.
fn run(k: &Kernels, step: &UpdateStep, n: usize, off: usize, seed: u64) -> [Vec<f32>; 3] {
    let mut g = Gen::new(seed);
    let rprop = matches!(step, UpdateStep::Rprop { .. });
    let mut w = buf(n, off, || g.uniform());
    let mut s1 = buf(n, off, || {
        let u = g.uniform();
        if rprop { 0.05 + 0.3 * u.abs() } else { u }
    });
    let mut s2 = buf(n, off, || {
        let u = g.uniform();
        match step {
            UpdateStep::Adam { .. } => u * u,
            // a third zero, the rest of either sign
            UpdateStep::Rprop { .. } if u.abs() < 0.33 => 0.0,
            _ => u,
        }
    });
    for round in 0..3 {
        let gr = buf(n, off, || {
            let u = g.uniform();
            if rprop && round == 2 && u.abs() < 0.1 {
                0.0
            } else {
                u
            }
        });
        let r = off..off + n;
        k.update(
            step,
            &mut w[r.clone()],
            &gr[r.clone()],
            &mut s1[r.clone()],
            &mut s2[r.clone()],
        )
        .unwrap();
    }
    for v in [&w, &s1, &s2] {
        assert!(v[..off].iter().all(|&x| x == SENTINEL), "before the slice");
        assert!(
            v[off + n..].iter().all(|&x| x == SENTINEL),
            "after the slice"
        );
    }
    [w, s1, s2]
}

#[test]
fn every_kernel_set_matches_the_scalar_reference_bitwise() {
    let scalar = Kernels::scalar();
    let sets: Vec<Kernels> = Isa::available()
        .into_iter()
        .filter(|&i| i != Isa::Scalar)
        .map(|i| Kernels::for_isa(i).unwrap())
        .collect();
    println!(
        "kernel sets: {:?}",
        sets.iter().map(|k| k.isa()).collect::<Vec<_>>()
    );
    for step in steps() {
        for &n in &SIZES {
            for off in 0..4 {
                let seed = (n * 4 + off) as u64;
                let want = run(&scalar, &step, n, off, seed);
                for k in &sets {
                    let got = run(k, &step, n, off, seed);
                    for (s, (a, b)) in want.iter().zip(&got).enumerate() {
                        assert_eq!(
                            bits(a),
                            bits(b),
                            "{:?} {step:?} n={n} off={off} vector {s}",
                            k.isa()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_scalar_rules_compute_the_documented_formulas() {
    // small exact values: every result below is exact in f32
    let k = Kernels::scalar();
    let mut w = [1.0, 2.0];
    k.update(
        &UpdateStep::Sgd { eta: 0.5 },
        &mut w,
        &[2.0, -4.0],
        &mut [],
        &mut [],
    )
    .unwrap();
    assert_eq!(w, [0.0, 4.0]);
    let (mut w, mut v) = ([1.0, 1.0], [2.0, -2.0]);
    let step = UpdateStep::Nesterov { eta: 0.25, mu: 0.5 };
    k.update(&step, &mut w, &[1.0, 1.0], &mut v, &mut [])
        .unwrap();
    // v = 0.5 v + g = [2, 0]; w -= 0.25 (g + 0.5 v) = [1 - 0.5, 1 - 0.25]
    assert_eq!((w, v), ([0.5, 0.75], [2.0, 0.0]));
    // iRPROP-: same sign (grow, step), opposite (shrink, no step, p = 0), p = 0 (step),
    // g = 0 (no step, p = 0), growth capped at delta_max
    let step = UpdateStep::Rprop {
        inc: 2.0,
        dec: 0.5,
        delta_min: 0.125,
        delta_max: 1.0,
    };
    let mut w = [0.0; 5];
    let mut delta = [0.25, 0.5, 0.25, 0.25, 0.75];
    let mut p = [1.0, 1.0, 0.0, 1.0, -1.0];
    let g = [3.0, -2.0, -5.0, 0.0, -1.0];
    k.update(&step, &mut w, &g, &mut delta, &mut p).unwrap();
    assert_eq!(w, [-0.5, 0.0, 0.25, 0.0, 1.0]);
    assert_eq!(delta, [0.5, 0.25, 0.25, 0.25, 1.0]);
    assert_eq!(p, [3.0, 0.0, -5.0, 0.0, -1.0]);
}

#[test]
fn lengths_that_do_not_fit_are_errors_that_change_nothing() {
    for k in Isa::available()
        .into_iter()
        .map(|i| Kernels::for_isa(i).unwrap())
    {
        let mut w = [1.0f32; 4];
        let mut s1 = [0.0f32; 3];
        let step = UpdateStep::Momentum { eta: 1.0, mu: 0.5 };
        assert!(
            k.update(&step, &mut w, &[1.0; 4], &mut s1, &mut [])
                .is_err()
        );
        assert!(
            k.update(&step, &mut w, &[1.0; 5], &mut [0.0; 4], &mut [])
                .is_err()
        );
        let adam = steps()[3];
        assert!(
            k.update(&adam, &mut w, &[1.0; 4], &mut [0.0; 4], &mut [])
                .is_err()
        );
        assert_eq!(w, [1.0; 4]);
        assert_eq!(s1, [0.0; 3]);
    }
}
