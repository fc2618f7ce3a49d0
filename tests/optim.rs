//! Every optimizer and schedule against an independent float64 implementation of SPEC
//! section 6 written here (not the library's code).
//!
//! - Weights after 1, 2 and 50 steps, with gradients from a fixed random sequence and the
//!   learning rate from each schedule, within float32 rounding of the f64 reference.
//! - iRPROP-: the sign-change branch (no step, `p = 0`, a smaller step size) is hit and checked.
//! - Defaults, the full-batch check, reset, and bad parameters that give errors and change
//!   nothing.

mod kernel_common;

use kernel_common::Gen;
use nnet::kernels::{Isa, Kernels};
use nnet::{Error, Optimizer, OptimizerState, Schedule};

/// The f64 reference state of one optimizer: SPEC section 6 line by line.
struct Reference {
    opt: Optimizer,
    t: u32,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Reference {
    fn new(opt: Optimizer, n: usize) -> Reference {
        let a0 = match opt {
            Optimizer::Rprop { delta0, .. } => delta0 as f64,
            _ => 0.0,
        };
        Reference {
            opt,
            t: 0,
            a: vec![a0; n],
            b: vec![0.0; n],
        }
    }

    fn step(&mut self, w: &mut [f64], g: &[f32], eta: f64) {
        self.t += 1;
        let t = self.t as i32;
        for i in 0..w.len() {
            let g = g[i] as f64;
            let (v, s) = (&mut self.a[i], &mut self.b[i]);
            match self.opt {
                Optimizer::Sgd => w[i] -= eta * g,
                Optimizer::Momentum { mu } => {
                    *v = mu as f64 * *v + g;
                    w[i] -= eta * *v;
                }
                Optimizer::Nesterov { mu } => {
                    *v = mu as f64 * *v + g;
                    w[i] -= eta * (g + mu as f64 * *v);
                }
                Optimizer::Adam { beta1, beta2, eps }
                | Optimizer::AdamW {
                    beta1, beta2, eps, ..
                } => {
                    if let Optimizer::AdamW { weight_decay, .. } = self.opt {
                        w[i] -= eta * weight_decay as f64 * w[i];
                    }
                    let (b1, b2) = (beta1 as f64, beta2 as f64);
                    *v = b1 * *v + (1.0 - b1) * g;
                    *s = b2 * *s + (1.0 - b2) * g * g;
                    let mh = *v / (1.0 - b1.powi(t));
                    let sh = *s / (1.0 - b2.powi(t));
                    w[i] -= eta * mh / (sh.sqrt() + eps as f64);
                }
                Optimizer::Rprop {
                    inc,
                    dec,
                    delta_min,
                    delta_max,
                    ..
                } => {
                    let sign = if g > 0.0 {
                        1.0
                    } else if g < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    let gp = g * *s;
                    if gp > 0.0 {
                        *v = (*v * inc as f64).min(delta_max as f64);
                        w[i] -= sign * *v;
                        *s = g;
                    } else if gp < 0.0 {
                        *v = (*v * dec as f64).max(delta_min as f64);
                        *s = 0.0;
                    } else {
                        w[i] -= sign * *v;
                        *s = g;
                    }
                }
            }
        }
    }
}

/// The schedules of SPEC section 6, in f64.
fn reference_rate(s: &Schedule, eta: f64, e: u32, epochs: u32) -> f64 {
    let ef = e as f64;
    match *s {
        Schedule::Constant => eta,
        Schedule::Step { gamma, every } => eta * (gamma as f64).powi((e / every) as i32),
        Schedule::Exponential { gamma } => eta * (gamma as f64).powi(e as i32),
        Schedule::InverseTime { decay } => eta / (1.0 + decay as f64 * ef),
        Schedule::Cosine { eta_min } => {
            let m = eta_min as f64;
            m + (eta - m) * (1.0 + (std::f64::consts::PI * ef / epochs as f64).cos()) / 2.0
        }
    }
}

fn optimizers() -> Vec<Optimizer> {
    vec![
        Optimizer::Sgd,
        Optimizer::momentum(),
        Optimizer::Momentum { mu: 0.5 },
        Optimizer::nesterov(),
        Optimizer::adam(),
        Optimizer::Adam {
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-4,
        },
        Optimizer::adamw(),
        Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.3,
        },
        Optimizer::rprop(),
        Optimizer::Rprop {
            inc: 1.5,
            dec: 0.3,
            delta0: 0.05,
            delta_min: 0.01,
            delta_max: 0.2,
        },
    ]
}

fn schedules() -> Vec<Schedule> {
    vec![
        Schedule::Constant,
        Schedule::Step {
            gamma: 0.5,
            every: 7,
        },
        Schedule::Exponential { gamma: 0.95 },
        Schedule::InverseTime { decay: 0.1 },
        Schedule::Cosine { eta_min: 0.001 },
    ]
}

