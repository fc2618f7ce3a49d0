//! One pass of per-sample stochastic gradient descent, written once over the kernel
//! operations ([`Ops`]) and instantiated per instruction set, so that for small networks the
//! whole step (forward, backward, update) compiles into one function without calls.
//!
//! The math is the lecture's loop, sample by sample: forward pass, output delta, then from the
//! last layer down `z = W(l) delta(l)` with the weights *before* the update fused with the
//! update `W(l) -= eta x(l-1) delta(l)^T` (one pass over each row), hidden deltas
//! `delta_j(l-1) = z_j (1 - x_j(l-1)^2)`. The update of the first layer is fused with the
//! forward product of the next sample's input (after every other layer has been updated, so the
//! next forward pass sees exactly the updated weights).

use super::delta;
use super::generic;
use super::vector::Vector;
use std::marker::PhantomData;

/// The per-sample SGD state: network shape, weights, sample data and work buffers.
pub(crate) struct SgdPass<'a> {
    /// `d(0), ..., d(L)`.
    pub layers: &'a [usize],
    /// `offsets[l-1]` is where `W(l)` starts in `weights`; `L + 1` entries, D last.
    pub offsets: &'a [usize],
    /// Whether the output layer applies tanh (else linear).
    pub tanh_output: bool,
    /// The flat weights.
    pub weights: &'a mut [f32],
    /// Row-major inputs (`d(0)` per row) and targets (`d(L)` per row).
    pub x: &'a [f32],
    /// See `x`.
    pub y: &'a [f32],
    /// The rows to visit, in order.
    pub order: &'a [usize],
    /// The learning rate eta.
    pub eta: f32,
    /// `acts[l]` holds `x(l)` with `x_0 = 1` first (`d(l) + 1` values).
    pub acts: &'a mut [Vec<f32>],
    /// A second input buffer (`d(0) + 1` values, `x_0 = 1`) for the next sample.
    pub next_input: &'a mut Vec<f32>,
    /// `deltas[l-1]` holds `delta(l)` (`d(l)` values).
    pub deltas: &'a mut [Vec<f32>],
    /// Scratch for `W(l) delta(l)`: at least `max_l d(l) + 1` values.
    pub z: &'a mut [f32],
}

impl SgdPass<'_> {
    /// Panics unless every buffer has the size the shape asks for.
    pub(crate) fn check(&self) {
        let layers = self.layers;
        let big_l = layers.len() - 1;
        assert!(big_l >= 1 && self.offsets.len() == layers.len());
        assert_eq!(self.offsets[0], 0);
        for l in 1..=big_l {
            assert_eq!(
                self.offsets[l] - self.offsets[l - 1],
                (layers[l - 1] + 1) * layers[l]
            );
        }
        assert_eq!(self.weights.len(), self.offsets[big_l]);
        assert_eq!(self.acts.len(), layers.len());
        assert_eq!(self.deltas.len(), big_l);
        for (a, &d) in self.acts.iter().zip(layers) {
            assert_eq!(a.len(), d + 1);
        }
        for (delta, &d) in self.deltas.iter().zip(&layers[1..]) {
            assert_eq!(delta.len(), d);
        }
        assert_eq!(self.next_input.len(), layers[0] + 1);
        assert!(self.z.len() > layers.iter().copied().max().unwrap_or(0));
        let rows = self.x.len() / layers[0];
        assert_eq!(self.x.len(), rows * layers[0]);
        assert_eq!(self.y.len(), rows * layers[big_l]);
        assert!(self.order.iter().all(|&i| i < rows));
    }
}

