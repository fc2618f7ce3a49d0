//! The kernel algorithms, written once over the [`Vector`] trait and instantiated per
//! instruction set by [`instantiate!`] under `#[target_feature(enable = ...)]`.
//!
//! Every function here is `#[inline(always)]`: it is compiled only as part of an instruction
//! set's wrapper, where all vector methods inline into straight-line code. Slice lengths are
//! checked on entry (one comparison per argument), so memory safety never depends on the
//! caller; the only obligation of the `unsafe` entry points is that the CPU runs the
//! instruction set of `V`.

use super::vector::Vector;

/// Panics unless `w` holds a `rows x cols` matrix (used only behind checked callers).
#[inline(always)]
fn check_matrix(len: usize, rows: usize, cols: usize) {
    assert!(
        rows.checked_mul(cols).is_some_and(|n| n <= len),
        "kernel: a {rows} x {cols} matrix needs more than {len} elements"
    );
}

/// `n` values from `p` (`1 <= n <= LANES`): a full or a partial load.
///
/// # Safety
/// The CPU runs `V`'s instruction set and `p..p+n` is readable.
#[inline(always)]
unsafe fn load_n<V: Vector>(p: *const f32, n: usize) -> V {
    // SAFETY: forwarded from the caller; `n == LANES` reads exactly `p..p+n`, otherwise the
    // partial load reads only `p..p+n`.
    unsafe {
        if n == V::LANES {
            V::load(p)
        } else {
            V::load_partial(p, n)
        }
    }
}

/// The dot product of `a[..n]` and `b[..n]`.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `a..a+n` and `b..b+n` are readable.
#[inline(always)]
unsafe fn dot_raw<V: Vector>(a: *const f32, b: *const f32, n: usize) -> f32 {
    let l = V::LANES;
    // SAFETY: every access below is at an offset `j..j+l` (or a partial `j..n`) with
    // `j + l <= n` (or `j < n`), inside the readable ranges of the contract.
    unsafe {
        let mut s0 = V::splat(0.0);
        let mut s1 = V::splat(0.0);
        let mut s2 = V::splat(0.0);
        let mut s3 = V::splat(0.0);
        let mut j = 0;
        while j + 4 * l <= n {
            s0 = V::load(a.add(j)).mul_add(V::load(b.add(j)), s0);
            s1 = V::load(a.add(j + l)).mul_add(V::load(b.add(j + l)), s1);
            s2 = V::load(a.add(j + 2 * l)).mul_add(V::load(b.add(j + 2 * l)), s2);
            s3 = V::load(a.add(j + 3 * l)).mul_add(V::load(b.add(j + 3 * l)), s3);
            j += 4 * l;
        }
        while j + l <= n {
            s0 = V::load(a.add(j)).mul_add(V::load(b.add(j)), s0);
            j += l;
        }
        if j < n {
            s1 = V::load_partial(a.add(j), n - j).mul_add(V::load_partial(b.add(j), n - j), s1);
        }
        s0.add(s1).add(s2.add(s3)).hsum()
    }
}

/// `sum_r xs[r] * ws[r]` added to `y` (or alone with `INIT`) in the fixed order of the forward
/// product: one chain over the even rows (starting from `y`), one over the odd rows, then their
/// sum. Two chains halve the dependent latency.
#[inline(always)]
fn accumulate<V: Vector, const R: usize, const INIT: bool>(xs: &[V; R], ws: &[V; R], y: V) -> V {
    let mut a = if INIT {
        xs[0].mul(ws[0])
    } else {
        xs[0].mul_add(ws[0], y)
    };
    if R >= 2 {
        let mut b = xs[1].mul(ws[1]);
        for r in 2..R {
            if r % 2 == 0 {
                a = xs[r].mul_add(ws[r], a);
            } else {
                b = xs[r].mul_add(ws[r], b);
            }
        }
        a = a.add(b);
    }
    a
}

