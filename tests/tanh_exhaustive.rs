//! tanh accuracy of every kernel set against an f64 reference.
//!
//! - `tanh_sampled_and_specials` (always runs): about 4.2 million bit patterns spread evenly
//!   over all 2^32, plus the special values.
//! - `tanh_exhaustive_all_f32` (`#[ignore]`d): every one of the 2^32 bit patterns, split over
//!   the cores with rayon. Run it in release:
//!   `cargo test --release --test tanh_exhaustive -- --ignored --nocapture`
//!
//! The contract checked for every input `x` and kernel set:
//! - finite `x`: at most 2 ULP from `tanh(x)` evaluated in f64, and `|tanh(x)| <= 1`;
//! - NaN gives NaN; `+-inf` gives exactly `+-1`;
//! - `|x| < 2^-12` (where tanh(x) rounds to x) gives `x` bit for bit, so `-0.0` stays `-0.0`;
//! - wherever the correctly rounded result is `+-1`, exactly `+-1` (saturation).

use nnet::kernels::{Isa, Kernels};
use rayon::prelude::*;

/// The largest allowed error in ULP.
const MAX_ULP: f64 = 2.0;

/// The error of `y` in units in the last place of the exact value `r` (the f32 ULP of the
/// binade that holds `|r|`; 2^-149 below the normal range).
fn ulp_error(y: f32, r: f64) -> f64 {
    let d = (y as f64 - r).abs();
    if d == 0.0 {
        return 0.0;
    }
    let ar = r.abs();
    let ulp = if ar < f32::MIN_POSITIVE as f64 {
        2f64.powi(-149)
    } else {
        // 2^(e - 23) for |r| in [2^e, 2^(e+1)): the f64 exponent field minus 23
        f64::from_bits(((ar.to_bits() >> 52) - 23) << 52)
    };
    d / ulp
}

/// What one kernel set did over a set of inputs.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    /// The largest ULP error over finite inputs, and an input where it occurred.
    max_ulp: f64,
    worst_x: f32,
    /// Inputs that broke a special-value rule (and the first such input).
    special_failures: u64,
    first_failure: Option<f32>,
}

impl Stats {
    fn merge(mut self, o: Stats) -> Stats {
        if o.max_ulp > self.max_ulp {
            self.max_ulp = o.max_ulp;
            self.worst_x = o.worst_x;
        }
        self.special_failures += o.special_failures;
        self.first_failure = self.first_failure.or(o.first_failure);
        self
    }

    fn fail(&mut self, x: f32) {
        self.special_failures += 1;
        self.first_failure.get_or_insert(x);
    }
}

/// Checks `kernels.tanh` on `xs` against the f64 references `refs`.
fn check(kernels: &Kernels, xs: &[f32], refs: &[f64], out: &mut Vec<f32>) -> Stats {
    out.clear();
    out.extend_from_slice(xs);
    kernels.tanh(out);
    let mut s = Stats::default();
    for ((&x, &y), &r) in xs.iter().zip(out.iter()).zip(refs) {
        if x.is_nan() {
            if !y.is_nan() {
                s.fail(x);
            }
            continue;
        }
        if x.is_infinite() {
            if y != x.signum() {
                s.fail(x);
            }
            continue;
        }
        let e = ulp_error(y, r);
        if e > s.max_ulp {
            s.max_ulp = e;
            s.worst_x = x;
        }
        let tiny = x.abs() < 2f32.powi(-12);
        let saturated = (r as f32).abs() == 1.0;
        if y.abs() > 1.0
            || (tiny && y.to_bits() != x.to_bits())
            || (saturated && y != (r as f32))
            || y.is_sign_negative() != x.is_sign_negative()
        {
            s.fail(x);
        }
    }
    s
}

/// The inputs `bits(start + i*step)` for `i < n` and their references.
fn batch(start: u64, step: u64, n: usize) -> (Vec<f32>, Vec<f64>) {
    let xs: Vec<f32> = (0..n as u64)
        .map(|i| f32::from_bits((start + i * step) as u32))
        .collect();
    let refs = xs.iter().map(|&x| (x as f64).tanh()).collect();
    (xs, refs)
}

