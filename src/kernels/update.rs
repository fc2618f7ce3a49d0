//! The optimizer update: one fused pass over the weights, the gradient and the optimizer
//! state per step (SPEC section 6).
//!
//! Each rule is written once, lane by lane, over `Lanes`: a minimal vector interface that
//! both `f32` (the scalar reference, one lane) and every `Vector` implement. The one driver,
//! `update`, streams full vectors and a partial tail through the rule, so the scalar
//! reference and every instruction set run the same operations in the same order. Every
//! operation is an IEEE-754 correctly rounded one (add, multiply, fused multiply-add, divide,
//! square root, compare and select), so all kernel sets give bitwise equal weights and state.

use super::vector::Vector;

/// One step of an optimizer with every per-step constant resolved: the scheduled learning
/// rate and, for Adam, the bias corrections of the step number. Built by
/// [`crate::optim::OptimizerState`]; the kernel only streams it over the weights.
///
/// The state vectors are `s1` and `s2` of [`super::Kernels::update`]:
/// momentum and Nesterov keep `v` in `s1`; Adam keeps `m` in `s1` and `s` in `s2`; iRPROP-
/// keeps the step sizes `delta` in `s1` and the previous gradient `p` in `s2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpdateStep {
    /// `w -= eta * g`.
    Sgd {
        /// The learning rate of the step.
        eta: f32,
    },
    /// `v = mu v + g; w -= eta v`.
    Momentum {
        /// The learning rate of the step.
        eta: f32,
        /// The momentum coefficient.
        mu: f32,
    },
    /// `v = mu v + g; w -= eta (g + mu v)`.
    Nesterov {
        /// The learning rate of the step.
        eta: f32,
        /// The momentum coefficient.
        mu: f32,
    },
    /// `w *= decay`, then `m = b1 m + (1-b1) g; s = b2 s + (1-b2) g^2;
    /// w -= step_size * m / (sqrt(s) * inv_sqrt_c2 + eps)`.
    Adam {
        /// `eta / (1 - b1^t)`.
        step_size: f32,
        /// `1 / sqrt(1 - b2^t)`.
        inv_sqrt_c2: f32,
        /// `b1`.
        beta1: f32,
        /// `b2`.
        beta2: f32,
        /// `eps`.
        eps: f32,
        /// `1 - eta * wd` for AdamW; exactly 1 for Adam.
        decay: f32,
    },
    /// iRPROP-: the sign rule of SPEC section 6 (eta is not used).
    Rprop {
        /// The step-size growth factor, > 1.
        inc: f32,
        /// The step-size shrink factor, in (0, 1).
        dec: f32,
        /// The smallest step size.
        delta_min: f32,
        /// The largest step size.
        delta_max: f32,
    },
}

impl UpdateStep {
    /// How many state vectors (each as long as the weights) the rule reads and writes: 0, 1 or 2.
    pub fn state_vectors(&self) -> usize {
        match self {
            UpdateStep::Sgd { .. } => 0,
            UpdateStep::Momentum { .. } | UpdateStep::Nesterov { .. } => 1,
            UpdateStep::Adam { .. } | UpdateStep::Rprop { .. } => 2,
        }
    }
}