/// `y[j] (+)= sum_{r < R} x[r] * w[r*cols + j]` for one block of `R` rows (`R` in 1..=8):
/// each chunk of `y` is loaded and stored once per block. With `INIT`, `y` is overwritten.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+R*cols`, `x..x+R` are readable and
/// `y..y+cols` is writable.
#[inline(always)]
unsafe fn matvec_block<V: Vector, const R: usize, const INIT: bool>(
    w: *const f32,
    cols: usize,
    x: *const f32,
    y: *mut f32,
) {
    let l = V::LANES;
    // SAFETY: rows `r < R` of `w` are `w + r*cols .. w + (r+1)*cols`; every access is at a
    // column offset `j..j+l <= cols` (or a partial `j..cols`), inside the contract's ranges.
    unsafe {
        let xs: [V; R] = std::array::from_fn(|r| V::splat(*x.add(r)));
        let rs: [*const f32; R] = std::array::from_fn(|r| w.add(r * cols));
        let mut j = 0;
        while j + l <= cols {
            let ws: [V; R] = std::array::from_fn(|r| V::load(rs[r].add(j)));
            let y0 = if INIT {
                V::splat(0.0)
            } else {
                V::load(y.add(j))
            };
            accumulate::<V, R, INIT>(&xs, &ws, y0).store(y.add(j));
            j += l;
        }
        let n = cols - j;
        if n > 0 {
            let ws: [V; R] = std::array::from_fn(|r| V::load_partial(rs[r].add(j), n));
            let y0 = if INIT {
                V::splat(0.0)
            } else {
                V::load_partial(y.add(j), n)
            };
            accumulate::<V, R, INIT>(&xs, &ws, y0).store_partial(y.add(j), n);
        }
    }
}

/// Whether `x[0..R]` are all zero.
///
/// # Safety
/// `x..x+R` is readable.
#[inline(always)]
unsafe fn all_zero<const R: usize>(x: *const f32) -> bool {
    // SAFETY: forwarded from the caller.
    (0..R).all(|r| unsafe { *x.add(r) } == 0.0)
}

/// `y = W^T x`: `y[j] = sum_i x[i] * w[i*cols + j]` (the forward pass), in blocks of eight
/// rows (then four, then the rest) after the first; blocks whose `x` are all zero are skipped
/// (they add exactly zero).
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn matvec<V: Vector>(
    w: &[f32],
    rows: usize,
    cols: usize,
    x: &[f32],
    y: &mut [f32],
) {
    check_matrix(w.len(), rows, cols);
    assert!(x.len() >= rows && y.len() >= cols, "matvec: short x or y");
    if cols == 0 {
        return;
    }
    let (wp, xp, yp) = (w.as_ptr(), x.as_ptr(), y.as_mut_ptr());
    // SAFETY: the lengths were checked above; blocks cover rows `i..i+R <= rows`.
    unsafe {
        if cols == 1 {
            *yp = dot_raw::<V>(wp, xp, rows);
            return;
        }
        match rows {
            0 => y[..cols].fill(0.0),
            1 => matvec_block::<V, 1, true>(wp, cols, xp, yp),
            2 => matvec_block::<V, 2, true>(wp, cols, xp, yp),
            3 => matvec_block::<V, 3, true>(wp, cols, xp, yp),
            4..8 => {
                matvec_block::<V, 4, true>(wp, cols, xp, yp);
                matvec_rest::<V>(wp, 4, rows, cols, xp, yp);
            }
            _ => {
                matvec_block::<V, 8, true>(wp, cols, xp, yp);
                let mut i = 8;
                while i + 8 <= rows {
                    // a block of zero inputs adds nothing (sparse inputs such as images)
                    if !all_zero::<8>(xp.add(i)) {
                        matvec_block::<V, 8, false>(wp.add(i * cols), cols, xp.add(i), yp);
                    }
                    i += 8;
                }
                matvec_rest::<V>(wp, i, rows, cols, xp, yp);
            }
        }
    }
}

/// Adds rows `i..rows` (fewer than 8) to `y`.
///
/// # Safety
/// As for [`matvec_block`] over rows `i..rows`.
#[inline(always)]
unsafe fn matvec_rest<V: Vector>(
    wp: *const f32,
    mut i: usize,
    rows: usize,
    cols: usize,
    xp: *const f32,
    yp: *mut f32,
) {
    // SAFETY: forwarded from the caller; each block covers rows below `rows`.
    unsafe {
        if i + 4 <= rows {
            if !all_zero::<4>(xp.add(i)) {
                matvec_block::<V, 4, false>(wp.add(i * cols), cols, xp.add(i), yp);
            }
            i += 4;
        }
        let (wi, xi) = (wp.add(i * cols), xp.add(i));
        match rows - i {
            1 if !all_zero::<1>(xi) => matvec_block::<V, 1, false>(wi, cols, xi, yp),
            2 if !all_zero::<2>(xi) => matvec_block::<V, 2, false>(wi, cols, xi, yp),
            3 if !all_zero::<3>(xi) => matvec_block::<V, 3, false>(wi, cols, xi, yp),
            _ => {}
        }
    }
}

