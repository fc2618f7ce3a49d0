use nnet::kernels::gemm::{MatMut, MatRef};
use nnet::kernels::{Isa, Kernels};
use std::time::Instant;
fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (m, k, n) = (args[0], args[1], args[2]);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 * 0.1).collect();
    let mut c = vec![0.0f32; m * n];
    for isa in Isa::available() {
        let kt = Kernels::for_isa(isa).unwrap();
        let mut s = kt.gemm_scratch().unwrap();
        let mut best = f64::MAX;
        for _ in 0..30 {
            let t = Instant::now();
            for _ in 0..5 {
                kt.gemm(
                    1.0,
                    MatRef::row_major(&a, m, k).unwrap(),
                    MatRef::row_major(&b, k, n).unwrap(),
                    0.0,
                    MatMut::row_major(&mut c, m, n).unwrap(),
                    &mut s,
                )
                .unwrap();
            }
            best = best.min(t.elapsed().as_secs_f64() / 5.0);
        }
        println!(
            "{isa} {m}x{k}x{n}: {:.1} GFLOP/s",
            2.0 * (m * n * k) as f64 / best / 1e9
        );
    }
}
