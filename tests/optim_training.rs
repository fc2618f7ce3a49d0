//! Training with every optimizer of SPEC section 6: per-sample and batched, with and without
//! a regularizer, against an independent float64 implementation of sections 2, 3 and 6;
//! thread-count determinism; restarts reset the state; bad values change nothing.

use nnet::{Network, Optimizer, Order, Output, Regularization, Schedule, TrainConfig, TrainPath};

const LAYERS: [usize; 3] = [2, 3, 1];

fn data() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..16)
        .map(|i| ((i * 7 % 11) as f32 / 11.0) - 0.45)
        .collect();
    let y: Vec<f32> = x
        .chunks(2)
        .map(|r| (r[0] * 1.5 - r[1]).sin() * 0.8)
        .collect();
    (x, y)
}

/// The f64 reference of one network: forward, backward, `x delta^T`.
struct Reference {
    w: Vec<f64>,
    tanh_out: bool,
}

impl Reference {
    /// The summed gradient of `e_n` over `rows` (sections 1-2, written from the formulas).
    fn gradient(&self, x: &[f32], y: &[f32], rows: &[usize]) -> Vec<f64> {
        let mut g = vec![0.0; self.w.len()];
        for &n in rows {
            let mut acts: Vec<Vec<f64>> = vec![];
            let mut a: Vec<f64> = std::iter::once(1.0)
                .chain(x[n * 2..n * 2 + 2].iter().map(|&v| v as f64))
                .collect();
            let mut off = 0;
            let mut offs = vec![];
            for l in 1..LAYERS.len() {
                let (r, c) = (LAYERS[l - 1] + 1, LAYERS[l]);
                offs.push(off);
                let mut next = vec![1.0];
                for j in 0..c {
                    let s: f64 = (0..r).map(|i| self.w[off + i * c + j] * a[i]).sum();
                    let last = l == LAYERS.len() - 1;
                    next.push(if !last || self.tanh_out { s.tanh() } else { s });
                }
                acts.push(a);
                a = next;
                off += r * c;
            }
            let out = a[1];
            let t = y[n] as f64;
            let d_out = if self.tanh_out { 1.0 - out * out } else { 1.0 };
            let mut delta = vec![-2.0 * (t - out) * d_out];
            for l in (1..LAYERS.len()).rev() {
                let (r, c) = (LAYERS[l - 1] + 1, LAYERS[l]);
                let xin = &acts[l - 1];
                for i in 0..r {
                    for j in 0..c {
                        g[offs[l - 1] + i * c + j] += xin[i] * delta[j];
                    }
                }
                if l >= 2 {
                    delta = (1..r)
                        .map(|i| {
                            let s: f64 = (0..c)
                                .map(|j| self.w[offs[l - 1] + i * c + j] * delta[j])
                                .sum();
                            s * (1.0 - xin[i] * xin[i])
                        })
                        .collect();
                }
            }
        }
        g
    }
}