/// `z[i] = sum_j w[i*cols + j] * d[j]` for four rows at once: `d` is loaded once per chunk
/// and each row has two independent accumulators.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+4*cols`, `d..d+cols` are readable and
/// `z..z+4` is writable.
#[inline(always)]
unsafe fn dot4<V: Vector>(w: *const f32, cols: usize, d: *const f32, z: *mut f32) {
    let l = V::LANES;
    // SAFETY: row `r` is `w + r*cols .. w + (r+1)*cols`; all accesses are at column offsets
    // `j..j+l <= cols` (or a partial `j..cols`).
    unsafe {
        let rs: [*const f32; 4] = std::array::from_fn(|r| w.add(r * cols));
        let mut a = [V::splat(0.0); 4];
        let mut b = [V::splat(0.0); 4];
        let mut j = 0;
        while j + 2 * l <= cols {
            let d0 = V::load(d.add(j));
            let d1 = V::load(d.add(j + l));
            for r in 0..4 {
                a[r] = V::load(rs[r].add(j)).mul_add(d0, a[r]);
                b[r] = V::load(rs[r].add(j + l)).mul_add(d1, b[r]);
            }
            j += 2 * l;
        }
        if j + l <= cols {
            let d0 = V::load(d.add(j));
            for r in 0..4 {
                a[r] = V::load(rs[r].add(j)).mul_add(d0, a[r]);
            }
            j += l;
        }
        if j < cols {
            let n = cols - j;
            let d1 = V::load_partial(d.add(j), n);
            for r in 0..4 {
                b[r] = V::load_partial(rs[r].add(j), n).mul_add(d1, b[r]);
            }
        }
        for r in 0..4 {
            *z.add(r) = a[r].add(b[r]).hsum();
        }
    }
}

/// `z = W d`: `z[i] = sum_j w[i*cols + j] * d[j]` (the backward pass).
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn matvec_t<V: Vector>(
    w: &[f32],
    rows: usize,
    cols: usize,
    d: &[f32],
    z: &mut [f32],
) {
    check_matrix(w.len(), rows, cols);
    assert!(d.len() >= cols && z.len() >= rows, "matvec_t: short d or z");
    let (wp, dp, zp) = (w.as_ptr(), d.as_ptr(), z.as_mut_ptr());
    // SAFETY: the lengths were checked above; row blocks cover `i..i+4 <= rows`.
    unsafe {
        if cols == 1 {
            // a column: z = d[0] * w, vectorized over the rows
            let s = V::splat(*dp);
            let l = V::LANES;
            let mut i = 0;
            while i + l <= rows {
                V::load(wp.add(i)).mul(s).store(zp.add(i));
                i += l;
            }
            if i < rows {
                V::load_partial(wp.add(i), rows - i)
                    .mul(s)
                    .store_partial(zp.add(i), rows - i);
            }
            return;
        }
        let mut i = 0;
        while i + 4 <= rows {
            dot4::<V>(wp.add(i * cols), cols, dp, zp.add(i));
            i += 4;
        }
        while i < rows {
            *zp.add(i) = dot_raw::<V>(wp.add(i * cols), dp, cols);
            i += 1;
        }
    }
}

/// `w[j] += a * d[j]` for one row of `cols` values.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+cols` is writable and `d..d+cols` readable.
#[inline(always)]
unsafe fn axpy_row<V: Vector>(w: *mut f32, cols: usize, a: V, d: *const f32) {
    let l = V::LANES;
    // SAFETY: all accesses are at offsets `j..j+l <= cols` (or a partial `j..cols`).
    unsafe {
        let mut j = 0;
        while j + 2 * l <= cols {
            let w0 = a.mul_add(V::load(d.add(j)), V::load(w.add(j)));
            let w1 = a.mul_add(V::load(d.add(j + l)), V::load(w.add(j + l)));
            w0.store(w.add(j));
            w1.store(w.add(j + l));
            j += 2 * l;
        }
        if j + l <= cols {
            a.mul_add(V::load(d.add(j)), V::load(w.add(j)))
                .store(w.add(j));
            j += l;
        }
        if j < cols {
            let n = cols - j;
            a.mul_add(V::load_partial(d.add(j), n), V::load_partial(w.add(j), n))
                .store_partial(w.add(j), n);
        }
    }
}