const N: usize = 37;
const EPOCHS: u32 = 50;

/// The gradient of step `k`: uniform values, some exact zeros, and (for iRPROP-'s sign
/// changes) flipped signs.
fn gradient(k: usize) -> Vec<f32> {
    let mut g = Gen::new(1000 + k as u64);
    (0..N)
        .map(|i| {
            let u = g.uniform();
            if (i + k).is_multiple_of(11) { 0.0 } else { u }
        })
        .collect()
}

#[test]
fn every_optimizer_and_schedule_matches_the_f64_reference() {
    let eta = 0.05f32;
    for k in Isa::available()
        .into_iter()
        .map(|i| Kernels::for_isa(i).unwrap())
    {
        for opt in optimizers() {
            for sched in schedules() {
                sched.validate(eta).unwrap();
                let mut g = Gen::new(7);
                let w0: Vec<f32> = (0..N).map(|_| g.uniform()).collect();
                let mut w = w0.clone();
                let mut w64: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
                let mut state = OptimizerState::with_kernels(opt, N, k).unwrap();
                let mut reference = Reference::new(opt, N);
                let mut moved = 0.0f64;
                for step in 0..EPOCHS as usize {
                    let e = step as u32;
                    let rate = sched.rate(eta, e, EPOCHS);
                    let want_rate = reference_rate(&sched, eta as f64, e, EPOCHS);
                    assert!(
                        (rate as f64 - want_rate).abs() <= want_rate * f32::EPSILON as f64,
                        "{sched:?} epoch {e}: {rate} vs {want_rate}"
                    );
                    let gr = gradient(step);
                    let before = w64.clone();
                    state.step(&mut w, &gr, rate).unwrap();
                    reference.step(&mut w64, &gr, rate as f64);
                    moved += before
                        .iter()
                        .zip(&w64)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    let done = step + 1;
                    assert_eq!(state.steps(), done as u64);
                    if [1, 2, 50].contains(&done) {
                        // float32 rounding of every weight and of every step taken so far
                        let tol = 4.0 * f32::EPSILON as f64 * (1.0 + moved) * done as f64;
                        for i in 0..N {
                            let err = (w[i] as f64 - w64[i]).abs();
                            assert!(
                                err <= tol * (1.0 + w64[i].abs()),
                                "{:?} {opt:?} {sched:?} step {done} weight {i}: {} vs {} \
                                 (tol {tol})",
                                k.isa(),
                                w[i],
                                w64[i]
                            );
                        }
                        assert!(w != w0, "{opt:?} moved no weight");
                    }
                }
            }
        }
    }
}

#[test]
fn rprop_sign_changes_shrink_the_step_and_take_none() {
    let opt = Optimizer::rprop();
    let mut state = OptimizerState::new(opt, 3).unwrap();
    let mut w = vec![0.0f32; 3];
    let mut w64 = vec![0.0f64; 3];
    let mut reference = Reference::new(opt, 3);
    // step 1: p = 0, so every weight steps by delta0 against the sign of g
    let g1 = [1.0, -1.0, 0.0];
    state.step(&mut w, &g1, 1.0).unwrap();
    reference.step(&mut w64, &g1, 1.0);
    assert_eq!(w, [-0.1, 0.1, 0.0]);
    // step 2: weight 0 keeps its sign (grow: 0.12), weight 1 flips (no step), weight 2 starts
    let g2 = [2.0, 3.0, -1.0];
    state.step(&mut w, &g2, 1.0).unwrap();
    reference.step(&mut w64, &g2, 1.0);
    assert!((w[0] - (-0.1 - 0.12)).abs() < 1e-7, "{w:?}");
    assert_eq!(w[1], 0.1, "a sign change takes no step");
    assert!((w[2] - 0.1).abs() < 1e-7, "{w:?}");
    // step 3: weight 1 had p = 0, so it steps with the shrunk delta 0.05
    let g3 = [2.0, 3.0, -1.0];
    state.step(&mut w, &g3, 1.0).unwrap();
    reference.step(&mut w64, &g3, 1.0);
    assert!((w[1] - (0.1 - 0.05)).abs() < 1e-7, "{w:?}");
    for i in 0..3 {
        assert!((w[i] as f64 - w64[i]).abs() < 1e-6);
    }
    // eta is not used by iRPROP-
    let mut other = OptimizerState::new(opt, 3).unwrap();
    let mut w2 = vec![0.0f32; 3];
    for g in [g1, g2, g3] {
        other.step(&mut w2, &g, 123.0).unwrap();
    }
    assert_eq!(w, w2);
}