/// The kernel operations a pass needs.
pub(crate) trait Ops {
    /// See [`super::scalar::matvec`].
    ///
    /// # Safety
    /// The CPU runs the instruction set of the implementation.
    unsafe fn matvec(w: &[f32], rows: usize, cols: usize, x: &[f32], y: &mut [f32]);
    /// See [`super::scalar::rank1_update`].
    ///
    /// # Safety
    /// The CPU runs the instruction set of the implementation.
    unsafe fn rank1_update(w: &mut [f32], rows: usize, cols: usize, a: f32, x: &[f32], d: &[f32]);
    /// See [`super::scalar::matvec_t_rank1`].
    ///
    /// # Safety
    /// The CPU runs the instruction set of the implementation.
    #[allow(clippy::too_many_arguments)]
    unsafe fn matvec_t_rank1(
        w: &mut [f32],
        rows: usize,
        cols: usize,
        d: &[f32],
        a: f32,
        x: &[f32],
        z: &mut [f32],
    );
    /// See [`super::scalar::rank1_update_matvec`].
    ///
    /// # Safety
    /// The CPU runs the instruction set of the implementation.
    #[allow(clippy::too_many_arguments)]
    unsafe fn rank1_update_matvec(
        w: &mut [f32],
        rows: usize,
        cols: usize,
        a: f32,
        x: &[f32],
        d: &[f32],
        xn: &[f32],
        y: &mut [f32],
    );
    /// See [`super::scalar::tanh`].
    ///
    /// # Safety
    /// The CPU runs the instruction set of the implementation.
    unsafe fn tanh(v: &mut [f32]);
}

/// The generic kernels of [`generic`] for the vector type `V`.
pub(crate) struct SimdOps<V>(PhantomData<V>);

impl<V: Vector> Ops for SimdOps<V> {
    #[inline(always)]
    unsafe fn matvec(w: &[f32], rows: usize, cols: usize, x: &[f32], y: &mut [f32]) {
        // SAFETY: forwarded from the caller (the instruction set of `V`).
        unsafe { generic::matvec::<V>(w, rows, cols, x, y) }
    }
    #[inline(always)]
    unsafe fn rank1_update(w: &mut [f32], rows: usize, cols: usize, a: f32, x: &[f32], d: &[f32]) {
        // SAFETY: forwarded from the caller (the instruction set of `V`).
        unsafe { generic::rank1_update::<V>(w, rows, cols, a, x, d) }
    }
    #[inline(always)]
    unsafe fn matvec_t_rank1(
        w: &mut [f32],
        rows: usize,
        cols: usize,
        d: &[f32],
        a: f32,
        x: &[f32],
        z: &mut [f32],
    ) {
        // SAFETY: forwarded from the caller (the instruction set of `V`).
        unsafe { generic::matvec_t_rank1::<V>(w, rows, cols, d, a, x, z) }
    }
    #[inline(always)]
    unsafe fn rank1_update_matvec(
        w: &mut [f32],
        rows: usize,
        cols: usize,
        a: f32,
        x: &[f32],
        d: &[f32],
        xn: &[f32],
        y: &mut [f32],
    ) {
        // SAFETY: forwarded from the caller (the instruction set of `V`).
        unsafe { generic::rank1_update_matvec::<V>(w, rows, cols, a, x, d, xn, y) }
    }
    #[inline(always)]
    unsafe fn tanh(v: &mut [f32]) {
        // SAFETY: forwarded from the caller (the instruction set of `V`).
        unsafe { generic::tanh::<V>(v) }
    }
}

/// The forward pass of layers `from..=L` from `acts[from - 1]`.
///
/// # Safety
/// The CPU runs the instruction set of `O`.
#[inline(always)]
unsafe fn forward_from<O: Ops>(p: &mut SgdPass, from: usize) {
    let big_l = p.layers.len() - 1;
    for l in from..=big_l {
        let (rows, cols) = (p.layers[l - 1] + 1, p.layers[l]);
        let w = &p.weights[p.offsets[l - 1]..p.offsets[l]];
        let (prev, next) = p.acts.split_at_mut(l);
        let out = &mut next[0][1..];
        // SAFETY: forwarded from the caller.
        unsafe {
            O::matvec(w, rows, cols, &prev[l - 1], out);
            if l < big_l || p.tanh_output {
                O::tanh(out);
            }
        }
    }
}