/// `w[i] += (alpha * x[i]) * d0` for `i < rows`: the update of a one-column matrix,
/// vectorized over the rows.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+rows` is writable and `x..x+rows` readable.
#[inline(always)]
unsafe fn column_update<V: Vector>(w: *mut f32, rows: usize, alpha: f32, x: *const f32, d0: f32) {
    let l = V::LANES;
    // SAFETY: all accesses are at offsets `i..i+l <= rows` (or a partial `i..rows`).
    unsafe {
        let va = V::splat(alpha);
        let vd = V::splat(d0);
        let mut i = 0;
        while i + l <= rows {
            let a = va.mul(V::load(x.add(i)));
            a.mul_add(vd, V::load(w.add(i))).store(w.add(i));
            i += l;
        }
        if i < rows {
            let n = rows - i;
            let a = va.mul(V::load_partial(x.add(i), n));
            a.mul_add(vd, V::load_partial(w.add(i), n))
                .store_partial(w.add(i), n);
        }
    }
}

/// `W += alpha x d^T`: `w[i*cols + j] += (alpha * x[i]) * d[j]` (the SGD update). Rows with
/// `alpha * x[i] == 0` are left as they are.
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn rank1_update<V: Vector>(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    alpha: f32,
    x: &[f32],
    d: &[f32],
) {
    check_matrix(w.len(), rows, cols);
    assert!(
        x.len() >= rows && d.len() >= cols,
        "rank1_update: short x or d"
    );
    let (wp, xp, dp) = (w.as_mut_ptr(), x.as_ptr(), d.as_ptr());
    // SAFETY: the lengths were checked above; row `i < rows` is `wp + i*cols .. + cols`.
    unsafe {
        if cols == 1 {
            column_update::<V>(wp, rows, alpha, xp, *dp);
            return;
        }
        for i in 0..rows {
            let a = alpha * *xp.add(i);
            // a zero coefficient leaves the row as it is (sparse inputs such as images)
            if a != 0.0 {
                axpy_row::<V>(wp.add(i * cols), cols, V::splat(a), dp);
            }
        }
    }
}

/// Row by row: `z[i] = sum_j w[i*cols + j] * d[j]` with the weights before the update, then
/// `w[i*cols + j] += (alpha * x[i]) * d[j]`; one pass over each row.
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn matvec_t_rank1<V: Vector>(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    d: &[f32],
    alpha: f32,
    x: &[f32],
    z: &mut [f32],
) {
    check_matrix(w.len(), rows, cols);
    assert!(
        x.len() >= rows && d.len() >= cols && z.len() >= rows,
        "matvec_t_rank1: short x, d or z"
    );
    let l = V::LANES;
    let (wp, xp, dp, zp) = (w.as_mut_ptr(), x.as_ptr(), d.as_ptr(), z.as_mut_ptr());
    // SAFETY: the lengths were checked above; row `i < rows` is `wp + i*cols .. + cols` and
    // every access is at a column offset `j..j+l <= cols` (or a partial `j..cols`).
    unsafe {
        if cols == 1 {
            let d0 = *dp;
            let s = V::splat(d0);
            let mut i = 0;
            while i + l <= rows {
                V::load(wp.add(i)).mul(s).store(zp.add(i));
                i += l;
            }
            if i < rows {
                V::load_partial(wp.add(i), rows - i)
                    .mul(s)
                    .store_partial(zp.add(i), rows - i);
            }
            column_update::<V>(wp, rows, alpha, xp, d0);
            return;
        }
        for i in 0..rows {
            let r = wp.add(i * cols);
            let a = V::splat(alpha * *xp.add(i));
            let mut s0 = V::splat(0.0);
            let mut s1 = V::splat(0.0);
            let mut j = 0;
            while j + 2 * l <= cols {
                let d0 = V::load(dp.add(j));
                let d1 = V::load(dp.add(j + l));
                let w0 = V::load(r.add(j));
                let w1 = V::load(r.add(j + l));
                s0 = w0.mul_add(d0, s0);
                s1 = w1.mul_add(d1, s1);
                a.mul_add(d0, w0).store(r.add(j));
                a.mul_add(d1, w1).store(r.add(j + l));
                j += 2 * l;
            }
            if j + l <= cols {
                let d0 = V::load(dp.add(j));
                let w0 = V::load(r.add(j));
                s0 = w0.mul_add(d0, s0);
                a.mul_add(d0, w0).store(r.add(j));
                j += l;
            }
            if j < cols {
                let n = cols - j;
                let d1 = V::load_partial(dp.add(j), n);
                let w1 = V::load_partial(r.add(j), n);
                s1 = w1.mul_add(d1, s1);
                a.mul_add(d1, w1).store_partial(r.add(j), n);
            }
            *zp.add(i) = s0.add(s1).hsum();
        }
    }
}

