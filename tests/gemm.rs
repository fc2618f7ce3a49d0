//! The GEMM driver and every micro-kernel this CPU runs against a naive triple loop.

use nnet::kernels::gemm::{MatMut, MatRef};
use nnet::kernels::{Isa, Kernels};

/// A deterministic generator of small integers in `-r..=r` (exact products and sums in f32).
struct Ints(u64);

impl Ints {
    fn next(&mut self, r: i64) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (((self.0 >> 33) % (2 * r as u64 + 1)) as i64 - r) as f32
    }
    fn vec(&mut self, n: usize, r: i64) -> Vec<f32> {
        (0..n).map(|_| self.next(r)).collect()
    }
}

/// Strided storage for an `rows x cols` matrix, row-major or column-major, with padding.
struct Stored {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl Stored {
    fn new(g: &mut Ints, rows: usize, cols: usize, col_major: bool, pad: usize) -> Stored {
        let (rs, cs) = if col_major {
            (1, rows + pad)
        } else {
            (cols + pad, 1)
        };
        let len = if col_major {
            (rows + pad) * cols
        } else {
            (cols + pad) * rows
        };
        Stored {
            data: g.vec(len.max(1), 4),
            rows,
            cols,
            rs,
            cs,
        }
    }
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
    fn view(&self) -> MatRef<'_> {
        MatRef::new(&self.data, self.rows, self.cols, self.rs, self.cs).unwrap()
    }
}

/// Runs C = beta C + alpha A B with the given layouts and checks every element exactly.
#[allow(clippy::too_many_arguments)]
fn check(
    k: &Kernels,
    g: &mut Ints,
    m: usize,
    n: usize,
    kk: usize,
    layouts: (bool, bool, bool),
    alpha: f32,
    beta: f32,
) {
    let a = Stored::new(g, m, kk, layouts.0, 1);
    let b = Stored::new(g, kk, n, layouts.1, 2);
    let mut c = Stored::new(g, m, n, layouts.2, 3);
    if beta == 0.0 {
        // C must not be read when beta == 0
        for v in c.data.iter_mut() {
            *v = f32::NAN;
        }
    }
    let before = c.data.clone();
    let mut expect = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..kk {
                s += a.at(i, p) as f64 * b.at(p, j) as f64;
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * c.at(i, j) as f64
            };
            expect[i * n + j] = old + alpha as f64 * s;
        }
    }
    let mut scratch = k.gemm_scratch().unwrap();
    let (rows, cols, rs, cs) = (c.rows, c.cols, c.rs, c.cs);
    let cm = MatMut::new(&mut c.data, rows, cols, rs, cs).unwrap();
    k.gemm(alpha, a.view(), b.view(), beta, cm, &mut scratch)
        .unwrap();
    for i in 0..m {
        for j in 0..n {
            assert_eq!(
                c.at(i, j) as f64,
                expect[i * n + j],
                "{} m={m} n={n} k={kk} layouts={layouts:?} alpha={alpha} beta={beta} at ({i}, {j})",
                k.isa()
            );
        }
    }
    // padding between rows or columns of C is untouched
    let mut inside = vec![false; c.data.len()];
    for i in 0..m {
        for j in 0..n {
            inside[i * c.rs + j * c.cs] = true;
        }
    }
    for (idx, (&now, &old)) in c.data.iter().zip(&before).enumerate() {
        if !inside[idx] {
            assert!(
                now.to_bits() == old.to_bits(),
                "{} wrote outside C at {idx}",
                k.isa()
            );
        }
    }
}

fn tables() -> Vec<Kernels> {
    let v: Vec<Kernels> = Isa::available()
        .into_iter()
        .map(|i| Kernels::for_isa(i).unwrap())
        .collect();
    assert_eq!(v[0].isa(), Isa::Scalar);
    v
}

#[test]
fn every_tile_remainder_is_exact() {
    let mut g = Ints(1);
    for k in tables() {
        let (mr, nr) = k.gemm_tile();
        for m in (1..=mr + 1).chain([2 * mr + 1, 3 * mr - 1]) {
            for n in (1..=nr + 1).chain([2 * nr - 1, 2 * nr + 3]) {
                for kk in [1, 2, 7] {
                    check(&k, &mut g, m, n, kk, (false, false, false), 1.0, 0.0);
                }
            }
        }
    }
}