/// Runs the pass: one SGD step per entry of `order`. Returns the sum of the per-sample errors
/// `e_n` (each before its step), or `None` as soon as one is not finite (the weights are then
/// left as they are at that point).
///
/// # Safety
/// The CPU runs the instruction set of `O`; [`SgdPass::check`] holds.
#[inline(always)]
pub(crate) unsafe fn pass<O: Ops>(p: &mut SgdPass) -> Option<f64> {
    let layers = p.layers;
    let big_l = layers.len() - 1;
    let (n_in, n_out) = (layers[0], layers[big_l]);
    let Some(&first) = p.order.first() else {
        return Some(0.0);
    };
    p.acts[0][1..].copy_from_slice(&p.x[first * n_in..(first + 1) * n_in]);
    // SAFETY: forwarded from the caller.
    unsafe { forward_from::<O>(p, 1) };
    let mut sum = 0.0f64;
    let alpha = -p.eta;
    for (t, &row) in p.order.iter().enumerate() {
        // output delta and the sample's error
        let out = &p.acts[big_l][1..];
        let target = &p.y[row * n_out..(row + 1) * n_out];
        let e = delta::output_deltas(out, target, p.tanh_output, &mut p.deltas[big_l - 1]);
        if !e.is_finite() {
            return None;
        }
        sum += e;
        // backward with the old weights fused with the update, from the last layer down to 2
        for l in (2..=big_l).rev() {
            let (rows, cols) = (layers[l - 1] + 1, layers[l]);
            let w = &mut p.weights[p.offsets[l - 1]..p.offsets[l]];
            let (lower, upper) = p.deltas.split_at_mut(l - 1);
            let x = &p.acts[l - 1];
            // SAFETY: forwarded from the caller.
            unsafe { O::matvec_t_rank1(w, rows, cols, &upper[0], alpha, x, p.z) };
            delta::hidden_deltas(&p.z[1..], &x[1..], &mut lower[l - 2]);
        }
        // the first layer's update, fused with the next sample's forward product
        let (rows, cols) = (n_in + 1, layers[1]);
        let w1 = &mut p.weights[..p.offsets[1]];
        match p.order.get(t + 1) {
            Some(&next) => {
                p.next_input[1..].copy_from_slice(&p.x[next * n_in..(next + 1) * n_in]);
                let (a0, rest) = p.acts.split_at_mut(1);
                // SAFETY: forwarded from the caller.
                unsafe {
                    O::rank1_update_matvec(
                        w1,
                        rows,
                        cols,
                        alpha,
                        &a0[0],
                        &p.deltas[0],
                        p.next_input,
                        &mut rest[0][1..],
                    );
                    if big_l > 1 || p.tanh_output {
                        O::tanh(&mut rest[0][1..]);
                    }
                }
                std::mem::swap(&mut p.acts[0], p.next_input);
                // SAFETY: forwarded from the caller.
                unsafe { forward_from::<O>(p, 2) };
            }
            None => {
                // SAFETY: forwarded from the caller.
                unsafe { O::rank1_update(w1, rows, cols, alpha, &p.acts[0], &p.deltas[0]) };
            }
        }
    }
    Some(sum)
}

/// The most weight layers the small-network pass handles.
const TINY_MAX_LAYERS: usize = 4;

/// Whether [`tiny_pass`] handles the network: at most [`TINY_MAX_LAYERS`] weight layers and
/// every layer, plus the bias, within one vector of `V`.
#[inline(always)]
pub(crate) fn tiny_fits<V: Vector>(layers: &[usize]) -> bool {
    layers.len() - 1 <= TINY_MAX_LAYERS && layers.iter().all(|&d| d < V::LANES)
}