/// One block of `R` rows of [`rank1_update_matvec`]: with `UPDATE`, `w_r += a_r d` for each
/// row; with `FORWARD`, `y (+)= sum_r xn_r w_r` with the new weights, in the order and rounding
/// of [`matvec_block`] (`INIT` overwrites `y` and implies `FORWARD`).
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+R*cols` is writable, `d..d+cols` and `xn..xn+R`
/// are readable and `y..y+cols` is writable.
#[inline(always)]
unsafe fn update_matvec_block<
    V: Vector,
    const R: usize,
    const INIT: bool,
    const UPDATE: bool,
    const FORWARD: bool,
>(
    w: *mut f32,
    cols: usize,
    a: [f32; R],
    d: *const f32,
    xn: *const f32,
    y: *mut f32,
) {
    let l = V::LANES;
    // SAFETY: rows `r < R` of `w` are `w + r*cols .. w + (r+1)*cols`; every access is at a
    // column offset `j..j+l <= cols` (or a partial `j..cols`), inside the contract's ranges.
    unsafe {
        let av: [V; R] = std::array::from_fn(|r| V::splat(a[r]));
        let xv: [V; R] = std::array::from_fn(|r| V::splat(*xn.add(r)));
        let rs: [*mut f32; R] = std::array::from_fn(|r| w.add(r * cols));
        let mut j = 0;
        while j + l <= cols {
            let mut ws: [V; R] = std::array::from_fn(|r| V::load(rs[r].add(j)));
            if UPDATE {
                let dv = V::load(d.add(j));
                for r in 0..R {
                    // a zero coefficient leaves the row as it is, as in `rank1_update`
                    if a[r] != 0.0 {
                        ws[r] = av[r].mul_add(dv, ws[r]);
                        ws[r].store(rs[r].add(j));
                    }
                }
            }
            if INIT || FORWARD {
                let y0 = if INIT {
                    V::splat(0.0)
                } else {
                    V::load(y.add(j))
                };
                accumulate::<V, R, INIT>(&xv, &ws, y0).store(y.add(j));
            }
            j += l;
        }
        let n = cols - j;
        if n > 0 {
            let mut ws: [V; R] = std::array::from_fn(|r| V::load_partial(rs[r].add(j), n));
            if UPDATE {
                let dv = V::load_partial(d.add(j), n);
                for r in 0..R {
                    if a[r] != 0.0 {
                        ws[r] = av[r].mul_add(dv, ws[r]);
                        ws[r].store_partial(rs[r].add(j), n);
                    }
                }
            }
            if INIT || FORWARD {
                let y0 = if INIT {
                    V::splat(0.0)
                } else {
                    V::load_partial(y.add(j), n)
                };
                accumulate::<V, R, INIT>(&xv, &ws, y0).store_partial(y.add(j), n);
            }
        }
    }
}

/// One block of `R` rows of [`rank1_update_matvec`] at row `i`, choosing the variant: no
/// update when every `alpha * x` of the block is zero, no product when every `xn` is zero.
///
/// # Safety
/// As for [`update_matvec_block`] over rows `i..i+R`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn update_matvec_rows<V: Vector, const R: usize, const INIT: bool>(
    wp: *mut f32,
    i: usize,
    cols: usize,
    alpha: f32,
    xp: *const f32,
    dp: *const f32,
    xnp: *const f32,
    yp: *mut f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        let a: [f32; R] = std::array::from_fn(|r| alpha * *xp.add(i + r));
        let (wi, xni) = (wp.add(i * cols), xnp.add(i));
        let update = a.iter().any(|&v| v != 0.0);
        let forward = INIT || !all_zero::<R>(xni);
        match (update, forward) {
            (true, true) => update_matvec_block::<V, R, INIT, true, true>(wi, cols, a, dp, xni, yp),
            (true, false) => {
                update_matvec_block::<V, R, INIT, true, false>(wi, cols, a, dp, xni, yp)
            }
            (false, true) => {
                update_matvec_block::<V, R, INIT, false, true>(wi, cols, a, dp, xni, yp)
            }
            (false, false) => {}
        }
    }
}

/// `W += alpha x d^T`, then `y = W^T xn` with the updated weights, in one pass over `W`: the
/// update of the first layer fused with the forward pass of the next sample. The results are
/// bit for bit those of [`rank1_update`] followed by [`matvec`] (the same blocks of rows and
/// the same order of sums). Blocks skip the update when all their `alpha * x` are zero and the
/// product when all their `xn` are zero.
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn rank1_update_matvec<V: Vector>(
    w: &mut [f32],
    rows: usize,
    cols: usize,
    alpha: f32,
    x: &[f32],
    d: &[f32],
    xn: &[f32],
    y: &mut [f32],
) {
    check_matrix(w.len(), rows, cols);
    assert!(
        x.len() >= rows && xn.len() >= rows && d.len() >= cols && y.len() >= cols,
        "rank1_update_matvec: short x, xn, d or y"
    );
    if cols == 1 || rows < 4 {
        // SAFETY: forwarded from the caller; the lengths were checked above.
        unsafe {
            rank1_update::<V>(w, rows, cols, alpha, x, d);
            matvec::<V>(w, rows, cols, xn, y);
        }
        return;
    }
    let (wp, xp, dp, xnp, yp) = (
        w.as_mut_ptr(),
        x.as_ptr(),
        d.as_ptr(),
        xn.as_ptr(),
        y.as_mut_ptr(),
    );
    // SAFETY: the lengths were checked above; blocks cover rows `i..i+R <= rows`, in the
    // same blocks as `matvec`.
    unsafe {
        let mut i;
        if rows < 8 {
            update_matvec_rows::<V, 4, true>(wp, 0, cols, alpha, xp, dp, xnp, yp);
            i = 4;
        } else {
            update_matvec_rows::<V, 8, true>(wp, 0, cols, alpha, xp, dp, xnp, yp);
            i = 8;
            while i + 8 <= rows {
                update_matvec_rows::<V, 8, false>(wp, i, cols, alpha, xp, dp, xnp, yp);
                i += 8;
            }
        }
        if i + 4 <= rows {
            update_matvec_rows::<V, 4, false>(wp, i, cols, alpha, xp, dp, xnp, yp);
            i += 4;
        }
        match rows - i {
            1 => update_matvec_rows::<V, 1, false>(wp, i, cols, alpha, xp, dp, xnp, yp),
            2 => update_matvec_rows::<V, 2, false>(wp, i, cols, alpha, xp, dp, xnp, yp),
            3 => update_matvec_rows::<V, 3, false>(wp, i, cols, alpha, xp, dp, xnp, yp),
            _ => {}
        }
    }
}

/// Below this |x| tanh uses the odd polynomial, above it the exponential form.
pub(crate) const TANH_SMALL: f32 = 0.625;
/// |x| is clamped to this before the exponential form: tanh rounds to exactly 1 in f32 for
/// |x| > 13 ln 2 = 9.0109..., and the clamp keeps `exp` finite.
pub(crate) const TANH_CLAMP: f32 = 9.125;
/// `tanh(x) = x + x^3 P(x^2)` on `|x| < TANH_SMALL`: near-minimax coefficients of P for the
/// relative error of the result (about 0.003 ULP from the polynomial itself).
const TANH_P: [f32; 6] = [
    -0.333_333_3,
    0.133_332_06,
    -0.053_946_763,
    0.021_700_7,
    -0.008_177_395,
    0.002_142_958_8,
];
/// `exp(r) = 1 + r + r^2 Q(r)` on `|r| <= ln(2)/2`: near-minimax coefficients of Q for the
/// relative error (about 0.05 ULP from the polynomial itself).
const EXP_Q: [f32; 5] = [
    0.499_999_94,
    0.166_665_21,
    0.041_668_39,
    0.008_368_71,
    0.001_381_461,
];
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` as the nearest f32 and the rest: with `2|x| >= 1.25`, `2|x| - k * LN2_HI` is exact in
/// f32 (fused multiply-add), so the reduced argument carries only the rounding of the second
/// step.
const LN2_HI: f32 = std::f32::consts::LN_2;
const LN2_LO: f32 = -1.904_654_2e-9;
/// `1.5 * 2^23 + 127`: adding it rounds to an integer `k` held in the low mantissa bits as the
/// biased exponent `k + 127` (see [`Vector::pow2_from_biased`]).
const ROUND_MAGIC: f32 = 12_583_039.0;

