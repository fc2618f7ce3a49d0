//! The kernel algorithms, written once over the [`Vector`] trait and instantiated per
//! instruction set by [`instantiate!`] under `#[target_feature(enable = ...)]`.
//!
//! Every function here is `#[inline(always)]`: it is compiled only as part of an instruction
//! set's wrapper, where all vector methods inline into straight-line code. Slice lengths are
//! checked on entry (one comparison per argument), so memory safety never depends on the
//! caller; the only obligation of the `unsafe` entry points is that the CPU runs the
//! instruction set of `V`.
//!
//! The matrix kernels split the columns of a row into a head, full vectors and a tail
//! ([`col_split`]): when every row starts at the same alignment (`cols` a multiple of the lane
//! count), the head is as long as it takes for the full vectors to be aligned to the vector
//! size, so that no load or store of the streaming loops crosses a cache line. Head and tail
//! (partial vectors) go through register-resident loops of their own.

use super::vector::Vector;

/// Panics unless `w` holds a `rows x cols` matrix (used only behind checked callers).
#[inline(always)]
fn check_matrix(len: usize, rows: usize, cols: usize) {
    assert!(
        rows.checked_mul(cols).is_some_and(|n| n <= len),
        "kernel: a {rows} x {cols} matrix needs more than {len} elements"
    );
}