/// The f64 optimizer state of SPEC section 6.
struct RefOpt {
    o: Optimizer,
    t: u64,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl RefOpt {
    fn new(o: Optimizer, d: usize) -> RefOpt {
        let a0 = match o {
            Optimizer::Rprop { delta0, .. } => delta0 as f64,
            _ => 0.0,
        };
        RefOpt {
            o,
            t: 0,
            a: vec![a0; d],
            b: vec![0.0; d],
        }
    }

    fn step(&mut self, w: &mut [f64], g: &[f64], eta: f64) {
        self.t += 1;
        let t = self.t as f64;
        for i in 0..w.len() {
            let gi = g[i];
            match self.o {
                Optimizer::Sgd => w[i] -= eta * gi,
                Optimizer::Momentum { mu } => {
                    self.a[i] = mu as f64 * self.a[i] + gi;
                    w[i] -= eta * self.a[i];
                }
                Optimizer::Nesterov { mu } => {
                    self.a[i] = mu as f64 * self.a[i] + gi;
                    w[i] -= eta * (gi + mu as f64 * self.a[i]);
                }
                Optimizer::Adam { beta1, beta2, eps }
                | Optimizer::AdamW {
                    beta1, beta2, eps, ..
                } => {
                    if let Optimizer::AdamW { weight_decay, .. } = self.o {
                        w[i] -= eta * weight_decay as f64 * w[i];
                    }
                    let (b1, b2) = (beta1 as f64, beta2 as f64);
                    self.a[i] = b1 * self.a[i] + (1.0 - b1) * gi;
                    self.b[i] = b2 * self.b[i] + (1.0 - b2) * gi * gi;
                    let m = self.a[i] / (1.0 - b1.powf(t));
                    let s = self.b[i] / (1.0 - b2.powf(t));
                    w[i] -= eta * m / (s.sqrt() + eps as f64);
                }
                Optimizer::Rprop {
                    inc,
                    dec,
                    delta_min,
                    delta_max,
                    ..
                } => {
                    let p = self.b[i];
                    let sign = if gi > 0.0 {
                        1.0
                    } else if gi < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    if gi * p > 0.0 {
                        self.a[i] = (self.a[i] * inc as f64).min(delta_max as f64);
                        w[i] -= sign * self.a[i];
                        self.b[i] = gi;
                    } else if gi * p < 0.0 {
                        self.a[i] = (self.a[i] * dec as f64).max(delta_min as f64);
                        self.b[i] = 0.0;
                    } else {
                        w[i] -= sign * self.a[i];
                        self.b[i] = gi;
                    }
                }
            }
        }
    }
}

fn optimizers() -> Vec<Optimizer> {
    vec![
        Optimizer::Sgd,
        Optimizer::momentum(),
        Optimizer::nesterov(),
        Optimizer::adam(),
        Optimizer::adamw(),
        Optimizer::rprop(),
    ]
}

/// Trains `epochs` epochs in the reference: sequential order, batches of `batch`, L2
/// regularizer `lambda` (bias rows included), the exponential schedule `gamma`.
fn reference(
    net: &Network,
    o: Optimizer,
    batch: usize,
    lambda: f64,
    eta: f64,
    gamma: f64,
    epochs: u32,
) -> Vec<f64> {
    let (x, y) = data();
    let mut r = Reference {
        w: net.weights().iter().map(|&v| v as f64).collect(),
        tanh_out: false,
    };
    let mut opt = RefOpt::new(o, r.w.len());
    let rows: Vec<usize> = (0..y.len()).collect();
    for e in 0..epochs {
        let rate = eta * gamma.powi(e as i32);
        for b in rows.chunks(batch) {
            let sum = r.gradient(&x, &y, b);
            let g: Vec<f64> = sum
                .iter()
                .zip(&r.w)
                .map(|(s, w)| s / b.len() as f64 + lambda * 2.0 * w)
                .collect();
            let mut w = r.w.clone();
            opt.step(&mut w, &g, rate);
            r.w = w;
        }
    }
    r.w
}

fn config(o: Optimizer, batch: usize, lambda: f32, epochs: u32) -> TrainConfig {
    TrainConfig {
        learning_rate: 0.05,
        epochs,
        batch_size: batch,
        order: Order::Sequential,
        regularization: if lambda > 0.0 {
            Regularization::l2(lambda)
        } else {
            Regularization::none()
        },
        optimizer: o,
        schedule: Schedule::Exponential { gamma: 0.5 },
        threads: 1,
        ..TrainConfig::default()
    }
}

fn fresh() -> Network {
    Network::new(&LAYERS, Output::Linear, 5, 0.5).unwrap()
}

#[test]
fn every_optimizer_matches_the_float64_reference() {
    let (x, y) = data();
    for o in optimizers() {
        let batches: &[usize] = if o.is_full_batch() { &[8] } else { &[1, 3, 8] };
        for &batch in batches {
            for lambda in [0.0f32, 1e-3] {
                for epochs in [1u32, 2] {
                    let mut net = fresh();
                    let want = reference(&net, o, batch, lambda as f64, 0.05, 0.5, epochs);
                    let cfg = config(o, batch, lambda, epochs);
                    net.train(&cfg, &x, &y, None).unwrap();
                    for (i, (&got, &w)) in net.weights().iter().zip(&want).enumerate() {
                        let tol = 2e-5 * (1.0 + w.abs());
                        assert!(
                            (got as f64 - w).abs() <= tol,
                            "{} batch {batch} lambda {lambda} epochs {epochs}: weight {i} is \
                             {got}, the reference {w}",
                            o.name()
                        );
                    }
                    assert_ne!(net.weights(), fresh().weights(), "{} trained", o.name());
                }
            }
        }
    }
}

#[test]
fn the_plan_keeps_sgd_paths_and_routes_optimizers_to_a_state_step() {
    let net = fresh();
    for o in optimizers() {
        let per_sample = net.train_plan(&config(o, 1, 0.0, 1), 8).path;
        let batched = net.train_plan(&config(o, 8, 0.0, 1), 8).path;
        if o == Optimizer::Sgd {
            assert_eq!(per_sample, TrainPath::FusedSgd);
        } else {
            assert_eq!(per_sample, TrainPath::PerSample, "{}", o.name());
            assert_eq!(batched, TrainPath::Accumulated, "{}", o.name());
        }
    }
}

#[test]
fn thread_counts_give_the_same_weights_for_every_optimizer() {
    // big enough that steps and evaluations are spread over the workers
    let net0 = Network::new(&[8, 64, 32, 1], Output::Linear, 3, 0.3).unwrap();
    let rows = 400;
    let x: Vec<f32> = (0..rows * 8)
        .map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.5)
        .collect();
    let y: Vec<f32> = x.chunks(8).map(|r| r.iter().sum::<f32>().tanh()).collect();
    for o in optimizers() {
        let batch = if o.is_full_batch() { rows } else { 50 };
        let mut runs = vec![];
        for threads in 1..=3 {
            let mut net = net0.clone();
            let cfg = TrainConfig {
                learning_rate: 0.01,
                epochs: 2,
                batch_size: batch,
                optimizer: o,
                regularization: Regularization::l2(1e-4),
                threads,
                ..TrainConfig::default()
            };
            net.train(&cfg, &x, &y, None).unwrap();
            runs.push(net.weights().to_vec());
        }
        assert_eq!(runs[0], runs[1], "{} threads 1 vs 2", o.name());
        assert_eq!(runs[0], runs[2], "{} threads 1 vs 3", o.name());
        assert_ne!(runs[0], net0.weights(), "{} trained", o.name());
    }
}