/// tanh of every lane within 2 ULP (see the module docs of `kernels` for the contract):
/// odd polynomial below [`TANH_SMALL`], `1 - 2 / (exp(2|x|) + 1)` above, the sign of `x`
/// restored at the end (so `-0.0` stays `-0.0`), NaN passed through by the clamp.
#[inline(always)]
pub(crate) fn tanh_vec<V: Vector>(x: V) -> V {
    // SAFETY: a value of `V` exists, so the CPU runs its instruction set.
    let c = |v: f32| unsafe { V::splat(v) };
    let a = x.abs();
    let sign = x.sign_bit();
    // small |x|: a + a^3 P(a^2); exact for tiny a, where a^3 P vanishes below half an ULP
    let a2 = a.mul(a);
    let mut p = c(TANH_P[5]);
    for &k in TANH_P[..5].iter().rev() {
        p = p.mul_add(a2, c(k));
    }
    let small = a.mul_add(a2.mul(p), a);
    // large |x|: 1 - 2 / (exp(2b) + 1), b = min(a, clamp) (NaN passes through the min)
    let b = c(TANH_CLAMP).min_or_nan(a);
    let y = b.add(b);
    let kb = y.mul_add(c(LOG2_E), c(ROUND_MAGIC));
    let k = kb.sub(c(ROUND_MAGIC));
    let r = k.mul_add(c(-LN2_HI), y);
    let r = k.mul_add(c(-LN2_LO), r);
    let mut q = c(EXP_Q[4]);
    for &e in EXP_Q[..4].iter().rev() {
        q = q.mul_add(r, c(e));
    }
    let er = r.mul(r).mul_add(q, r).add(c(1.0));
    let e2b = er.mul(kb.pow2_from_biased());
    let t = c(2.0).div(e2b.add(c(1.0)));
    let large = c(1.0).sub(t);
    a.select_lt(c(TANH_SMALL), small, large).or(sign)
}