/// The columns `[lo, hi)` of a row of `cols` values starting at `w` that the kernels process
/// as full vectors: `hi - lo` is a multiple of `LANES`; `[0, lo)` is the head and `[hi, cols)`
/// the tail, each shorter than `LANES`. When `cols` is a multiple of `LANES` (so that every
/// row has the alignment of `w`), `lo` makes `w + lo` aligned to the vector size; otherwise
/// `lo = 0`.
#[inline(always)]
fn col_split<V: Vector>(w: *const f32, cols: usize) -> (usize, usize) {
    let l = V::LANES;
    let bytes = l * std::mem::size_of::<f32>();
    let lo = if cols.is_multiple_of(l) && cols >= 2 * l {
        let mis = w as usize % bytes;
        if mis.is_multiple_of(4) {
            ((bytes - mis) % bytes) / 4
        } else {
            0
        }
    } else {
        0
    };
    (lo, lo + (cols - lo) / l * l)
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

/// Whether `x[0..R]` are all zero.
///
/// # Safety
/// `x..x+R` is readable.
#[inline(always)]
unsafe fn all_zero<const R: usize>(x: *const f32) -> bool {
    // SAFETY: forwarded from the caller.
    (0..R).all(|r| unsafe { *x.add(r) } == 0.0)
}

// ---------------------------------------------------------------------------------------------
// y = W^T x

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

/// `y[j] (+)= sum_{r < R} x[r] * w[r*stride + j]` for the full vectors `lo <= j < hi` of one
/// block of `R` rows (`R` in 1..=8): each chunk of `y` is loaded and stored once per block.
/// With `INIT`, `y` is overwritten.
///
/// # Safety
/// The CPU runs `V`'s instruction set; rows `r < R` of `w` (stride `stride`) are readable up to
/// `hi`, `x..x+R` is readable and `y..y+hi` is writable.
#[inline(always)]
unsafe fn matvec_block<V: Vector, const R: usize, const INIT: bool>(
    w: *const f32,
    stride: usize,
    (lo, hi): (usize, usize),
    x: *const f32,
    y: *mut f32,
) {
    let l = V::LANES;
    // SAFETY: rows `r < R` of `w` are `w + r*stride ..`; every access is at a column offset
    // `j..j+l <= hi`, inside the contract's ranges.
    unsafe {
        let xs: [V; R] = std::array::from_fn(|r| V::splat(*x.add(r)));
        let rs: [*const f32; R] = std::array::from_fn(|r| w.add(r * stride));
        let mut j = lo;
        while j < hi {
            let ws: [V; R] = std::array::from_fn(|r| V::load(rs[r].add(j)));
            let y0 = if INIT {
                V::splat(0.0)
            } else {
                V::load(y.add(j))
            };
            accumulate::<V, R, INIT>(&xs, &ws, y0).store(y.add(j));
            j += l;
        }
    }
}

/// `y[j0..j0+n] = sum_i x[i] * w[i*stride + j0..]` for `n < LANES` columns (a head or a tail),
/// over all rows with the sum in registers (no traffic on `y` per row): row `i` adds to chain
/// `i % 4`, rows with `x[i] == 0` are skipped, and the result is `(c0 + c1) + (c2 + c3)`.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w + i*stride + j0 .. + n` is readable for `i < rows`,
/// `x..x+rows` is readable and `y+j0..y+j0+n` writable.
#[inline(always)]
unsafe fn matvec_partial<V: Vector>(
    w: *const f32,
    rows: usize,
    stride: usize,
    x: *const f32,
    y: *mut f32,
    j0: usize,
    n: usize,
) {
    if n == 0 {
        return;
    }
    // SAFETY: every access is inside the ranges of the contract.
    unsafe {
        let mut c = [V::splat(0.0); 4];
        let mut i = 0;
        while i < rows {
            // constant chain indices keep the chains in registers
            for (k, ck) in c.iter_mut().enumerate() {
                if i + k < rows {
                    let xi = *x.add(i + k);
                    if xi != 0.0 {
                        let wv = V::load_partial(w.add((i + k) * stride + j0), n);
                        *ck = V::splat(xi).mul_add(wv, *ck);
                    }
                }
            }
            i += 4;
        }
        c[0].add(c[1])
            .add(c[2].add(c[3]))
            .store_partial(y.add(j0), n);
    }
}

/// Adds rows `i..rows` (fewer than 8) to the full vectors of `y`, skipping all-zero blocks.
///
/// # Safety
/// As for [`matvec_block`] over rows `i..rows`.
#[inline(always)]
unsafe fn matvec_rest<V: Vector>(
    wp: *const f32,
    mut i: usize,
    rows: usize,
    cols: usize,
    split: (usize, usize),
    xp: *const f32,
    yp: *mut f32,
) {
    // SAFETY: forwarded from the caller; each block covers rows below `rows`.
    unsafe {
        if i + 4 <= rows {
            if !all_zero::<4>(xp.add(i)) {
                matvec_block::<V, 4, false>(wp.add(i * cols), cols, split, xp.add(i), yp);
            }
            i += 4;
        }
        let (wi, xi) = (wp.add(i * cols), xp.add(i));
        match rows - i {
            1 if !all_zero::<1>(xi) => matvec_block::<V, 1, false>(wi, cols, split, xi, yp),
            2 if !all_zero::<2>(xi) => matvec_block::<V, 2, false>(wi, cols, split, xi, yp),
            3 if !all_zero::<3>(xi) => matvec_block::<V, 3, false>(wi, cols, split, xi, yp),
            _ => {}
        }
    }
}

/// `y = W^T x`: `y[j] = sum_i x[i] * w[i*cols + j]` (the forward pass). The full vectors of
/// columns ([`col_split`]) go in blocks of eight rows (then four, then the rest) after the
/// first, blocks whose `x` are all zero skipped (they add exactly zero); head and tail go
/// through [`matvec_partial`].
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
    if rows == 0 {
        y[..cols].fill(0.0);
        return;
    }
    let (wp, xp, yp) = (w.as_ptr(), x.as_ptr(), y.as_mut_ptr());
    let split = col_split::<V>(wp, cols);
    // SAFETY: the lengths were checked above; blocks cover rows `i..i+R <= rows`.
    unsafe {
        if cols == 1 {
            *yp = dot_raw::<V>(wp, xp, rows);
            return;
        }
        if split.1 > split.0 {
            match rows {
                1 => matvec_block::<V, 1, true>(wp, cols, split, xp, yp),
                2 => matvec_block::<V, 2, true>(wp, cols, split, xp, yp),
                3 => matvec_block::<V, 3, true>(wp, cols, split, xp, yp),
                4..8 => {
                    matvec_block::<V, 4, true>(wp, cols, split, xp, yp);
                    matvec_rest::<V>(wp, 4, rows, cols, split, xp, yp);
                }
                _ => {
                    matvec_block::<V, 8, true>(wp, cols, split, xp, yp);
                    let mut i = 8;
                    while i + 8 <= rows {
                        if !all_zero::<8>(xp.add(i)) {
                            let wi = wp.add(i * cols);
                            matvec_block::<V, 8, false>(wi, cols, split, xp.add(i), yp);
                        }
                        i += 8;
                    }
                    matvec_rest::<V>(wp, i, rows, cols, split, xp, yp);
                }
            }
        }
        matvec_partial::<V>(wp, rows, cols, xp, yp, 0, split.0);
        matvec_partial::<V>(wp, rows, cols, xp, yp, split.1, cols - split.1);
    }
}

