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
//! matvec_t_rank1 and rank1_update_matvec. Operands are 64-byte aligned (as the peers' harness
//! allocates them and as a network keeps its weights) and stay cache-resident between
//! iterations.

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

/// `n` values in [-1, 1) starting on a 64-byte boundary (as the peers' harness allocates, and
/// as a `Network` keeps its weights).
struct Data {
    buf: Vec<f32>,
    off: usize,
    n: usize,
}

impl Data {
    fn get(&self) -> &[f32] {
        &self.buf[self.off..self.off + self.n]
    }

    fn get_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.off..self.off + self.n]
    }
}

fn data(n: usize, seed: u32) -> Data {
    let mut s = seed.wrapping_mul(0x9E37_79B9) | 1;
    let mut buf = vec![0.0f32; n + 16];
    let off = buf.as_ptr().align_offset(64).min(15);
    for v in &mut buf[off..off + n] {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *v = (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0;
    }
    Data { buf, off, n }
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
                let mut wd = data(rows * cols, 1);
                let w = wd.get_mut();
                let (xd, xnd, dd) = (data(rows, 2), data(rows, 3), data(cols, 4));
                let (x, xn, d) = (xd.get(), xnd.get(), dd.get());
                let (mut ocd, mut ord) = (data(cols, 5), data(rows, 6));
                let (out_cols, out_rows) = (ocd.get_mut(), ord.get_mut());
                let fused = name == "matvec_t_rank1" || name == "rank1_update_matvec";
                let flops = (if fused { 4 } else { 2 }) * rows * cols;
                g.throughput(Throughput::Elements(flops as u64));
                let id = BenchmarkId::new(k.isa().name(), format!("{rows}x{cols}"));
                // tiny alpha: the weights stay put over millions of updates
                let alpha = 1e-9;
                match name {
                    "matvec" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec(black_box(&*w), cols, black_box(x), &mut *out_cols))
                    }),
                    "matvec_t" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec_t(black_box(&*w), cols, black_box(d), &mut *out_rows))
                    }),
                    "rank1_update" => g.bench_function(id, |b| {
                        b.iter(|| k.rank1_update(black_box(&mut *w), alpha, x, black_box(d)))
                    }),
                    "matvec_t_rank1" => g.bench_function(id, |b| {
                        b.iter(|| k.matvec_t_rank1(black_box(&mut *w), d, alpha, x, &mut *out_rows))
                    }),
                    _ => g.bench_function(id, |b| {
                        b.iter(|| {
                            let (wm, oc) = (black_box(&mut *w), &mut *out_cols);
                            k.rank1_update_matvec(wm, alpha, x, d, black_box(xn), oc)
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
            let mut bd = data(n, 5);
            let buf = bd.get_mut();
            buf.iter_mut().for_each(|v| *v *= 4.0);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::new(k.isa().name(), n), |b| {
                b.iter(|| k.tanh(black_box(&mut *buf)))
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