/// In-place tanh of every element.
///
/// # Safety
/// The CPU runs `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn tanh<V: Vector>(v: &mut [f32]) {
    let l = V::LANES;
    let n = v.len();
    let p = v.as_mut_ptr();
    // SAFETY: all accesses are at offsets `i..i+l <= n` (or a partial `i..n`) of `v`.
    unsafe {
        let mut i = 0;
        while i + 2 * l <= n {
            let a = V::load(p.add(i)).tanh();
            let b = V::load(p.add(i + l)).tanh();
            a.store(p.add(i));
            b.store(p.add(i + l));
            i += 2 * l;
        }
        while i + l <= n {
            V::load(p.add(i)).tanh().store(p.add(i));
            i += l;
        }
        if i < n {
            load_n::<V>(p.add(i), n - i)
                .tanh()
                .store_partial(p.add(i), n - i);
        }
    }
}

/// Defines the kernel entry points of one instruction set: `#[target_feature]` wrappers that
/// instantiate the generic algorithms with the vector type `$v`.
macro_rules! instantiate {
    ($v:ty, $feature:literal, $name:literal) => {
        #[doc = concat!("`y = W^T x` with ", $name, " (see `kernels::scalar::matvec`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn matvec(w: &[f32], rows: usize, cols: usize, x: &[f32], y: &mut [f32]) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe { $crate::kernels::generic::matvec::<$v>(w, rows, cols, x, y) }
        }

        #[doc = concat!("`z = W d` with ", $name, " (see `kernels::scalar::matvec_t`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn matvec_t(
            w: &[f32],
            rows: usize,
            cols: usize,
            d: &[f32],
            z: &mut [f32],
        ) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe { $crate::kernels::generic::matvec_t::<$v>(w, rows, cols, d, z) }
        }

        #[doc = concat!("`W += alpha x d^T` with ", $name, " (see `kernels::scalar::rank1_update`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn rank1_update(
            w: &mut [f32],
            rows: usize,
            cols: usize,
            alpha: f32,
            x: &[f32],
            d: &[f32],
        ) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe { $crate::kernels::generic::rank1_update::<$v>(w, rows, cols, alpha, x, d) }
        }

        #[doc = concat!("The fused backward dot and update with ", $name, " (see `kernels::scalar::matvec_t_rank1`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn matvec_t_rank1(
            w: &mut [f32],
            rows: usize,
            cols: usize,
            d: &[f32],
            alpha: f32,
            x: &[f32],
            z: &mut [f32],
        ) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe {
                $crate::kernels::generic::matvec_t_rank1::<$v>(w, rows, cols, d, alpha, x, z)
            }
        }

        #[doc = concat!("The first layer's update fused with the next forward product, with ", $name, " (see `kernels::scalar::rank1_update_matvec`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn rank1_update_matvec(
            w: &mut [f32],
            rows: usize,
            cols: usize,
            alpha: f32,
            x: &[f32],
            d: &[f32],
            xn: &[f32],
            y: &mut [f32],
        ) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe {
                $crate::kernels::generic::rank1_update_matvec::<$v>(
                    w, rows, cols, alpha, x, d, xn, y,
                )
            }
        }

        #[doc = concat!("One pass of per-sample SGD with ", $name, " (see `kernels::sgd`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, "; `SgdPass::check` holds.")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn sgd_pass(p: &mut $crate::kernels::sgd::SgdPass) -> Option<f64> {
            // SAFETY: the caller guarantees the instruction set and the shapes.
            unsafe { $crate::kernels::sgd::pass::<$crate::kernels::sgd::SimdOps<$v>>(p) }
        }

        #[doc = concat!("In-place tanh within 2 ULP with ", $name, ".")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn tanh(v: &mut [f32]) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe { $crate::kernels::generic::tanh::<$v>(v) }
        }
    };
}
pub(crate) use instantiate;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn constants_are_consistent() {
        let ln2 = std::f64::consts::LN_2;
        assert!((LN2_HI as f64 + LN2_LO as f64 - ln2).abs() < 1e-15);
        assert_eq!(ROUND_MAGIC, 1.5 * (1u32 << 23) as f32 + 127.0);
        // tanh rounds to 1 beyond 13 ln 2; the clamp must lie beyond that
        assert!(TANH_CLAMP as f64 > 13.0 * ln2);
        assert!(((2.0 * TANH_CLAMP as f64).exp() as f32).is_finite());
    }

    /// Checks every method of `V` lane by lane.
    ///
    /// # Safety
    /// The CPU runs `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn check_vector<V: Vector>() {
        let l = V::LANES;
        let src: Vec<f32> = (0..l).map(|i| i as f32 + 1.0).collect();
        let lanes = |v: V| -> Vec<f32> {
            let mut out = vec![0.0; l];
            // SAFETY: `out` holds `l` floats.
            unsafe { v.store(out.as_mut_ptr()) };
            out
        };
        // SAFETY: the caller guarantees the instruction set; every pointer below covers the
        // lanes it is used for.
        unsafe {
            for n in 0..l {
                let v = V::load_partial(src.as_ptr(), n);
                let got = lanes(v);
                for (i, &g) in got.iter().enumerate() {
                    assert_eq!(g, if i < n { src[i] } else { 0.0 }, "load_partial {n}");
                }
                let mut dst = vec![-7.0f32; l + 1];
                V::load(src.as_ptr()).store_partial(dst.as_mut_ptr(), n);
                for (i, &d) in dst.iter().enumerate() {
                    assert_eq!(d, if i < n { src[i] } else { -7.0 }, "store_partial {n}");
                }
            }
            let v = V::load(src.as_ptr());
            assert_eq!(v.hsum(), (l * (l + 1) / 2) as f32);
            let s = |x: f32| V::splat(x);
            assert_eq!(lanes(s(-2.5).abs())[0], 2.5);
            assert_eq!(lanes(s(-2.5).sign_bit())[0].to_bits(), 0x8000_0000);
            assert_eq!(lanes(s(2.5).sign_bit())[0].to_bits(), 0);
            assert_eq!(lanes(s(0.5).or(s(-0.0)))[0], -0.5);
            assert_eq!(lanes(s(3.0).min_or_nan(s(2.0)))[0], 2.0);
            assert_eq!(lanes(s(3.0).min_or_nan(s(5.0)))[0], 3.0);
            assert!(lanes(s(3.0).min_or_nan(s(f32::NAN)))[0].is_nan());
            assert_eq!(lanes(s(1.0).select_lt(s(2.0), s(10.0), s(20.0)))[0], 10.0);
            assert_eq!(lanes(s(2.0).select_lt(s(2.0), s(10.0), s(20.0)))[0], 20.0);
            assert_eq!(
                lanes(s(f32::NAN).select_lt(s(2.0), s(10.0), s(20.0)))[0],
                20.0
            );
            assert_eq!(lanes(s(7.0).mul_add(s(3.0), s(1.0)))[0], 22.0);
            assert_eq!(lanes(s(7.0).div(s(2.0)))[0], 3.5);
            for k in -126..=127 {
                let b = s(k as f32 + ROUND_MAGIC);
                assert_eq!(lanes(b.pow2_from_biased())[0], 2f32.powi(k), "2^{k}");
            }
        }
    }
}