/// The pass of [`pass`] for small networks ([`tiny_fits`]), with the weights held in vectors
/// for the whole pass instead of streamed through the kernels sample by sample.
///
/// Each layer is kept twice: as rows (`W(l)` row `i`, the `d(l)` weights of input `i`, for the
/// forward product `s = sum_i x_i row_i`) and as columns without the bias row (the `d(l-1)`
/// weights into unit `j`, for the backward product `z = sum_j delta_j col_j`), so neither
/// product needs a horizontal sum. Both copies receive the same update terms
/// `(-eta delta_j) * x_i` with the same fused multiply-add, so they stay bit-identical. The
/// math is that of [`pass`]: forward, output delta, then from the last layer down the backward
/// product with the weights before the update, the update, the hidden delta.
///
/// # Safety
/// The CPU runs `V`'s instruction set; [`SgdPass::check`] and [`tiny_fits`] hold.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // rows, columns and lanes are indexed in step
pub(crate) unsafe fn tiny_pass<V: Vector>(p: &mut SgdPass) -> Option<f64> {
    let layers = p.layers;
    let big_l = layers.len() - 1;
    let (n_in, n_out) = (layers[0], layers[big_l]);
    // SAFETY: the caller guarantees the instruction set.
    let c = |v: f32| unsafe { V::splat(v) };
    let zero = c(0.0);
    let mut rows_v = [[zero; 16]; TINY_MAX_LAYERS];
    let mut cols_v = [[zero; 16]; TINY_MAX_LAYERS];
    // lanes of a vector, for broadcasting one of them
    let mut lanes = [0.0f32; 16];
    // SAFETY: every layer has `d(l-1) + 1 <= LANES <= 16` rows of `d(l) < LANES` values
    // (tiny_fits), inside `weights` (check); `lanes` holds 16 floats.
    unsafe {
        for l in 1..=big_l {
            let (rows, cols) = (layers[l - 1] + 1, layers[l]);
            let w = p.weights[p.offsets[l - 1]..p.offsets[l]].as_ptr();
            for i in 0..rows {
                rows_v[l - 1][i] = V::load_partial(w.add(i * cols), cols);
            }
            for j in 0..cols {
                for i in 1..rows {
                    lanes[i - 1] = *w.add(i * cols + j);
                }
                cols_v[l - 1][j] = V::load_partial(lanes.as_ptr(), rows - 1);
            }
        }
    }
    // acts[l]: x(l) without the bias, lane k = unit k + 1
    let mut acts = [zero; TINY_MAX_LAYERS + 1];
    let mut sum = 0.0f64;
    let alpha = c(-p.eta);
    let mut diverged = false;
    // SAFETY: the shapes hold (check, tiny_fits): every row of `x` and `y` has `n_in` or
    // `n_out < LANES` values, and `lanes` holds LANES <= 16 floats.
    unsafe {
        for &row in p.order {
            acts[0] = V::load_partial(p.x.as_ptr().add(row * n_in), n_in);
            for l in 1..=big_l {
                let w = &rows_v[l - 1];
                acts[l - 1].store(lanes.as_mut_ptr());
                // two chains (even and odd inputs) halve the dependent latency
                let (mut s, mut s1) = (w[0], zero);
                let fan_in = layers[l - 1];
                let mut i = 0;
                while i + 2 <= fan_in {
                    s = V::splat(lanes[i]).mul_add(w[i + 1], s);
                    s1 = V::splat(lanes[i + 1]).mul_add(w[i + 2], s1);
                    i += 2;
                }
                if i < fan_in {
                    s = V::splat(lanes[i]).mul_add(w[i + 1], s);
                }
                let s = s.add(s1);
                acts[l] = if l < big_l || p.tanh_output {
                    s.tanh()
                } else {
                    s
                };
            }
            // output delta and error (padding lanes: out = 0, target = 0, delta = 0)
            let out = acts[big_l];
            let target = V::load_partial(p.y.as_ptr().add(row * n_out), n_out);
            let (r, mut delta) = delta::output_delta(out, target, p.tanh_output);
            r.store(lanes.as_mut_ptr());
            let e: f64 = lanes[..n_out].iter().map(|&v| delta::squared(v)).sum();
            if !e.is_finite() {
                diverged = true;
                break;
            }
            sum += e;
            for l in (1..=big_l).rev() {
                let (fan_in, cols) = (layers[l - 1], layers[l]);
                let x = acts[l - 1];
                // the backward product with the weights before the update
                delta.store(lanes.as_mut_ptr());
                let mut z = zero;
                if l >= 2 {
                    for j in 0..cols {
                        z = V::splat(lanes[j]).mul_add(cols_v[l - 1][j], z);
                    }
                }
                // update both copies with the terms (-eta delta_j) x_i
                let ad = alpha.mul(delta);
                ad.store(lanes.as_mut_ptr());
                for j in 0..cols {
                    cols_v[l - 1][j] = V::splat(lanes[j]).mul_add(x, cols_v[l - 1][j]);
                }
                x.store(lanes.as_mut_ptr());
                let w = &mut rows_v[l - 1];
                w[0] = c(1.0).mul_add(ad, w[0]);
                for i in 0..fan_in {
                    w[i + 1] = V::splat(lanes[i]).mul_add(ad, w[i + 1]);
                }
                if l >= 2 {
                    delta = delta::hidden_delta(z, x);
                }
            }
        }
        // the weights go back to their place, also after a non-finite error
        for l in 1..=big_l {
            let (rows, cols) = (layers[l - 1] + 1, layers[l]);
            let w = p.weights[p.offsets[l - 1]..p.offsets[l]].as_mut_ptr();
            for i in 0..rows {
                rows_v[l - 1][i].store_partial(w.add(i * cols), cols);
            }
        }
    }
    if diverged { None } else { Some(sum) }
}