#[test]
fn transposes_strides_alpha_and_beta_are_exact() {
    let mut g = Ints(2);
    for k in tables() {
        let (mr, nr) = k.gemm_tile();
        let shapes = [
            (mr, nr, 16),
            (mr + 3, nr - 1, 33),
            (2 * mr + 5, 3 * nr + 7, 17),
            (1, 45, 19),
            (37, 1, 23),
            (3, 5, 1),
            (19, 2, 64),
        ];
        for &(m, n, kk) in &shapes {
            for layouts in 0..8 {
                let l = (layouts & 1 != 0, layouts & 2 != 0, layouts & 4 != 0);
                for (alpha, beta) in [
                    (1.0, 0.0),
                    (1.0, 1.0),
                    (-0.5, 1.0),
                    (2.0, -3.0),
                    (0.25, 0.0),
                ] {
                    check(&k, &mut g, m, n, kk, l, alpha, beta);
                }
            }
        }
    }
}

#[test]
fn large_and_odd_shapes_cross_every_block_boundary() {
    let mut g = Ints(3);
    for k in tables() {
        for &(m, n, kk) in &[
            (97, 131, 785),
            (1030, 3, 9),
            (5, 1030, 11),
            (33, 70, 1030),
            (131, 1030, 3),
            (257, 67, 129),
        ] {
            check(&k, &mut g, m, n, kk, (false, false, false), 1.0, 0.0);
            check(&k, &mut g, m, n, kk, (true, false, false), 1.0, 1.0);
            check(&k, &mut g, m, n, kk, (false, true, true), -1.0, 1.0);
        }
    }
}

#[test]
fn empty_dimensions() {
    for k in tables() {
        let mut s = k.gemm_scratch().unwrap();
        // k = 0: C = beta C
        let mut c = vec![3.0f32; 6];
        let a: [f32; 0] = [];
        k.gemm(
            1.0,
            MatRef::row_major(&a, 2, 0).unwrap(),
            MatRef::row_major(&a, 0, 3).unwrap(),
            0.0,
            MatMut::row_major(&mut c, 2, 3).unwrap(),
            &mut s,
        )
        .unwrap();
        assert_eq!(c, vec![0.0; 6]);
        let mut c = vec![3.0f32; 6];
        k.gemm(
            1.0,
            MatRef::row_major(&a, 2, 0).unwrap(),
            MatRef::row_major(&a, 0, 3).unwrap(),
            2.0,
            MatMut::row_major(&mut c, 2, 3).unwrap(),
            &mut s,
        )
        .unwrap();
        assert_eq!(c, vec![6.0; 6]);
        // m = 0 or n = 0: nothing happens
        let mut c: Vec<f32> = vec![];
        k.gemm(
            1.0,
            MatRef::row_major(&[1.0, 2.0], 0, 2).unwrap(),
            MatRef::row_major(&[1.0, 2.0], 2, 1).unwrap(),
            0.0,
            MatMut::row_major(&mut c, 0, 1).unwrap(),
            &mut s,
        )
        .unwrap();
    }
}