/// The lane operations the rules use; `f32` is the one-lane reference, and every [`Vector`]
/// forwards to its instructions.
///
/// # Safety
/// As for [`Vector`]: a value proves that the CPU runs the instruction set of the type.
pub(crate) unsafe trait Lanes: Copy {
    /// The number of f32 lanes.
    const LANES: usize;
    /// # Safety
    /// The CPU runs the instruction set of `Self`.
    unsafe fn splat(v: f32) -> Self;
    /// # Safety
    /// The CPU runs the instruction set; `p..p+LANES` is readable.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// The CPU runs the instruction set; `n < LANES`; `p..p+n` is readable.
    unsafe fn load_partial(p: *const f32, n: usize) -> Self;
    /// # Safety
    /// `p..p+LANES` is writable.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// `n < LANES`; `p..p+n` is writable.
    unsafe fn store_partial(self, p: *mut f32, n: usize);
    fn sub(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    fn div(self, b: Self) -> Self;
    /// `self * b + c`, one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// The sign bit only.
    fn sign_bit(self) -> Self;
    /// Bitwise or.
    fn or(self, b: Self) -> Self;
    /// `if self < x { self } else { x }` (x when either is NaN).
    fn min_or_nan(self, x: Self) -> Self;
    /// `if self < bound { a } else { b }` (false for NaN).
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self;
}

// SAFETY: every method forwards to the `Vector` method of the same contract.
unsafe impl<V: Vector> Lanes for V {
    const LANES: usize = V::LANES;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { V::splat(v) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { V::load(p) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { V::load_partial(p, n) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: forwarded from the caller.
        unsafe { Vector::store(self, p) }
    }
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { Vector::store_partial(self, p, n) }
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        Vector::sub(self, b)
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        Vector::mul(self, b)
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        Vector::div(self, b)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        Vector::mul_add(self, b, c)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Vector::sqrt(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Vector::abs(self)
    }
    #[inline(always)]
    fn sign_bit(self) -> Self {
        Vector::sign_bit(self)
    }
    #[inline(always)]
    fn or(self, b: Self) -> Self {
        Vector::or(self, b)
    }
    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        Vector::min_or_nan(self, x)
    }
    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        Vector::select_lt(self, bound, a, b)
    }
}

// SAFETY: plain f32 arithmetic needs no instruction set; the pointer methods access exactly
// the ranges their contracts name.
unsafe impl Lanes for f32 {
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees that `p` is readable.
        unsafe { p.read() }
    }
    #[inline(always)]
    unsafe fn load_partial(_: *const f32, _: usize) -> Self {
        // `n < 1`: nothing is read
        0.0
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees that `p` is writable.
        unsafe { p.write(self) }
    }
    #[inline(always)]
    unsafe fn store_partial(self, _: *mut f32, _: usize) {}
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        self - b
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        self * b
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        self / b
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        f32::mul_add(self, b, c)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32::abs(self)
    }
    #[inline(always)]
    fn sign_bit(self) -> Self {
        f32::from_bits(self.to_bits() & 0x8000_0000)
    }
    #[inline(always)]
    fn or(self, b: Self) -> Self {
        f32::from_bits(self.to_bits() | b.to_bits())
    }
    #[inline(always)]
    fn min_or_nan(self, x: Self) -> Self {
        if self < x { self } else { x }
    }
    #[inline(always)]
    fn select_lt(self, bound: Self, a: Self, b: Self) -> Self {
        if self < bound { a } else { b }
    }
}

const SGD: u8 = 0;
const MOMENTUM: u8 = 1;
const NESTEROV: u8 = 2;
const ADAM: u8 = 3;
const RPROP: u8 = 4;

/// How many state vectors rule `K` streams.
const fn states(k: u8) -> usize {
    match k {
        SGD => 0,
        MOMENTUM | NESTEROV => 1,
        _ => 2,
    }
}

/// One rule on one vector of lanes: `(w, g, s1, s2)` to the new `(w, s1, s2)`. `c` holds the
/// step's constants as [`update`] lays them out per rule.
#[inline(always)]
fn rule<L: Lanes, const K: u8>(c: &[L; 8], w: L, g: L, a: L, b: L) -> (L, L, L) {
    match K {
        // c = [-eta]
        SGD => (g.mul_add(c[0], w), a, b),
        // c = [-eta, mu]
        MOMENTUM => {
            let v = a.mul_add(c[1], g);
            (v.mul_add(c[0], w), v, b)
        }
        NESTEROV => {
            let v = a.mul_add(c[1], g);
            let u = v.mul_add(c[1], g);
            (u.mul_add(c[0], w), v, b)
        }
        // c = [-step_size, inv_sqrt_c2, b1, 1-b1, b2, 1-b2, eps, decay]
        ADAM => {
            let m = g.mul_add(c[3], a.mul(c[2]));
            let s = g.mul(g).mul_add(c[5], b.mul(c[4]));
            let denom = s.sqrt().mul_add(c[1], c[6]);
            (m.div(denom).mul_add(c[0], w.mul(c[7])), m, s)
        }
        // c = [inc, dec, delta_min, delta_max, 0]; a = delta, b = p
        _ => {
            let zero = c[4];
            let prod = g.mul(b);
            let grown = c[3].min_or_nan(a.mul(c[0]));
            let shrunk = a.mul(c[1]);
            let shrunk = shrunk.select_lt(c[2], c[2], shrunk);
            // g p > 0: grow; g p < 0: shrink; otherwise keep
            let delta = zero.select_lt(prod, grown, prod.select_lt(zero, shrunk, a));
            // sign(g) delta, with sign(0) = 0 (and NaN for a NaN gradient)
            let step = zero.select_lt(g.abs(), delta.or(g.sign_bit()), g.mul(zero));
            // a sign change: no step and p = 0
            let step = prod.select_lt(zero, zero, step);
            let p = prod.select_lt(zero, zero, g);
            (w.sub(step), delta, p)
        }
    }
}