// ---------------------------------------------------------------------------------------------
// z = W d

/// The lane-wise partial dot products of `R` rows with `d`: full vectors with two accumulators
/// per row (`d` loaded once per chunk), head and tail added as partial vectors.
///
/// # Safety
/// The CPU runs `V`'s instruction set; rows `r < R` of `w` (stride `stride`) hold `cols`
/// readable values and `d..d+cols` is readable.
#[inline(always)]
unsafe fn dot_rows<V: Vector, const R: usize>(
    w: *const f32,
    stride: usize,
    cols: usize,
    (lo, hi): (usize, usize),
    d: *const f32,
) -> [V; R] {
    let l = V::LANES;
    // SAFETY: row `r` is `w + r*stride ..`; all accesses are at column offsets inside
    // `[0, cols)`.
    unsafe {
        let rs: [*const f32; R] = std::array::from_fn(|r| w.add(r * stride));
        let mut a = [V::splat(0.0); R];
        let mut b = [V::splat(0.0); R];
        let mut j = lo;
        while j + 2 * l <= hi {
            let d0 = V::load(d.add(j));
            let d1 = V::load(d.add(j + l));
            for r in 0..R {
                a[r] = V::load(rs[r].add(j)).mul_add(d0, a[r]);
                b[r] = V::load(rs[r].add(j + l)).mul_add(d1, b[r]);
            }
            j += 2 * l;
        }
        if j < hi {
            let d0 = V::load(d.add(j));
            for r in 0..R {
                a[r] = V::load(rs[r].add(j)).mul_add(d0, a[r]);
            }
        }
        for (j0, n) in [(0, lo), (hi, cols - hi)] {
            if n > 0 {
                let dp = V::load_partial(d.add(j0), n);
                for r in 0..R {
                    b[r] = V::load_partial(rs[r].add(j0), n).mul_add(dp, b[r]);
                }
            }
        }
        std::array::from_fn(|r| a[r].add(b[r]))
    }
}

/// `z = W d`: `z[i] = sum_j w[i*cols + j] * d[j]` (the backward pass), eight rows at a time.
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
    let split = col_split::<V>(wp, cols);
    // SAFETY: the lengths were checked above; row blocks cover `i..i+R <= rows`.
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
        while i + 8 <= rows {
            let s = dot_rows::<V, 8>(wp.add(i * cols), cols, cols, split, dp);
            store_sums8::<V>(s, zp.add(i));
            i += 8;
        }
        if i + 4 <= rows {
            let s = dot_rows::<V, 4>(wp.add(i * cols), cols, cols, split, dp);
            *(zp.add(i) as *mut [f32; 4]) = V::hsum4(s);
            i += 4;
        }
        while i < rows {
            *zp.add(i) = dot_rows::<V, 1>(wp.add(i * cols), cols, cols, split, dp)[0].hsum();
            i += 1;
        }
    }
}

/// Stores the lane sums of eight vectors to `z[0..8]`.
///
/// # Safety
/// `z..z+8` is writable.
#[inline(always)]
unsafe fn store_sums8<V: Vector>(s: [V; 8], z: *mut f32) {
    let lo = V::hsum4([s[0], s[1], s[2], s[3]]);
    let hi = V::hsum4([s[4], s[5], s[6], s[7]]);
    // SAFETY: forwarded from the caller.
    unsafe {
        *(z as *mut [f32; 4]) = lo;
        *(z.add(4) as *mut [f32; 4]) = hi;
    }
}