#[test]
fn bad_views_and_shapes_are_errors() {
    let d = [0.0f32; 10];
    assert!(MatRef::row_major(&d, 3, 4).is_err());
    assert!(MatRef::new(&d, 2, 2, 9, 1).is_err());
    assert!(MatRef::new(&d, 2, 2, 8, 1).is_ok());
    assert!(MatRef::new(&d, usize::MAX, 2, usize::MAX, 1).is_err());
    let mut e = [0.0f32; 10];
    // overlapping outputs
    assert!(MatMut::new(&mut e, 2, 3, 1, 1).is_err());
    assert!(MatMut::new(&mut e, 2, 2, 0, 1).is_err());
    assert!(MatMut::new(&mut e, 2, 3, 3, 1).is_ok());
    assert!(MatMut::new(&mut e, 3, 2, 1, 3).is_ok());
    let k = Kernels::selected();
    let mut s = k.gemm_scratch().unwrap();
    let a = [1.0f32; 6];
    let err = k
        .gemm(
            1.0,
            MatRef::row_major(&a, 2, 3).unwrap(),
            MatRef::row_major(&a, 2, 3).unwrap(),
            0.0,
            MatMut::row_major(&mut e, 2, 3).unwrap(),
            &mut s,
        )
        .unwrap_err();
    assert!(err.to_string().contains("A is 2 x 3, B is 2 x 3"), "{err}");
    // a scratch from another table is refused when its buffers are too small
    for isa in Isa::available() {
        let other = Kernels::for_isa(isa).unwrap();
        let mut s2 = other.gemm_scratch().unwrap();
        let r = k.gemm(
            1.0,
            MatRef::row_major(&a, 2, 3).unwrap(),
            MatRef::row_major(&a, 3, 2).unwrap(),
            0.0,
            MatMut::row_major(&mut e, 2, 2).unwrap(),
            &mut s2,
        );
        if let Err(err) = r {
            assert!(err.to_string().contains("another kernel table"));
        }
    }
}

#[test]
fn random_data_agrees_with_f64_within_rounding() {
    let mut state = 7u64;
    let mut rnd = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    for k in tables() {
        let (m, n, kk) = (67, 45, 300);
        let a: Vec<f32> = (0..m * kk).map(|_| rnd()).collect();
        let b: Vec<f32> = (0..kk * n).map(|_| rnd()).collect();
        let mut c = vec![0.0f32; m * n];
        let mut s = k.gemm_scratch().unwrap();
        k.gemm(
            1.0,
            MatRef::row_major(&a, m, kk).unwrap(),
            MatRef::row_major(&b, kk, n).unwrap(),
            0.0,
            MatMut::row_major(&mut c, m, n).unwrap(),
            &mut s,
        )
        .unwrap();
        for i in 0..m {
            for j in 0..n {
                let mut e = 0.0f64;
                let mut mag = 0.0f64;
                for p in 0..kk {
                    let t = a[i * kk + p] as f64 * b[p * n + j] as f64;
                    e += t;
                    mag += t.abs();
                }
                let err = (c[i * n + j] as f64 - e).abs();
                assert!(
                    err <= 1e-6 * mag + 1e-30,
                    "{} ({i}, {j}): {err} vs {mag}",
                    k.isa()
                );
            }
        }
    }
}

#[test]
fn a_planned_blocking_keeps_the_product_and_rejects_other_tiles() {
    for k in tables() {
        let plan = k.gemm_plan();
        assert_eq!((plan.mr, plan.nr), k.gemm_tile());
        let kp = k.with_gemm_plan(&plan).unwrap();
        assert_eq!(kp.gemm_blocking(), (plan.kc, plan.mc, plan.nc));
        // integer-valued operands: every blocking gives the exact product
        let (m, kk, n) = (37, 1100, 45);
        let a: Vec<f32> = (0..m * kk).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let b: Vec<f32> = (0..kk * n).map(|i| ((i * 3) % 7) as f32 - 3.0).collect();
        let run = |k: &Kernels| {
            let mut c = vec![0.0f32; m * n];
            let mut s = k.gemm_scratch().unwrap();
            k.gemm(
                1.0,
                MatRef::row_major(&a, m, kk).unwrap(),
                MatRef::row_major(&b, kk, n).unwrap(),
                0.0,
                MatMut::row_major(&mut c, m, n).unwrap(),
                &mut s,
            )
            .unwrap();
            c
        };
        assert_eq!(run(&k), run(&kp), "{:?} {plan:?}", k.isa());
        let other = nnet::kernels::gemm::Plan {
            mr: plan.mr + 1,
            ..plan
        };
        assert!(k.with_gemm_plan(&other).is_err());
        let ragged = nnet::kernels::gemm::Plan {
            mc: plan.mc + 1,
            ..plan
        };
        assert!(k.with_gemm_plan(&ragged).is_err());
    }
}
