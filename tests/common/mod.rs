//! An independent f64 model of SPEC sections 1-3, written from the formulas and not from the
//! crate, plus a small seeded generator for test data.
//!
//! Every function takes the layer sizes `d(0), ..., d(L)` and the flat weight vector in the
//! SPEC layout: layer `l` is a row-major `(d(l-1)+1) x d(l)` matrix whose row 0 is the bias row.

#![allow(dead_code)]

use nnet::{Isa, Kernels, RegKind, Regularization};

/// A kernel table for every instruction set this CPU runs, the scalar reference first, so
/// that each test covers every kernel path on the machine it runs on.
pub fn all_kernels() -> Vec<Kernels> {
    Isa::available()
        .into_iter()
        .filter_map(Kernels::for_isa)
        .collect()
}

/// splitmix64: deterministic test data without depending on the crate's generator.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }

    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }

    /// Values uniform in `[-hi, -lo] U [lo, hi]`: away from zero (for L1's kink).
    pub fn vec_away_from_zero(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let m = self.uniform(lo, hi);
                if self.next_u64() & 1 == 0 { m } else { -m }
            })
            .collect()
    }
}

/// `D = sum_l (d(l-1)+1) d(l)`.
pub fn num_weights(layers: &[usize]) -> usize {
    layers.windows(2).map(|p| (p[0] + 1) * p[1]).sum()
}

/// Start of `W(l)` for `l = 1..=L` at index `l-1`, and D last.
pub fn offsets(layers: &[usize]) -> Vec<usize> {
    let mut off = vec![0];
    for p in layers.windows(2) {
        off.push(off.last().unwrap() + (p[0] + 1) * p[1]);
    }
    off
}

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}

/// The activations `x(0), ..., x(L)` of one sample, each with `x_0 = 1` first.
pub fn forward(layers: &[usize], tanh_out: bool, w: &[f64], x: &[f64]) -> Vec<Vec<f64>> {
    assert_eq!(x.len(), layers[0]);
    let off = offsets(layers);
    let big_l = layers.len() - 1;
    let mut acts = Vec::with_capacity(layers.len());
    let mut a0 = vec![1.0];
    a0.extend_from_slice(x);
    acts.push(a0);
    for l in 1..=big_l {
        let (rows, cols) = (layers[l - 1] + 1, layers[l]);
        let wl = &w[off[l - 1]..off[l]];
        let prev = &acts[l - 1];
        let mut next = vec![1.0];
        for j in 0..cols {
            // s_j(l) = sum_{i=0..d(l-1)} w_ij(l) x_i(l-1)
            let s: f64 = (0..rows).map(|i| wl[i * cols + j] * prev[i]).sum();
            next.push(if l < big_l || tanh_out { s.tanh() } else { s });
        }
        acts.push(next);
    }
    acts
}

/// The `d(L)` outputs of one sample.
pub fn outputs(layers: &[usize], tanh_out: bool, w: &[f64], x: &[f64]) -> Vec<f64> {
    forward(layers, tanh_out, w, x).pop().unwrap()[1..].to_vec()
}

/// `E_in = (1/N) sum_n sum_k (y_nk - out_k(x_n))^2` over row-major `x`, `y`.
pub fn e_in(layers: &[usize], tanh_out: bool, w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let (n_in, n_out) = (layers[0], *layers.last().unwrap());
    let rows = x.len() / n_in;
    let mut sum = 0.0;
    for r in 0..rows {
        let out = outputs(layers, tanh_out, w, &x[r * n_in..(r + 1) * n_in]);
        for k in 0..n_out {
            let d = y[r * n_out + k] - out[k];
            sum += d * d;
        }
    }
    sum / rows as f64
}

/// Whether flat index `idx` lies in a bias row (row 0 of its layer's matrix).
pub fn is_bias(layers: &[usize], idx: usize) -> bool {
    let off = offsets(layers);
    (1..layers.len()).any(|l| idx >= off[l - 1] && idx < off[l - 1] + layers[l])
}

/// Whether the regularizer covers flat index `idx`.
pub fn covered(reg: &Regularization, layers: &[usize], idx: usize) -> bool {
    reg.include_bias || !is_bias(layers, idx)
}

/// `Omega` of one weight.
pub fn omega_one(kind: RegKind, w0: f64, w: f64) -> f64 {
    match kind {
        RegKind::None => 0.0,
        RegKind::L2 => w * w,
        RegKind::L1 => w.abs(),
        RegKind::WeightElimination => {
            let u = w / w0;
            u * u / (1.0 + u * u)
        }
    }
}

