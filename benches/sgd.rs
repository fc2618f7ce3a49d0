//! Per-sample SGD throughput (batch 1, the fused per-sample pass) in samples/s per
//! instruction set, on the shapes of the peer benchmarks with synthetic data: inputs uniform in
//! [-1, 1], targets from a fixed random teacher network of the same shape (tanh hidden layers,
//! linear output), starting weights uniform in `+-1/sqrt(fan_in)` with zero biases.
//!
//! ```sh
//! cargo bench --bench sgd -- --warm-up-time 0.5 --measurement-time 2
//! ```
//!
//! `sgd_epoch/<isa>/<shape>` times [`Network::sgd_epoch`] (one pass over the rows in order, no
//! evaluation: what the peers' per-sample loops time); `train_epoch/<shape>` times
//! [`Network::train`] for one epoch with the default kernel set, which adds the evaluation of
//! `E_in` after the epoch.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nnet::kernels::{Isa, Kernels};
use nnet::{Network, Order, Output, TrainConfig};
use std::time::Duration;

/// (layer sizes, rows per pass, learning rate). The peers use 0.5 * squared error with rates
/// 0.01, 0.005 and 0.001; with nnet's squared error the same steps take half those rates.
const CASES: [(&[usize], usize, f32); 3] = [
    (&[784, 256, 256, 10], 2_000, 0.0005),
    (&[64, 128, 128, 1], 10_000, 0.0025),
    (&[3, 5, 1], 10_000, 0.005),
];

struct Gen(u64);

impl Gen {
    fn uniform(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// Flat weights (layout of `Network`): weights uniform in `+-scale/sqrt(fan_in)`, biases
/// uniform in `+-bias`.
fn weights(layers: &[usize], g: &mut Gen, scale: f32, bias: f32) -> Vec<f32> {
    let mut w = Vec::new();
    for l in 1..layers.len() {
        let lim = scale / (layers[l - 1] as f32).sqrt();
        w.extend((0..layers[l]).map(|_| bias * g.uniform()));
        w.extend((0..layers[l - 1] * layers[l]).map(|_| lim * g.uniform()));
    }
    w
}

/// `n` synthetic rows for `layers`, and a fresh student network.
fn problem(layers: &[usize], n: usize) -> (Vec<f32>, Vec<f32>, Network) {
    let mut g = Gen(7);
    let x: Vec<f32> = (0..n * layers[0]).map(|_| g.uniform()).collect();
    // a normal(0, 1.5/sqrt(fan_in)) teacher has the spread of uniform(+-1.5 sqrt(3)/sqrt(fan_in))
    let teacher_w = weights(layers, &mut g, 1.5 * 3f32.sqrt(), 0.17);
    let teacher = Network::from_weights(layers, Output::Linear, &teacher_w).unwrap();
    let y = teacher.predict(&x).unwrap();
    let student_w = weights(layers, &mut g, 1.0, 0.0);
    let student = Network::from_weights(layers, Output::Linear, &student_w).unwrap();
    (x, y, student)
}

fn shape_name(layers: &[usize]) -> String {
    layers
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

fn sgd(c: &mut Criterion) {
    let mut g = c.benchmark_group("sgd_epoch");
    for (layers, n, eta) in CASES {
        let (x, y, student) = problem(layers, n);
        g.throughput(Throughput::Elements(n as u64));
        for isa in Isa::available() {
            let mut net = student.clone();
            net.set_kernels(Kernels::for_isa(isa).unwrap());
            g.bench_function(BenchmarkId::new(isa.name(), shape_name(layers)), |b| {
                b.iter(|| net.sgd_epoch(&x, &y, eta).unwrap())
            });
        }
    }
    g.finish();
    let mut g = c.benchmark_group("train_epoch");
    for (layers, n, eta) in CASES {
        let (x, y, mut net) = problem(layers, n);
        let cfg = TrainConfig {
            learning_rate: eta,
            epochs: 1,
            order: Order::Sequential,
            ..TrainConfig::default()
        };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(shape_name(layers), |b| {
            b.iter(|| net.train(&cfg, &x, &y, None).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = sgd
}
criterion_main!(benches);