fn report(stats: &[(Isa, Stats)]) {
    for (isa, s) in stats {
        println!(
            "tanh {:>6}: max {:.3} ULP (at x = {:e}, bits {:#010x}); special-value failures: {}",
            isa.name(),
            s.max_ulp,
            s.worst_x,
            s.worst_x.to_bits(),
            s.special_failures
        );
    }
    for (isa, s) in stats {
        assert!(
            s.max_ulp <= MAX_ULP,
            "{isa}: max error {} ULP at x = {:e} exceeds {MAX_ULP}",
            s.max_ulp,
            s.worst_x
        );
        assert_eq!(
            s.special_failures, 0,
            "{isa}: special-value rule broken, first at x = {:?}",
            s.first_failure
        );
    }
}

fn all_kernels() -> Vec<(Isa, Kernels)> {
    Isa::available()
        .into_iter()
        .map(|i| (i, Kernels::for_isa(i).expect("available")))
        .collect()
}

#[test]
fn tanh_sampled_and_specials() {
    let kernels = all_kernels();
    // 2^32 / 1021 ~ 4.2 million patterns, every exponent and both signs
    let (mut xs, mut refs) = batch(7, 1021, (1u64 << 32).div_ceil(1021) as usize - 1);
    let specials = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(0x7f80_0001),
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
        f32::MAX,
        f32::MIN,
        0.625,
        -0.625,
        0.624_999_94,
        9.0,
        9.010_913,
        9.125,
        9.2,
        -9.2,
        88.0,
        1e-20,
        -1e-20,
        2f32.powi(-12),
        1.0,
        -1.0,
    ];
    xs.extend_from_slice(&specials);
    refs.extend(specials.iter().map(|&x| (x as f64).tanh()));
    // every finite value from 0.5 to 1.0 (the switch of the two formulas) with step 64 ULP
    let (x2, r2) = batch(0.5f32.to_bits() as u64, 64, 1 << 17);
    xs.extend(x2);
    refs.extend(r2);
    let mut out = Vec::new();
    let stats: Vec<(Isa, Stats)> = kernels
        .iter()
        .map(|(i, k)| (*i, check(k, &xs, &refs, &mut out)))
        .collect();
    report(&stats);
    // the specials once more, one at a time: the scalar tail of each kernel set
    for (isa, k) in &kernels {
        for &x in &specials {
            let mut v = [x];
            k.tanh(&mut v);
            let r = (x as f64).tanh();
            assert!(
                (x.is_nan() && v[0].is_nan()) || ulp_error(v[0], r) <= MAX_ULP,
                "{isa}: tanh({x:e}) = {:e}",
                v[0]
            );
            if x == 0.0 || x.is_infinite() {
                assert_eq!(v[0].to_bits(), (r as f32).to_bits(), "{isa}: tanh({x:e})");
            }
        }
    }
}

#[test]
#[ignore = "every f32: a few minutes in release; run with --ignored"]
fn tanh_exhaustive_all_f32() {
    let kernels = all_kernels();
    const CHUNK: u64 = 1 << 16;
    let start = std::time::Instant::now();
    let stats = (0..(1u64 << 31) / CHUNK)
        .into_par_iter()
        .fold(
            || (vec![Stats::default(); kernels.len()], Vec::new()),
            |(mut acc, mut out), c| {
                // a chunk of non-negative patterns and its mirror with the sign bit set: tanh is
                // odd, so the reference of -x is exactly -tanh(x)
                let (mut xs, mut refs) = batch(c * CHUNK, 1, CHUNK as usize);
                for (a, (_, k)) in acc.iter_mut().zip(&kernels) {
                    *a = a.merge(check(k, &xs, &refs, &mut out));
                }
                xs.iter_mut().for_each(|x| *x = -*x);
                refs.iter_mut().for_each(|r| *r = -*r);
                for (a, (_, k)) in acc.iter_mut().zip(&kernels) {
                    *a = a.merge(check(k, &xs, &refs, &mut out));
                }
                (acc, out)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(
            || vec![Stats::default(); kernels.len()],
            |a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect(),
        );
    println!(
        "all 2^32 inputs checked in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let stats: Vec<(Isa, Stats)> = kernels.iter().map(|(i, _)| *i).zip(stats).collect();
    report(&stats);
}
