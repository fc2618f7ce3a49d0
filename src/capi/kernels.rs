//! The compute kernels through the C ABI, with the process-wide kernel set (`nnet_isa()`).
//!
//! Sizes must be >= 1. The kernels do not scan their arrays for NaN or infinity (that would
//! cost as much as the kernel): non-finite inputs propagate as IEEE arithmetic says. Scalar
//! arguments (`alpha`) must be finite.

use super::{Fail, NnetStatus, check_disjoint, guard, mul, slice, slice_mut};
use crate::kernels::Kernels;

fn positive(v: usize, what: &str) -> Result<(), Fail> {
    if v == 0 {
        return Err(Fail::invalid(format!("{what} is 0 (must be >= 1)")));
    }
    Ok(())
}

/// `y[i] = tanh(x[i])` for `i < n` with the fast tanh kernel (NaN stays NaN, -0 stays -0,
/// large inputs saturate to exactly +-1). `x == y` computes in place; otherwise the buffers
/// must not overlap.
///
/// # Safety
/// `x` must point to `n` readable floats and `y` to `n` writable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_tanh(x: *const f32, y: *mut f32, n: usize) -> NnetStatus {
    guard(|| {
        positive(n, "n")?;
        let k = Kernels::selected();
        if std::ptr::eq(x, y) {
            // SAFETY: the caller guarantees `n` writable floats (x == y).
            let v = unsafe { slice_mut(y, n, "y")? };
            k.tanh(v);
            return Ok(());
        }
        // SAFETY: the caller guarantees `n` readable floats.
        let xs = unsafe { slice(x, n, "x")? };
        check_disjoint(x, n, "x", y, n, "y")?;
        // SAFETY: the caller guarantees `n` writable floats, disjoint from `x`.
        let ys = unsafe { slice_mut(y, n, "y")? };
        ys.copy_from_slice(xs);
        k.tanh(ys);
        Ok(())
    })
}

/// `y[j] = sum_i x[i] * w[i*cols + j]` (y = W^T x) for a row-major `rows x cols` matrix `w`,
/// `x` of `rows` values, `y` of `cols` values. `y` must not overlap `w` or `x`.
///
/// # Safety
/// `w`, `x` must point to `rows * cols` and `rows` readable floats, `y` to `cols` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_matvec(
    w: *const f32,
    rows: usize,
    cols: usize,
    x: *const f32,
    y: *mut f32,
) -> NnetStatus {
    guard(|| {
        positive(rows, "rows")?;
        positive(cols, "cols")?;
        let n = mul(rows, cols, "the matrix w")?;
        // SAFETY: the caller guarantees the sizes above.
        let (ws, xs) = unsafe { (slice(w, n, "w")?, slice(x, rows, "x")?) };
        check_disjoint(y, cols, "y", w, n, "w")?;
        check_disjoint(y, cols, "y", x, rows, "x")?;
        // SAFETY: the caller guarantees `cols` writable floats, disjoint from the inputs.
        let ys = unsafe { slice_mut(y, cols, "y")? };
        Kernels::selected().matvec(ws, cols, xs, ys)?;
        Ok(())
    })
}

/// `z[i] = sum_j w[i*cols + j] * d[j]` (z = W d) for a row-major `rows x cols` matrix `w`,
/// `d` of `cols` values, `z` of `rows` values. `z` must not overlap `w` or `d`.
///
/// # Safety
/// `w`, `d` must point to `rows * cols` and `cols` readable floats, `z` to `rows` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_matvec_t(
    w: *const f32,
    rows: usize,
    cols: usize,
    d: *const f32,
    z: *mut f32,
) -> NnetStatus {
    guard(|| {
        positive(rows, "rows")?;
        positive(cols, "cols")?;
        let n = mul(rows, cols, "the matrix w")?;
        // SAFETY: the caller guarantees the sizes above.
        let (ws, ds) = unsafe { (slice(w, n, "w")?, slice(d, cols, "d")?) };
        check_disjoint(z, rows, "z", w, n, "w")?;
        check_disjoint(z, rows, "z", d, cols, "d")?;
        // SAFETY: the caller guarantees `rows` writable floats, disjoint from the inputs.
        let zs = unsafe { slice_mut(z, rows, "z")? };
        Kernels::selected().matvec_t(ws, cols, ds, zs)?;
        Ok(())
    })
}

/// `w[i*cols + j] += alpha * x[i] * d[j]` (W += alpha x d^T) for a row-major `rows x cols`
/// matrix `w`, `x` of `rows` values, `d` of `cols` values; `alpha` must be finite and `w` must
/// not overlap `x` or `d`.
///
/// # Safety
/// `w` must point to `rows * cols` writable floats, `x` and `d` to `rows` and `cols` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_rank1_update(
    w: *mut f32,
    rows: usize,
    cols: usize,
    alpha: f32,
    x: *const f32,
    d: *const f32,
) -> NnetStatus {
    guard(|| {
        positive(rows, "rows")?;
        positive(cols, "cols")?;
        if !alpha.is_finite() {
            return Err(crate::error::Error::NonFinite(format!(
                "alpha is {alpha} (must be finite)"
            ))
            .into());
        }
        let n = mul(rows, cols, "the matrix w")?;
        // SAFETY: the caller guarantees the sizes above.
        let (xs, ds) = unsafe { (slice(x, rows, "x")?, slice(d, cols, "d")?) };
        check_disjoint(w, n, "w", x, rows, "x")?;
        check_disjoint(w, n, "w", d, cols, "d")?;
        // SAFETY: the caller guarantees `rows * cols` writable floats, disjoint from `x`, `d`.
        let ws = unsafe { slice_mut(w, n, "w")? };
        Kernels::selected().rank1_update(ws, alpha, xs, ds)?;
        Ok(())
    })
}