#[test]
fn defaults_are_those_of_the_spec() {
    assert_eq!(Optimizer::default(), Optimizer::Sgd);
    assert_eq!(Schedule::default(), Schedule::Constant);
    assert_eq!(Optimizer::momentum(), Optimizer::Momentum { mu: 0.9 });
    assert_eq!(Optimizer::nesterov(), Optimizer::Nesterov { mu: 0.9 });
    assert_eq!(
        Optimizer::adam(),
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8
        }
    );
    assert_eq!(
        Optimizer::adamw(),
        Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01
        }
    );
    assert_eq!(
        Optimizer::rprop(),
        Optimizer::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 50.0
        }
    );
    for o in optimizers() {
        o.validate().unwrap();
    }
}

#[test]
fn rprop_is_full_batch() {
    let e = Optimizer::rprop().check_batch(10, 11).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)));
    assert!(e.message().contains("full-batch"), "{e}");
    assert!(Optimizer::rprop().check_batch(11, 11).is_ok());
    for o in optimizers().into_iter().filter(|o| !o.is_full_batch()) {
        assert!(o.check_batch(1, 11).is_ok());
    }
}

#[test]
fn reset_starts_the_run_again() {
    for opt in optimizers() {
        let w0: Vec<f32> = (0..N).map(|i| i as f32 / N as f32 - 0.5).collect();
        let mut state = OptimizerState::new(opt, N).unwrap();
        let mut w = w0.clone();
        for k in 0..5 {
            state.step(&mut w, &gradient(k), 0.1).unwrap();
        }
        let first = w.clone();
        state.reset();
        assert_eq!(state.steps(), 0);
        let mut w = w0.clone();
        for k in 0..5 {
            state.step(&mut w, &gradient(k), 0.1).unwrap();
        }
        assert_eq!(w, first, "{opt:?}");
    }
}

#[test]
fn bad_parameters_are_errors() {
    let nan = f32::NAN;
    let bad = [
        Optimizer::Momentum { mu: 1.0 },
        Optimizer::Momentum { mu: -0.1 },
        Optimizer::Nesterov { mu: nan },
        Optimizer::Adam {
            beta1: 1.0,
            beta2: 0.999,
            eps: 1e-8,
        },
        Optimizer::Adam {
            beta1: 0.9,
            beta2: -0.5,
            eps: 1e-8,
        },
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 0.0,
        },
        Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: -0.01,
        },
        Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: f32::INFINITY,
        },
        Optimizer::Rprop {
            inc: 1.0,
            dec: 0.5,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 50.0,
        },
        Optimizer::Rprop {
            inc: 1.2,
            dec: 1.0,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 50.0,
        },
        Optimizer::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta0: 0.0,
            delta_min: 0.0,
            delta_max: 50.0,
        },
        Optimizer::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta0: 0.1,
            delta_min: -1.0,
            delta_max: 50.0,
        },
        Optimizer::Rprop {
            inc: 1.2,
            dec: 0.5,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 0.05,
        },
    ];
    for o in bad {
        let e = o.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{o:?}: {e:?}");
        assert!(e.message().starts_with(o.name()), "{e}");
        assert!(OptimizerState::new(o, 4).is_err());
    }
    let eta = 0.1;
    for s in [
        Schedule::Step {
            gamma: 0.0,
            every: 1,
        },
        Schedule::Step {
            gamma: 0.5,
            every: 0,
        },
        Schedule::Exponential { gamma: 1.5 },
        Schedule::Exponential { gamma: nan },
        Schedule::InverseTime { decay: -1.0 },
        Schedule::Cosine { eta_min: 0.2 },
        Schedule::Cosine { eta_min: -0.001 },
    ] {
        assert!(s.validate(eta).is_err(), "{s:?}");
    }
}

#[test]
fn a_failed_step_changes_nothing() {
    for opt in optimizers() {
        let mut state = OptimizerState::new(opt, 4).unwrap();
        let mut w = vec![0.5f32; 4];
        state.step(&mut w, &[0.1, -0.2, 0.3, 0.0], 0.1).unwrap();
        let (w_before, state_before) = (w.clone(), state.clone());
        assert!(matches!(
            state.step(&mut w, &[1.0; 3], 0.1),
            Err(Error::ShapeMismatch(_))
        ));
        assert!(state.step(&mut w[..3], &[1.0; 3], 0.1).is_err());
        if !opt.is_full_batch() {
            assert!(state.step(&mut w, &[1.0; 4], 0.0).is_err());
            assert!(state.step(&mut w, &[1.0; 4], f32::NAN).is_err());
        }
        assert_eq!(w, w_before);
        assert_eq!(state.steps(), 1);
        // the state is untouched: the next step matches a copy taken before the failures
        let mut a = w.clone();
        let mut b = w.clone();
        let mut copy = state_before;
        state.step(&mut a, &[0.3, 0.2, -0.1, 0.4], 0.1).unwrap();
        copy.step(&mut b, &[0.3, 0.2, -0.1, 0.4], 0.1).unwrap();
        assert_eq!(a, b, "{opt:?}");
    }
}
