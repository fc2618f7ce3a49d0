//! Kernel throughput per instruction set: the matrix kernels in GFLOP/s (criterion's
//! "elements" are flops) at the layer shapes of typical networks, tanh in elements/s.
//!
//! ```sh
//! cargo bench --bench kernels -- --warm-up-time 0.5 --measurement-time 1
//! cargo bench --bench kernels -- 'matvec/avx512/785x256'     # one case
//! ```
//!
//! Shapes are `rows x cols` of one layer's weight matrix (`rows = inputs + 1`, the bias row).
//! Flops: `2 rows cols` for matvec, matvec_t and rank1_update; `4 rows cols` for the fused
//! matvec_t_rank1 and rank1_update_matvec. Operands stay cache-resident between iterations.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nnet::kernels::{Isa, Kernels};
use std::hint::black_box;
use std::time::Duration;

const SHAPES: [(usize, usize); 7] = [
    (4, 5),
    (65, 128),
    (129, 128),
    (257, 256),
    (785, 256),
    (1025, 1024),
    (4097, 4096),
];
const TANH_SIZES: [usize; 3] = [256, 4096, 1 << 20];

fn data(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn kernel_sets() -> Vec<Kernels> {
    Isa::available()
        .into_iter()
        .map(|i| Kernels::for_isa(i).expect("available"))
        .collect()
}

fn matrix_kernels(c: &mut Criterion) {
    for name in [
        "matvec",
        "matvec_t",
        "rank1_update",
        "matvec_t_rank1",
        "rank1_update_matvec",
    ] {
        let mut g = c.benchmark_group(name);
        for k in kernel_sets() {
            for (rows, cols) in SHAPES {
                let mut w = data(rows * cols, 1);
                let x = data(rows, 2);
                let xn = data(rows, 3);
                let d = data(cols, 4);
                let mut out_cols = vec![0.0f32; cols];
                let mut out_rows = vec![0.0f32; rows];
                let fused = name == "matvec_t_rank1" || name == "rank1_update_matvec";
                let flops = (if fused { 4 } else { 2 }) * rows * cols;
                g.throughput(Throughput::Elements(flops as u64));
                let id = BenchmarkId::new(k.isa().name(), format!("{rows}x{cols}"));
                // tiny alpha: the weights stay put over millions of updates
                let alpha = 1e-9;
                match name {
                    "matvec" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec(black_box(&w), cols, black_box(&x), &mut out_cols))
                    }),
                    "matvec_t" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec_t(black_box(&w), cols, black_box(&d), &mut out_rows))
                    }),
                    "rank1_update" => g.bench_function(id, |b| {
                        b.iter(|| k.rank1_update(black_box(&mut w), alpha, &x, black_box(&d)))
                    }),
                    "matvec_t_rank1" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec_t_rank1(black_box(&mut w), &d, alpha, &x, &mut out_rows))
                    }),
                    _ => g.bench_function(id, |b| {
                        b.iter(|| {
                            k.rank1_update_matvec(
                                black_box(&mut w),
                                alpha,
                                &x,
                                &d,
                                black_box(&xn),
                                &mut out_cols,
                            )
                        })
                    }),
                };
            }
        }
        g.finish();
    }
}

fn tanh(c: &mut Criterion) {
    let mut g = c.benchmark_group("tanh");
    for k in kernel_sets() {
        for n in TANH_SIZES {
            // inputs uniform in [-4, 4], then tanh in place over and over: the SIMD kernels
            // have no data-dependent branches, so the drifting values do not change the time
            let mut buf: Vec<f32> = data(n, 5).iter().map(|v| 4.0 * v).collect();
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::new(k.isa().name(), n), |b| {
                b.iter(|| k.tanh(black_box(&mut buf)))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(10);
    targets = matrix_kernels, tanh
}
criterion_main!(benches);
