//! The portable reference kernels: plain loops over contiguous rows, always compiled.
//!
//! Every SIMD kernel is tested against these. They also run where no vector instruction
//! set is available, or when `NNET_ISA=scalar` forces them.
//!
//! The functions are `unsafe fn` only to share one signature with the SIMD kernels in the
//! dispatch table; the scalar bodies index slices and are memory-safe on any input.

/// `y[j] = sum_i x[i] * w[i*cols + j]` for `i < rows`, `j < cols` (the forward pass, y = W^T x).
///
/// # Safety
/// Safe for any input: bounds are checked by slice indexing.
pub unsafe fn matvec(w: &[f32], rows: usize, cols: usize, x: &[f32], y: &mut [f32]) {
    let y = &mut y[..cols];
    y.fill(0.0);
    for (i, &xi) in x[..rows].iter().enumerate() {
        let row = &w[i * cols..i * cols + cols];
        for (yj, &wij) in y.iter_mut().zip(row) {
            *yj += xi * wij;
        }
    }
}

/// `z[i] = sum_j w[i*cols + j] * d[j]` for `i < rows` (the backward pass, z = W d).
///
/// # Safety
/// Safe for any input: bounds are checked by slice indexing.
pub unsafe fn matvec_t(w: &[f32], rows: usize, cols: usize, d: &[f32], z: &mut [f32]) {
    let d = &d[..cols];
    for (i, zi) in z[..rows].iter_mut().enumerate() {
        let row = &w[i * cols..i * cols + cols];
        *zi = row.iter().zip(d).map(|(a, b)| a * b).sum();
    }
}

/// `w[i*cols + j] += alpha * x[i] * d[j]` (the SGD update, W += alpha x d^T).
///
/// # Safety
/// Safe for any input: bounds are checked by slice indexing.
pub unsafe fn rank1_update(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    alpha: f32,
    x: &[f32],
    d: &[f32],
) {
    let d = &d[..cols];
    for (i, &xi) in x[..rows].iter().enumerate() {
        let a = alpha * xi;
        let row = &mut w[i * cols..i * cols + cols];
        for (wij, &dj) in row.iter_mut().zip(d) {
            *wij += a * dj;
        }
    }
}

/// For each row `i`: first `z[i] = sum_j w[i*cols + j] * d[j]` with the weights before the
/// update, then `w[i*cols + j] += alpha * x[i] * d[j]`. One pass over each row: the backward
/// dot product fused with the SGD update of the same layer.
///
/// # Safety
/// Safe for any input: bounds are checked by slice indexing.
pub unsafe fn matvec_t_rank1(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    d: &[f32],
    alpha: f32,
    x: &[f32],
    z: &mut [f32],
) {
    let d = &d[..cols];
    for i in 0..rows {
        let row = &mut w[i * cols..i * cols + cols];
        z[i] = row.iter().zip(d).map(|(a, b)| a * b).sum();
        let a = alpha * x[i];
        for (wij, &dj) in row.iter_mut().zip(d) {
            *wij += a * dj;
        }
    }
}

/// The reference tanh: `tanh` evaluated in f64 and rounded once to f32, so its error is at
/// most 0.5 ULP plus a tiny f64 term. NaN stays NaN, `-0.0` stays `-0.0`, `+-inf` gives `+-1`.
pub fn tanh_ref(x: f32) -> f32 {
    (x as f64).tanh() as f32
}

/// In-place tanh over `v` with [`tanh_ref`].
///
/// # Safety
/// Safe for any input.
pub unsafe fn tanh(v: &mut [f32]) {
    for x in v {
        *x = tanh_ref(*x);
    }
}

/// `W += alpha x d^T`, then `y = W^T xn` with the updated weights (the first layer's update
/// fused with the next sample's forward product): exactly [`rank1_update`] followed by
/// [`matvec`].
///
/// # Safety
/// Safe for any input: bounds are checked by slice indexing.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rank1_update_matvec(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    alpha: f32,
    x: &[f32],
    d: &[f32],
    xn: &[f32],
    y: &mut [f32],
) {
    // SAFETY: both are safe for any input.
    unsafe {
        rank1_update(w, rows, cols, alpha, x, d);
        matvec(w, rows, cols, xn, y);
    }
}

/// One pass of per-sample SGD with the reference kernels (see `kernels::sgd`).
///
/// # Safety
/// Safe for any input that passes `SgdPass::check`.
pub(crate) unsafe fn sgd_pass(p: &mut super::sgd::SgdPass) -> Option<f64> {
    // SAFETY: the scalar operations need no instruction set.
    unsafe { super::sgd::pass::<super::sgd::ScalarOps>(p) }
}

/// One optimizer step with the one-lane reference (see `kernels::update`).
///
/// # Safety
/// Safe for any input; panics when a length does not fit.
pub(crate) unsafe fn update(
    step: &super::UpdateStep,
    w: &mut [f32],
    g: &[f32],
    s1: &mut [f32],
    s2: &mut [f32],
) {
    // SAFETY: f32 lanes need no instruction set.
    unsafe { super::update::update::<f32>(step, w, g, s1, s2) }
}