/// `dOmega/dw` of one weight.
pub fn omega_deriv(kind: RegKind, w0: f64, w: f64) -> f64 {
    match kind {
        RegKind::None => 0.0,
        RegKind::L2 => 2.0 * w,
        RegKind::L1 => {
            if w > 0.0 {
                1.0
            } else if w < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        RegKind::WeightElimination => {
            let u = w / w0;
            let q = 1.0 + u * u;
            2.0 * w / (w0 * w0) / (q * q)
        }
    }
}

/// `Omega(w)` over the covered weights.
pub fn omega(reg: &Regularization, layers: &[usize], w: &[f64]) -> f64 {
    (0..w.len())
        .filter(|&i| covered(reg, layers, i))
        .map(|i| omega_one(reg.kind, reg.w0 as f64, w[i]))
        .sum()
}

/// `E_aug = E_in + lambda Omega(w)`.
pub fn e_aug(
    layers: &[usize],
    tanh_out: bool,
    reg: &Regularization,
    w: &[f64],
    x: &[f64],
    y: &[f64],
) -> f64 {
    e_in(layers, tanh_out, w, x, y) + reg.lambda as f64 * omega(reg, layers, w)
}

/// `lambda * dOmega/dw` for every weight (0 where the regularizer does not reach).
pub fn reg_gradient(reg: &Regularization, layers: &[usize], w: &[f64]) -> Vec<f64> {
    (0..w.len())
        .map(|i| {
            if covered(reg, layers, i) {
                reg.lambda as f64 * omega_deriv(reg.kind, reg.w0 as f64, w[i])
            } else {
                0.0
            }
        })
        .collect()
}

/// Backprop for one sample (SPEC section 2): `de_n/dw` in the flat layout.
pub fn sample_gradient(
    layers: &[usize],
    tanh_out: bool,
    w: &[f64],
    x: &[f64],
    y: &[f64],
) -> Vec<f64> {
    let off = offsets(layers);
    let big_l = layers.len() - 1;
    let acts = forward(layers, tanh_out, w, x);
    // deltas[l] = delta(l) for l = 1..=L (index 0 unused)
    let mut deltas: Vec<Vec<f64>> = vec![Vec::new(); big_l + 1];
    deltas[big_l] = (0..layers[big_l])
        .map(|k| {
            let out = acts[big_l][k + 1];
            let dtheta = if tanh_out { 1.0 - out * out } else { 1.0 };
            -2.0 * (y[k] - out) * dtheta
        })
        .collect();
    for l in (1..big_l).rev() {
        let cols = layers[l + 1];
        let wn = &w[off[l]..off[l + 1]];
        deltas[l] = (1..=layers[l])
            .map(|j| {
                let s: f64 = (0..cols).map(|k| deltas[l + 1][k] * wn[j * cols + k]).sum();
                let xj = acts[l][j];
                s * (1.0 - xj * xj)
            })
            .collect();
    }
    let mut g = vec![0.0; w.len()];
    for l in 1..=big_l {
        let (rows, cols) = (layers[l - 1] + 1, layers[l]);
        for i in 0..rows {
            for j in 0..cols {
                g[off[l - 1] + i * cols + j] = acts[l - 1][i] * deltas[l][j];
            }
        }
    }
    g
}

/// `grad E_in` (mean of the per-sample gradients over `rows`) of row-major `x`, `y`.
pub fn mean_gradient(
    layers: &[usize],
    tanh_out: bool,
    w: &[f64],
    x: &[f64],
    y: &[f64],
    rows: &[usize],
) -> Vec<f64> {
    let (n_in, n_out) = (layers[0], *layers.last().unwrap());
    let mut g = vec![0.0; w.len()];
    for &r in rows {
        let gs = sample_gradient(
            layers,
            tanh_out,
            w,
            &x[r * n_in..(r + 1) * n_in],
            &y[r * n_out..(r + 1) * n_out],
        );
        for (a, b) in g.iter_mut().zip(gs) {
            *a += b;
        }
    }
    for a in &mut g {
        *a /= rows.len() as f64;
    }
    g
}

/// The Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// `max_i |a_i - b_i|`.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Bitwise equality of two f32 slices (distinguishes -0.0 and NaN payloads).
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|a| a.to_bits()).collect()
}

/// The error a report gives for the weights a network holds equals `Network::error` of those
/// weights (up to the order of the f64 sum).
#[track_caller]
pub fn assert_same_error(measured: f64, reported: f64) {
    assert!(
        (measured - reported).abs() <= 1e-12 * reported.abs(),
        "Network::error gives {measured}, the report {reported}"
    );
}
