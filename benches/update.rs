//! The cost of one optimizer step (one fused pass of the update kernel over the weights, the
//! gradient and the state) per instruction set and optimizer, on the 784-256-256-10 network
//! (269,322 weights, 64-byte aligned as a `Network` holds them).
//!
//! ```sh
//! cargo bench --bench update -- --warm-up-time 0.5 --measurement-time 2
//! ```
//!
//! `update/<isa>/<optimizer>` times `OptimizerState::step_network` with a fixed gradient;
//! the throughput is in weights per second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nnet::kernels::{Isa, Kernels};
use nnet::{Network, Optimizer, OptimizerState, Output};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let layers = [784usize, 256, 256, 10];
    let optimizers = [
        Optimizer::Sgd,
        Optimizer::momentum(),
        Optimizer::nesterov(),
        Optimizer::adam(),
        Optimizer::adamw(),
        Optimizer::rprop(),
    ];
    let mut group = c.benchmark_group("update");
    for isa in Isa::available() {
        let kernels = Kernels::for_isa(isa).expect("available");
        for opt in optimizers {
            let mut net = Network::new(&layers, Output::Linear, 1, 0.05).expect("network");
            net.set_kernels(kernels);
            let n = net.num_weights();
            let g: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) * 1e-4).collect();
            let mut state = OptimizerState::for_network(opt, &net).expect("state");
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::new(isa.name(), opt.name()), |b| {
                b.iter(|| {
                    state
                        .step_network(&mut net, std::hint::black_box(&g), 1e-3)
                        .expect("step")
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