/// Streams rule `K` over `w`, `g` and the state: full vectors, then one partial tail.
///
/// # Safety
/// The CPU runs `L`'s instruction set; `g` is at least as long as `w`, and so are `s1` and
/// `s2` when the rule reads them (asserted by [`update`]).
#[inline(always)]
unsafe fn pass<L: Lanes, const K: u8>(
    c: &[f32; 8],
    w: &mut [f32],
    g: &[f32],
    s1: &mut [f32],
    s2: &mut [f32],
) {
    let n = w.len();
    let l = L::LANES;
    let (pw, pg, pa, pb) = (w.as_mut_ptr(), g.as_ptr(), s1.as_mut_ptr(), s2.as_mut_ptr());
    let ns = states(K);
    // SAFETY: the caller guarantees the instruction set; every access is at `i..i+l <= n`, or
    // a partial `i..n`, of slices at least `n` long (the state slices only when the rule
    // reads them).
    unsafe {
        let c: [L; 8] = [
            L::splat(c[0]),
            L::splat(c[1]),
            L::splat(c[2]),
            L::splat(c[3]),
            L::splat(c[4]),
            L::splat(c[5]),
            L::splat(c[6]),
            L::splat(c[7]),
        ];
        let mut i = 0;
        while i + l <= n {
            let wv = L::load(pw.add(i));
            let gv = L::load(pg.add(i));
            let av = if ns >= 1 { L::load(pa.add(i)) } else { gv };
            let bv = if ns >= 2 { L::load(pb.add(i)) } else { gv };
            let (w2, a2, b2) = rule::<L, K>(&c, wv, gv, av, bv);
            w2.store(pw.add(i));
            if ns >= 1 {
                a2.store(pa.add(i));
            }
            if ns >= 2 {
                b2.store(pb.add(i));
            }
            i += l;
        }
        if i < n {
            let r = n - i;
            let wv = L::load_partial(pw.add(i), r);
            let gv = L::load_partial(pg.add(i), r);
            let av = if ns >= 1 {
                L::load_partial(pa.add(i), r)
            } else {
                gv
            };
            let bv = if ns >= 2 {
                L::load_partial(pb.add(i), r)
            } else {
                gv
            };
            let (w2, a2, b2) = rule::<L, K>(&c, wv, gv, av, bv);
            w2.store_partial(pw.add(i), r);
            if ns >= 1 {
                a2.store_partial(pa.add(i), r);
            }
            if ns >= 2 {
                b2.store_partial(pb.add(i), r);
            }
        }
    }
}

/// One optimizer step over every weight: `w`, `g` and the state vectors the rule uses
/// ([`UpdateStep::state_vectors`]) have one length; unused state slices may be empty.
/// Panics when a length does not fit (checked callers only).
///
/// # Safety
/// The CPU runs `L`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn update<L: Lanes>(
    step: &UpdateStep,
    w: &mut [f32],
    g: &[f32],
    s1: &mut [f32],
    s2: &mut [f32],
) {
    let n = w.len();
    let ns = step.state_vectors();
    assert!(
        g.len() == n && (ns < 1 || s1.len() == n) && (ns < 2 || s2.len() == n),
        "update kernel: lengths {} {} {} {} do not fit",
        n,
        g.len(),
        s1.len(),
        s2.len()
    );
    // SAFETY: the caller guarantees the instruction set; the lengths were asserted.
    unsafe {
        match *step {
            UpdateStep::Sgd { eta } => {
                pass::<L, SGD>(&[-eta, 0., 0., 0., 0., 0., 0., 0.], w, g, s1, s2)
            }
            UpdateStep::Momentum { eta, mu } => {
                pass::<L, MOMENTUM>(&[-eta, mu, 0., 0., 0., 0., 0., 0.], w, g, s1, s2)
            }
            UpdateStep::Nesterov { eta, mu } => {
                pass::<L, NESTEROV>(&[-eta, mu, 0., 0., 0., 0., 0., 0.], w, g, s1, s2)
            }
            UpdateStep::Adam {
                step_size,
                inv_sqrt_c2,
                beta1,
                beta2,
                eps,
                decay,
            } => {
                let c = [
                    -step_size,
                    inv_sqrt_c2,
                    beta1,
                    (1.0 - beta1 as f64) as f32,
                    beta2,
                    (1.0 - beta2 as f64) as f32,
                    eps,
                    decay,
                ];
                pass::<L, ADAM>(&c, w, g, s1, s2)
            }
            UpdateStep::Rprop {
                inc,
                dec,
                delta_min,
                delta_max,
            } => pass::<L, RPROP>(
                &[inc, dec, delta_min, delta_max, 0., 0., 0., 0.],
                w,
                g,
                s1,
                s2,
            ),
        }
    }
}
