//! Pinned results: a hash of the weights (and reported errors) that every training path, every
//! regularizer and the batched inference, gradient and evaluation produce, for every kernel set
//! the machine runs, compared with the values recorded in `tests/pinned/results.txt`.
//!
//! This guards refactors that must not change a single bit. A change that alters the summation
//! order on purpose (a new GEMM blocking, a new kernel) re-pins in a commit of its own that says
//! why: `NNET_PIN_UPDATE=1 cargo test --release --test pinned` rewrites the entries of the kernel
//! sets this machine runs and keeps the others. A kernel set that runs here but has no entry for
//! a case fails the test, so a missing pin cannot pass silently.
//!
//! Every training case also runs with 1, 2 and 3 threads and must give the same bits.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{TestRng, all_kernels};
use nnet::{Kernels, Network, Order, Output, Regularization, Scaling, TrainConfig};

/// FNV-1a over the bits of the values.
fn hash_f32(h: &mut u64, v: &[f32]) {
    for x in v {
        for b in x.to_bits().to_le_bytes() {
            *h ^= b as u64;
            *h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
}

fn hash_f64(h: &mut u64, v: f64) {
    for b in v.to_bits().to_le_bytes() {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
}

const FNV_START: u64 = 0xCBF2_9CE4_8422_2325;

struct Data {
    x: Vec<f32>,
    y: Vec<f32>,
    vx: Vec<f32>,
    vy: Vec<f32>,
}

/// Rows of a smooth target with `n_out` outputs in (-0.8, 0.8), so that linear and tanh outputs
/// both fit it.
fn data(n_in: usize, n_out: usize, rows: usize, seed: u64) -> Data {
    let mut rng = TestRng::new(seed);
    let target = |r: &[f32], k: usize| -> f32 {
        let s: f32 = r
            .iter()
            .enumerate()
            .map(|(i, &v)| v * (((i + 3 * k) % 7) as f32 - 3.0) / 3.0)
            .sum();
        0.8 * (s / (n_in as f32).sqrt()).tanh()
    };
    let mk = |rng: &mut TestRng, rows: usize| {
        let x = rng.vec(rows * n_in, -1.0, 1.0);
        let y: Vec<f32> = x
            .chunks(n_in)
            .flat_map(|r| (0..n_out).map(move |k| target(r, k)))
            .collect();
        (x, y)
    };
    let (x, y) = mk(&mut rng, rows);
    let (vx, vy) = mk(&mut rng, rows / 3 + 1);
    Data { x, y, vx, vy }
}

fn regularizers() -> Vec<(&'static str, Regularization)> {
    let mut we_nobias = Regularization::weight_elimination(1e-3, 0.7);
    we_nobias.include_bias = false;
    let mut l2_nobias = Regularization::l2(1e-3);
    l2_nobias.include_bias = false;
    vec![
        ("none", Regularization::none()),
        ("l2", Regularization::l2(1e-3)),
        ("l2nb", l2_nobias),
        ("l1", Regularization::l1(1e-4)),
        ("we", Regularization::weight_elimination(1e-3, 1.0)),
        ("wenb", we_nobias),
    ]
}

/// One network shape and the batch sizes that reach each training path with it.
struct Shape {
    name: &'static str,
    layers: &'static [usize],
    output: Output,
    rows: usize,
    batches: &'static [usize],
}

const SHAPES: &[Shape] = &[
    // small enough for the small-network passes of the SIMD sets
    Shape {
        name: "3-5-1",
        layers: &[3, 5, 1],
        output: Output::Linear,
        rows: 40,
        batches: &[1, 2, 7, 40],
    },
    Shape {
        name: "2-6-4-1t",
        layers: &[2, 6, 4, 1],
        output: Output::Tanh,
        rows: 30,
        batches: &[1, 5],
    },
    // wide enough for full vectors with remainders, and batches on the matrix-product path
    Shape {
        name: "19-37-21-3",
        layers: &[19, 37, 21, 3],
        output: Output::Linear,
        rows: 150,
        batches: &[1, 2, 3, 32, 150],
    },
    Shape {
        name: "70-67-10t",
        layers: &[70, 67, 10],
        output: Output::Tanh,
        rows: 200,
        batches: &[1, 64, 129],
    },
];

fn train_hash(kernels: Kernels, shape: &Shape, d: &Data, cfg: &TrainConfig, with_val: bool) -> u64 {
    let mut net = Network::new(shape.layers, shape.output, 17, 0.3).unwrap();
    net.set_kernels(kernels);
    let val = with_val.then_some((&d.vx[..], &d.vy[..]));
    let mut h = FNV_START;
    match net.train(cfg, &d.x, &d.y, val) {
        Ok(rep) => {
            hash_f64(&mut h, rep.train_error);
            hash_f64(&mut h, rep.validation_error);
            h ^= (rep.epochs_run as u64) << 32 | rep.best_epoch as u64 | (rep.run as u64) << 48;
            for e in &rep.history {
                hash_f64(&mut h, e.train_error);
                hash_f64(&mut h, e.validation_error);
            }
        }
        Err(e) => panic!("training failed: {e}"),
    }
    hash_f32(&mut h, net.weights());
    h
}

/// A named case: a function of the kernel set that gives its hash.
type Case = (String, Box<dyn Fn(Kernels) -> u64>);

/// Every case.
fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for (si, shape) in SHAPES.iter().enumerate() {
        let n_in = shape.layers[0];
        let n_out = *shape.layers.last().unwrap();
        for &batch in shape.batches {
            for (ri, (rname, reg)) in regularizers().into_iter().enumerate() {
                let orders: &[(&str, Order)] = if ri == 0 {
                    &[
                        ("shuffle", Order::Shuffle),
                        ("seq", Order::Sequential),
                        ("pick", Order::RandomPick),
                    ]
                } else {
                    &[("shuffle", Order::Shuffle)]
                };
                for &(oname, order) in orders {
                    let name = format!("train {} b{} {} {}", shape.name, batch, rname, oname);
                    let cfg = TrainConfig {
                        learning_rate: 0.02,
                        epochs: 3,
                        batch_size: batch,
                        order,
                        regularization: reg,
                        seed: 5 + si as u64,
                        ..TrainConfig::default()
                    };
                    let d = data(n_in, n_out, shape.rows, 100 + si as u64);
                    let shape_ref: &'static Shape = &SHAPES[si];
                    out.push((
                        name,
                        Box::new(move |k| {
                            let hs: Vec<u64> = [1, 2, 3]
                                .iter()
                                .map(|&t| {
                                    let cfg = TrainConfig {
                                        threads: t,
                                        ..cfg.clone()
                                    };
                                    train_hash(k, shape_ref, &d, &cfg, false)
                                })
                                .collect();
                            assert!(
                                hs.iter().all(|&v| v == hs[0]),
                                "{}: weights depend on the thread count: {hs:x?}",
                                shape_ref.name
                            );
                            hs[0]
                        }),
                    ));
                }
            }
        }
        // early stopping with a validation set and restarts, on the first and the last batch size
        for &batch in [shape.batches[0], *shape.batches.last().unwrap()].iter() {
            let name = format!("train {} b{} val+restarts", shape.name, batch);
            let cfg = TrainConfig {
                learning_rate: 0.05,
                epochs: 6,
                batch_size: batch,
                patience: 2,
                restarts: 2,
                init_range: 0.4,
                seed: 9,
                regularization: Regularization::l2(1e-4),
                ..TrainConfig::default()
            };
            let d = data(n_in, n_out, shape.rows, 200 + si as u64);
            let shape_ref: &'static Shape = &SHAPES[si];
            out.push((
                name,
                Box::new(move |k| {
                    let a = train_hash(
                        k,
                        shape_ref,
                        &d,
                        &TrainConfig {
                            threads: 1,
                            ..cfg.clone()
                        },
                        true,
                    );
                    let b = train_hash(
                        k,
                        shape_ref,
                        &d,
                        &TrainConfig {
                            threads: 2,
                            ..cfg.clone()
                        },
                        true,
                    );
                    assert_eq!(a, b, "{}: depends on the thread count", shape_ref.name);
                    a
                }),
            ));
        }
        // standardized inputs and targets
        {
            let name = format!("train {} scaled", shape.name);
            let d = data(n_in, n_out, shape.rows, 300 + si as u64);
            let shape_ref: &'static Shape = &SHAPES[si];
            out.push((
                name,
                Box::new(move |k| {
                    let mut net = Network::new(shape_ref.layers, shape_ref.output, 3, 0.2).unwrap();
                    net.set_kernels(k);
                    let y_scaled = (shape_ref.output == Output::Linear).then_some(&d.y[..]);
                    let s = Scaling::fit(&d.x, n_in, y_scaled, n_out).unwrap();
                    net.set_scaling(Some(s)).unwrap();
                    let cfg = TrainConfig {
                        epochs: 2,
                        batch_size: *shape_ref.batches.last().unwrap(),
                        threads: 1,
                        ..TrainConfig::default()
                    };
                    let rep = net.train(&cfg, &d.x, &d.y, None).unwrap();
                    let mut h = FNV_START;
                    hash_f64(&mut h, rep.train_error);
                    hash_f32(&mut h, net.weights());
                    hash_f32(&mut h, &net.predict(&d.vx).unwrap());
                    h
                }),
            ));
        }
        // inference, error and gradient on fixed weights
        {
            let name = format!("eval {}", shape.name);
            let d = data(n_in, n_out, shape.rows, 400 + si as u64);
            let shape_ref: &'static Shape = &SHAPES[si];
            out.push((
                name,
                Box::new(move |k| {
                    let mut net =
                        Network::new(shape_ref.layers, shape_ref.output, 23, 0.5).unwrap();
                    net.set_kernels(k);
                    let mut h = FNV_START;
                    hash_f32(&mut h, &net.predict(&d.x).unwrap());
                    hash_f32(&mut h, &net.predict(&d.x[..n_in]).unwrap());
                    hash_f64(&mut h, net.error(&d.x, &d.y).unwrap());
                    for (_, reg) in regularizers() {
                        let (g, e) = net.gradient(&d.x, &d.y, &reg).unwrap();
                        hash_f32(&mut h, &g);
                        hash_f64(&mut h, e);
                        let (g1, e1) = net.gradient(&d.x[..n_in], &d.y[..n_out], &reg).unwrap();
                        hash_f32(&mut h, &g1);
                        hash_f64(&mut h, e1);
                    }
                    h
                }),
            ));
        }
        // the public one-epoch entry point
        {
            let name = format!("sgd_epoch {}", shape.name);
            let d = data(n_in, n_out, shape.rows, 500 + si as u64);
            let shape_ref: &'static Shape = &SHAPES[si];
            out.push((
                name,
                Box::new(move |k| {
                    let mut net =
                        Network::new(shape_ref.layers, shape_ref.output, 29, 0.3).unwrap();
                    net.set_kernels(k);
                    let mut h = FNV_START;
                    for _ in 0..2 {
                        hash_f64(&mut h, net.sgd_epoch(&d.x, &d.y, 0.03).unwrap());
                    }
                    hash_f32(&mut h, net.weights());
                    h
                }),
            ));
        }
    }
    out
}

fn pin_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pinned/results.txt")
}

/// `arch isa case` -> hash. The architecture is part of the key: the same kernel set name
/// (scalar) may round differently where the compiler's libm differs.
fn read_pins() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(pin_file()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("a line is `key hash`");
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn every_path_matches_its_pinned_weights() {
    let update = std::env::var_os("NNET_PIN_UPDATE").is_some();
    let mut pins = read_pins();
    let arch = std::env::consts::ARCH;
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    let cases = cases();
    for k in all_kernels() {
        for (name, f) in &cases {
            let key = format!("{arch} {} {name}", k.isa().name());
            let got = format!("{:016x}", f(k));
            match pins.get(&key) {
                Some(v) if *v == got => {}
                Some(v) => wrong.push(format!("{key}: pinned {v}, got {got}")),
                None => missing.push(key.clone()),
            }
            if update {
                pins.insert(key, got);
            }
        }
    }
    if update {
        let mut text = String::from(
            "# Hashes of the weights each training path produces (tests/pinned.rs).\n\
             # Regenerate only for a deliberate change of summation order, in a commit of its own:\n\
             # NNET_PIN_UPDATE=1 cargo test --release --test pinned\n",
        );
        for (k, v) in &pins {
            text.push_str(&format!("{k} {v}\n"));
        }
        std::fs::create_dir_all(pin_file().parent().unwrap()).unwrap();
        std::fs::write(pin_file(), text).unwrap();
        return;
    }
    assert!(
        missing.is_empty() && wrong.is_empty(),
        "{} cases differ from their pins:\n{}\n{} cases have no pin:\n{}",
        wrong.len(),
        wrong.join("\n"),
        missing.len(),
        missing.join("\n")
    );
}