#[test]
fn every_training_call_starts_from_a_fresh_state() {
    let (x, y) = data();
    for o in optimizers() {
        let batch = if o.is_full_batch() { 8 } else { 2 };
        let base = TrainConfig {
            learning_rate: 0.05,
            epochs: 3,
            batch_size: batch,
            order: Order::Sequential,
            optimizer: o,
            init_range: 0.5,
            threads: 1,
            ..TrainConfig::default()
        };
        // a second call on the same network starts from a fresh state: training twice from
        // equal weights gives equal results
        let mut a = fresh();
        let mut b = fresh();
        a.train(&base, &x, &y, None).unwrap();
        a.set_weights(fresh().weights()).unwrap();
        a.train(&base, &x, &y, None).unwrap();
        b.train(&base, &x, &y, None).unwrap();
        assert_eq!(a.weights(), b.weights(), "{}", o.name());
    }
}

#[test]
fn restart_runs_equal_fresh_runs_from_their_initialization() {
    // a tiny validation set that only the restart can win: compare the restart's history
    // with a fresh training call from the restart's weights
    let (x, y) = data();
    for o in optimizers() {
        let batch = if o.is_full_batch() { 8 } else { 1 };
        let base = TrainConfig {
            learning_rate: 0.05,
            epochs: 2,
            batch_size: batch,
            order: Order::Sequential,
            optimizer: o,
            init_range: 0.5,
            threads: 1,
            ..TrainConfig::default()
        };
        let mut seen = vec![];
        let mut net = fresh();
        net.train_with_callback(
            &TrainConfig {
                restarts: 1,
                ..base.clone()
            },
            &x,
            &y,
            None,
            |info| {
                seen.push(info.train_error);
                std::ops::ControlFlow::Continue(())
            },
        )
        .unwrap();
        // run 0 from the given weights: its epochs must equal a single call's
        let mut single = vec![];
        fresh()
            .train_with_callback(&base, &x, &y, None, |info| {
                single.push(info.train_error);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(&seen[..2], &single[..], "{}", o.name());
        // run 1 starts from a new initialization with a reset state: its first epoch equals
        // a fresh call from those weights; the network's weights of run 1 are not visible,
        // so rebuild them: train a copy with restarts 1 and epochs 1 and compare histories
        let mut one = vec![];
        fresh()
            .train_with_callback(
                &TrainConfig {
                    restarts: 1,
                    epochs: 1,
                    ..base.clone()
                },
                &x,
                &y,
                None,
                |info| {
                    one.push(info.train_error);
                    std::ops::ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert_eq!(one[1], seen[2], "{}: restart's first epoch", o.name());
    }
}

#[test]
fn bad_optimizer_values_are_errors_and_change_nothing() {
    let (x, y) = data();
    let bad = [
        Optimizer::Momentum { mu: 1.0 },
        Optimizer::Nesterov { mu: -0.1 },
        Optimizer::Momentum { mu: f32::NAN },
        Optimizer::Adam {
            beta1: 1.0,
            beta2: 0.999,
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
            weight_decay: -1.0,
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
            dec: 0.5,
            delta0: 0.1,
            delta_min: 0.0,
            delta_max: 0.01,
        },
    ];
    for o in bad {
        let mut net = fresh();
        let cfg = config(o, 8, 0.0, 2);
        assert!(net.train(&cfg, &x, &y, None).is_err(), "{o:?}");
        assert_eq!(net.weights(), fresh().weights(), "{o:?}");
    }
    // iRPROP- below full batch
    let mut net = fresh();
    let e = net
        .train(&config(Optimizer::rprop(), 4, 0.0, 2), &x, &y, None)
        .unwrap_err();
    assert!(e.message().contains("full-batch"), "{e}");
    assert_eq!(net.weights(), fresh().weights());
    // a bad schedule
    let cfg = TrainConfig {
        schedule: Schedule::Cosine { eta_min: 1.0 },
        ..config(Optimizer::adam(), 2, 0.0, 2)
    };
    assert!(net.train(&cfg, &x, &y, None).is_err());
    assert_eq!(net.weights(), fresh().weights());
}