// ---------------------------------------------------------------------------------------------
// W += alpha x d^T

/// `w[j] += a * d[j]` for the full vectors `lo <= j < hi` of one row.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w..w+hi` is writable and `d..d+hi` readable.
#[inline(always)]
unsafe fn axpy_row<V: Vector>(w: *mut f32, (lo, hi): (usize, usize), a: V, d: *const f32) {
    let l = V::LANES;
    // SAFETY: all accesses are at offsets `j..j+l <= hi`.
    unsafe {
        let mut j = lo;
        while j + 2 * l <= hi {
            let w0 = a.mul_add(V::load(d.add(j)), V::load(w.add(j)));
            let w1 = a.mul_add(V::load(d.add(j + l)), V::load(w.add(j + l)));
            w0.store(w.add(j));
            w1.store(w.add(j + l));
            j += 2 * l;
        }
        if j < hi {
            a.mul_add(V::load(d.add(j)), V::load(w.add(j)))
                .store(w.add(j));
        }
    }
}

/// `w[i*stride + j0..+n] += a(i) * d[j0..+n]` for `n < LANES` columns (a head or a tail) of
/// `rows` rows, eight rows at a time with all their loads before their stores: a masked load
/// that overlaps an earlier masked store (the next row starts inside the stored vector) would
/// wait for the store. Rows with `a(i) == 0` are left as they are.
///
/// # Safety
/// The CPU runs `V`'s instruction set; `w + i*stride + j0 .. + n` is writable for `i < rows`
/// and `d+j0..d+j0+n` is readable.
#[inline(always)]
unsafe fn update_partial<V: Vector>(
    w: *mut f32,
    rows: usize,
    stride: usize,
    a: impl Fn(usize) -> f32,
    d: *const f32,
    j0: usize,
    n: usize,
) {
    if n == 0 {
        return;
    }
    // SAFETY: every access is inside the ranges of the contract.
    unsafe {
        let dv = V::load_partial(d.add(j0), n);
        let mut i = 0;
        while i < rows {
            let m = (rows - i).min(8);
            let mut ws = [V::splat(0.0); 8];
            for (r, wv) in ws.iter_mut().enumerate().take(m) {
                *wv = V::load_partial(w.add((i + r) * stride + j0), n);
            }
            for (r, wv) in ws.iter().enumerate().take(m) {
                let ar = a(i + r);
                if ar != 0.0 {
                    V::splat(ar)
                        .mul_add(dv, *wv)
                        .store_partial(w.add((i + r) * stride + j0), n);
                }
            }
            i += m;
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
    let split = col_split::<V>(wp, cols);
    // SAFETY: the lengths were checked above; row `i < rows` is `wp + i*cols .. + cols`.
    unsafe {
        if cols == 1 {
            column_update::<V>(wp, rows, alpha, xp, *dp);
            return;
        }
        if split.1 > split.0 {
            for i in 0..rows {
                let a = alpha * *xp.add(i);
                // a zero coefficient leaves the row as it is (sparse inputs such as images)
                if a != 0.0 {
                    axpy_row::<V>(wp.add(i * cols), split, V::splat(a), dp);
                }
            }
        }
        let a = |i: usize| alpha * *xp.add(i);
        update_partial::<V>(wp, rows, cols, a, dp, 0, split.0);
        update_partial::<V>(wp, rows, cols, a, dp, split.1, cols - split.1);
    }
}

// ---------------------------------------------------------------------------------------------
// z = W d with the old weights, then W += alpha x d^T

/// For `R` rows at once: the lane-wise partial dot products of each row with `d` (weights
/// before the update), and the update `row_r += a_r d`; `d` is loaded once per chunk, each row
/// has two independent accumulators, and the partial head and tail are loaded for all rows
/// before any is stored (see [`update_partial`]).
///
/// # Safety
/// The CPU runs `V`'s instruction set; rows `r < R` of `w` (stride `stride`) hold `cols`
/// writable values and `d..d+cols` is readable.
#[inline(always)]
unsafe fn dot_update_rows<V: Vector, const R: usize>(
    w: *mut f32,
    stride: usize,
    cols: usize,
    (lo, hi): (usize, usize),
    a: [V; R],
    d: *const f32,
) -> [V; R] {
    let l = V::LANES;
    // SAFETY: row `r` is `w + r*stride ..`; all accesses are at column offsets inside
    // `[0, cols)`.
    unsafe {
        let rs: [*mut f32; R] = std::array::from_fn(|r| w.add(r * stride));
        let mut s0 = [V::splat(0.0); R];
        let mut s1 = [V::splat(0.0); R];
        let mut j = lo;
        while j + 2 * l <= hi {
            let d0 = V::load(d.add(j));
            let d1 = V::load(d.add(j + l));
            for r in 0..R {
                let w0 = V::load(rs[r].add(j));
                let w1 = V::load(rs[r].add(j + l));
                s0[r] = w0.mul_add(d0, s0[r]);
                s1[r] = w1.mul_add(d1, s1[r]);
                a[r].mul_add(d0, w0).store(rs[r].add(j));
                a[r].mul_add(d1, w1).store(rs[r].add(j + l));
            }
            j += 2 * l;
        }
        if j < hi {
            let d0 = V::load(d.add(j));
            for r in 0..R {
                let w0 = V::load(rs[r].add(j));
                s0[r] = w0.mul_add(d0, s0[r]);
                a[r].mul_add(d0, w0).store(rs[r].add(j));
            }
        }
        for (j0, n) in [(0, lo), (hi, cols - hi)] {
            if n > 0 {
                let dp = V::load_partial(d.add(j0), n);
                let ws: [V; R] = std::array::from_fn(|r| V::load_partial(rs[r].add(j0), n));
                for r in 0..R {
                    s1[r] = ws[r].mul_add(dp, s1[r]);
                    a[r].mul_add(dp, ws[r]).store_partial(rs[r].add(j0), n);
                }
            }
        }
        std::array::from_fn(|r| s0[r].add(s1[r]))
    }
}

/// Row by row: `z[i] = sum_j w[i*cols + j] * d[j]` with the weights before the update, then
/// `w[i*cols + j] += (alpha * x[i]) * d[j]`; one pass over each row, eight rows at a time.
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
    let split = col_split::<V>(wp, cols);
    // SAFETY: the lengths were checked above; row blocks cover `i..i+R <= rows`.
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
        let coef = |i: usize| V::splat(alpha * *xp.add(i));
        let mut i = 0;
        while i + 8 <= rows {
            let a: [V; 8] = std::array::from_fn(|r| coef(i + r));
            let s = dot_update_rows::<V, 8>(wp.add(i * cols), cols, cols, split, a, dp);
            store_sums8::<V>(s, zp.add(i));
            i += 8;
        }
        if i + 4 <= rows {
            let a: [V; 4] = std::array::from_fn(|r| coef(i + r));
            let s = dot_update_rows::<V, 4>(wp.add(i * cols), cols, cols, split, a, dp);
            *(zp.add(i) as *mut [f32; 4]) = V::hsum4(s);
            i += 4;
        }
        while i < rows {
            let a = [coef(i)];
            let s = dot_update_rows::<V, 1>(wp.add(i * cols), cols, cols, split, a, dp);
            *zp.add(i) = s[0].hsum();
            i += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// W += alpha x d^T, then y = W^T xn

/// One block of `R` rows of [`rank1_update_matvec`] over the full vectors of columns: with
/// `UPDATE`, `w_r += a_r d` for each row with `a_r != 0`; with `FORWARD`, `y (+)= sum_r xn_r
/// w_r` with the new weights, in the order and rounding of [`matvec_block`] (`INIT` overwrites
/// `y` and implies `FORWARD`).
///
/// # Safety
/// The CPU runs `V`'s instruction set; rows `r < R` of `w` (stride `stride`) are writable up to
/// `hi`, `d..d+hi` and `xn..xn+R` are readable and `y..y+hi` is writable.
#[inline(always)]
unsafe fn update_matvec_block<
    V: Vector,
    const R: usize,
    const INIT: bool,
    const UPDATE: bool,
    const FORWARD: bool,
>(
    w: *mut f32,
    stride: usize,
    (lo, hi): (usize, usize),
    a: [f32; R],
    d: *const f32,
    xn: *const f32,
    y: *mut f32,
) {
    let l = V::LANES;
    // SAFETY: rows `r < R` of `w` are `w + r*stride ..`; every access is at a column offset
    // `j..j+l <= hi`, inside the contract's ranges.
    unsafe {
        let av: [V; R] = std::array::from_fn(|r| V::splat(a[r]));
        let xv: [V; R] = std::array::from_fn(|r| V::splat(*xn.add(r)));
        let rs: [*mut f32; R] = std::array::from_fn(|r| w.add(r * stride));
        let mut j = lo;
        while j < hi {
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
    }
}

/// `n < LANES` columns (a head or a tail) of [`rank1_update_matvec`]: the updates of
/// [`update_partial`] and the product of [`matvec_partial`] (same chains, same order), eight
/// rows at a time with all loads first.
///
/// # Safety
/// As for [`update_partial`] and [`matvec_partial`] together.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn update_matvec_partial<V: Vector>(
    w: *mut f32,
    rows: usize,
    stride: usize,
    alpha: f32,
    x: *const f32,
    d: *const f32,
    xn: *const f32,
    y: *mut f32,
    j0: usize,
    n: usize,
) {
    if n == 0 {
        return;
    }
    // SAFETY: every access is inside the ranges of the contract.
    unsafe {
        let dv = V::load_partial(d.add(j0), n);
        let mut c = [V::splat(0.0); 4];
        let mut i = 0;
        while i < rows {
            let m = (rows - i).min(8);
            let mut ws = [V::splat(0.0); 8];
            for (r, wv) in ws.iter_mut().enumerate().take(m) {
                *wv = V::load_partial(w.add((i + r) * stride + j0), n);
            }
            for (r, wv) in ws.iter_mut().enumerate().take(m) {
                let ar = alpha * *x.add(i + r);
                if ar != 0.0 {
                    *wv = V::splat(ar).mul_add(dv, *wv);
                    wv.store_partial(w.add((i + r) * stride + j0), n);
                }
            }
            // `i` is a multiple of 8, so row `i + r` goes to chain `r % 4`: constant indices
            // keep the chains in registers
            for (r, wv) in ws.iter().enumerate() {
                if r < m {
                    let xr = *xn.add(i + r);
                    if xr != 0.0 {
                        c[r % 4] = V::splat(xr).mul_add(*wv, c[r % 4]);
                    }
                }
            }
            i += m;
        }
        c[0].add(c[1])
            .add(c[2].add(c[3]))
            .store_partial(y.add(j0), n);
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
    split: (usize, usize),
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
            (true, true) => {
                update_matvec_block::<V, R, INIT, true, true>(wi, cols, split, a, dp, xni, yp)
            }
            (true, false) => {
                update_matvec_block::<V, R, INIT, true, false>(wi, cols, split, a, dp, xni, yp)
            }
            (false, true) => {
                update_matvec_block::<V, R, INIT, false, true>(wi, cols, split, a, dp, xni, yp)
            }
            (false, false) => {}
        }
    }
}

/// `W += alpha x d^T`, then `y = W^T xn` with the updated weights, in one pass over `W`: the
/// update of the first layer fused with the forward pass of the next sample. On the same
/// storage, the results are bit for bit those of [`rank1_update`] followed by [`matvec`] (the
/// same column split, blocks of rows and order of sums). Blocks skip the update when all their
/// `alpha * x` are zero and the product when all their `xn` are zero.
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
    let sp = col_split::<V>(wp, cols);
    // SAFETY: the lengths were checked above; blocks cover rows `i..i+R <= rows`, in the
    // same blocks as `matvec`.
    unsafe {
        if sp.1 > sp.0 {
            let mut i;
            if rows < 8 {
                update_matvec_rows::<V, 4, true>(wp, 0, cols, sp, alpha, xp, dp, xnp, yp);
                i = 4;
            } else {
                update_matvec_rows::<V, 8, true>(wp, 0, cols, sp, alpha, xp, dp, xnp, yp);
                i = 8;
                while i + 8 <= rows {
                    update_matvec_rows::<V, 8, false>(wp, i, cols, sp, alpha, xp, dp, xnp, yp);
                    i += 8;
                }
            }
            if i + 4 <= rows {
                update_matvec_rows::<V, 4, false>(wp, i, cols, sp, alpha, xp, dp, xnp, yp);
                i += 4;
            }
            match rows - i {
                1 => update_matvec_rows::<V, 1, false>(wp, i, cols, sp, alpha, xp, dp, xnp, yp),
                2 => update_matvec_rows::<V, 2, false>(wp, i, cols, sp, alpha, xp, dp, xnp, yp),
                3 => update_matvec_rows::<V, 3, false>(wp, i, cols, sp, alpha, xp, dp, xnp, yp),
                _ => {}
            }
        }
        update_matvec_partial::<V>(wp, rows, cols, alpha, xp, dp, xnp, yp, 0, sp.0);
        let n = cols - sp.1;
        update_matvec_partial::<V>(wp, rows, cols, alpha, xp, dp, xnp, yp, sp.1, n);
    }
}

// ---------------------------------------------------------------------------------------------
// tanh

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
///
/// - `instantiate!(V, "features", "name", gemm: { ... })`: the vector kernels, the per-sample
///   SGD pass and the GEMM micro-kernel;
/// - `tiny: T, pass,` after the name: networks that fit in the lanes of the narrower `T` take
///   `pass` (another set's SGD pass), before those that fit in `V`;
/// - `instantiate!(@tile V, [...], "name", MR, NV, fn_name, A_ROWS, "doc")`: one GEMM tile
///   wrapper (`gemm::micro::tile` in `#[target_feature]`), used by the `@gemm` arm;
/// - `instantiate!(@gemm V, [], "name", ...)`: the GEMM micro-kernel alone, without a
///   `#[target_feature]` (the portable lanes of the scalar set).
///
/// The `gemm` section names the register tile (`rows` of A by `vectors` of `V` columns of B),
/// the block transpose of the packing ([`super::gemm::Transpose8`]) and the default blocking
/// `(kc, mc, nc)`, and defines `GEMM` ([`super::gemm::MicroKernel`]) and `GEMM_BLOCKING`
/// ([`super::gemm::Blocking`]).
macro_rules! instantiate {
    (
        @tile $v:ty, [$($feature:literal)?], $name:literal, $mr:literal, $nv:literal,
        $fn:ident, $a_rows:literal, $what:literal
    ) => {
        #[doc = concat!($what, "; see `gemm::micro::tile`.")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ", and the pointer contract of `tile` holds.")]
        $(#[target_feature(enable = $feature)])?
        #[allow(clippy::too_many_arguments)]
        unsafe fn $fn(
            k: usize,
            a: *const f32,
            lda: usize,
            b: *const f32,
            ldb: usize,
            c: *mut f32,
            rsc: usize,
            csc: usize,
            m: usize,
            n: usize,
            alpha: f32,
            accumulate: bool,
        ) {
            // SAFETY: forwarded contract (the instruction set and the pointers).
            unsafe {
                $crate::kernels::gemm::micro::tile::<$v, $mr, $nv, $a_rows>(
                    k, a, lda, b, ldb, c, rsc, csc, m, n, alpha, accumulate,
                )
            }
        }
    };
    (
        @gemm $v:ty, [$($feature:literal)?], $name:literal,
        rows: $mr:literal,
        vectors: $nv:literal,
        transpose: $t:ty,
        blocking: ($kc:expr, $mc:expr, $nc:expr)
    ) => {
        #[doc = concat!("The GEMM micro-kernel of ", $name, ": tiles of ", stringify!($mr), " rows by ", stringify!($nv), " vectors.")]
        pub(crate) const GEMM: $crate::kernels::gemm::MicroKernel =
            $crate::kernels::gemm::MicroKernel {
                mr: $mr,
                nr: $nv * <$v as $crate::kernels::vector::Vector>::LANES,
                tile_packed: gemm_tile_packed,
                tile_rows: gemm_tile_rows,
                pack_a: gemm_pack_a,
                pack_b: gemm_pack_b,
            };

        #[doc = concat!("The blocking of ", $name, "'s GEMM when no plan is given.")]
        pub(crate) const GEMM_BLOCKING: $crate::kernels::gemm::Blocking =
            $crate::kernels::gemm::Blocking { kc: $kc, mc: $mc, nc: $nc };

        $crate::kernels::generic::instantiate!(@tile $v, [$($feature)?], $name, $mr, $nv,
            gemm_tile_packed, false, "One tile from a packed (or column-major) A panel");
        $crate::kernels::generic::instantiate!(@tile $v, [$($feature)?], $name, $mr, $nv,
            gemm_tile_rows, true, "One tile reading the rows of A in place");

        /// Packs `src` into panels of the tile's rows; see `gemm::pack_panels`.
        ///
        /// # Safety
        #[doc = concat!("As `gemm::pack_panels`, and the CPU supports ", $name, ".")]
        $(#[target_feature(enable = $feature)])?
        unsafe fn gemm_pack_a(src: $crate::kernels::gemm::MatRef, dst: *mut f32, panel_stride: usize) {
            // SAFETY: forwarded contract.
            unsafe { $crate::kernels::gemm::pack_panels::<$mr, $t>(src, dst, panel_stride) }
        }

        /// Packs `src` into panels of the tile's columns; see `gemm::pack_panels`.
        ///
        /// # Safety
        #[doc = concat!("As `gemm::pack_panels` for `src.t()`, and the CPU supports ", $name, ".")]
        $(#[target_feature(enable = $feature)])?
        unsafe fn gemm_pack_b(src: $crate::kernels::gemm::MatRef, dst: *mut f32, panel_stride: usize) {
            // SAFETY: forwarded contract.
            unsafe {
                $crate::kernels::gemm::pack_panels::<
                    { $nv * <$v as $crate::kernels::vector::Vector>::LANES },
                    $t,
                >(src.t(), dst, panel_stride)
            }
        }
    };
    (
        $v:ty, $feature:literal, $name:literal,
        $(tiny: $tiny:ty, $tiny_pass:expr,)?
        gemm: { $($gemm:tt)* }
    ) => {
        $crate::kernels::generic::instantiate!(@gemm $v, [$feature], $name, $($gemm)*);

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
            use $crate::kernels::sgd;
            // SAFETY: the caller guarantees the instruction set and the shapes (the instruction
            // set of `$tiny` is part of it); a small-network pass runs only where it fits.
            unsafe {
                $(
                    if sgd::tiny_fits::<$tiny>(p.layers) {
                        return $tiny_pass(p);
                    }
                )?
                if sgd::tiny_fits::<$v>(p.layers) {
                    sgd::tiny_pass::<$v>(p)
                } else {
                    sgd::pass::<sgd::SimdOps<$v>>(p)
                }
            }
        }

        #[doc = concat!("One optimizer step with ", $name, " (see `kernels::update`).")]
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $name, ".")]
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn update(
            step: &$crate::kernels::UpdateStep,
            w: &mut [f32],
            g: &[f32],
            s1: &mut [f32],
            s2: &mut [f32],
        ) {
            // SAFETY: the caller guarantees the instruction set (this function's contract).
            unsafe { $crate::kernels::update::update::<$v>(step, w, g, s1, s2) }
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
            // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11: only a fused multiply-add
            // keeps the 2^-24
            let e = 1.0 + 2f32.powi(-12);
            let fused = lanes(s(e).mul_add(s(e), s(-(1.0 + 2f32.powi(-11)))))[0];
            assert_eq!(fused, if V::FUSED { 2f32.powi(-24) } else { 0.0 });
            assert_eq!(lanes(s(7.0).div(s(2.0)))[0], 3.5);
            assert_eq!(lanes(s(6.25).sqrt())[0], 2.5);
            for k in -126..=127 {
                let b = s(k as f32 + crate::kernels::tanh::ROUND_MAGIC);
                assert_eq!(lanes(b.pow2_from_biased())[0], 2f32.powi(k), "2^{k}");
            }
        }
    }
}
