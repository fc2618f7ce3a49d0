//! The register-tile micro-kernel, written once over a small vector trait and instantiated per
//! instruction set (`scalar.rs`, `avx2.rs`, `avx512.rs`, `neon.rs`) inside
//! `#[target_feature]` wrappers.
//!
//! A tile is `MR` rows by `NR = NV * LANES` columns of C. The kernel reads a packed A panel
//! (`k` steps of `MR` values) and a packed B panel (`k` steps of `NR` values), keeps the
//! `MR x NV` accumulator vectors in registers, and writes
//! `C = alpha * AB` or `C = C + alpha * AB` (one fused multiply-add per element where the
//! instruction set has one). Partial tiles (fewer rows or columns, or a C whose columns are not
//! contiguous) go through a stack buffer with the same vector arithmetic, so an element's value
//! never depends on where the tile falls.

/// The vector operations the micro-kernel needs.
pub(crate) trait Simd {
    /// One vector register of `LANES` floats.
    type V: Copy;
    /// Floats per vector.
    const LANES: usize;

    /// All lanes zero.
    ///
    /// # Safety
    /// The instruction set of the implementation must be available.
    unsafe fn zero() -> Self::V;
    /// Every lane `*p`.
    ///
    /// # Safety
    /// `p` is valid for reading one float; the instruction set is available.
    unsafe fn splat_load(p: *const f32) -> Self::V;
    /// Every lane `x`.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn splat(x: f32) -> Self::V;
    /// `LANES` floats from `p` (any alignment).
    ///
    /// # Safety
    /// `p` is valid for reading `LANES` floats; the instruction set is available.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Writes `LANES` floats to `p` (any alignment).
    ///
    /// # Safety
    /// `p` is valid for writing `LANES` floats; the instruction set is available.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `c + a * b` (fused where the instruction set has it).
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a * b`.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
}

/// Computes one `MR x (NV * S::LANES)` tile: `acc[r][j] = sum_{p<k} A(r, p) * b[p*NR + j]` in
/// order of `p`, then writes rows `r < m`, columns `j < n` of C at `c + r*rsc + j*csc` as
/// `alpha * acc` (`accumulate == false`, C is not read) or `C + alpha * acc`.
///
/// `A(r, p)` is `a[r*lda + p]` when `A_ROWS` (rows of A read in place) and `a[r + p*lda]`
/// otherwise (a packed panel has `lda == MR`); `B(p, j)` is `b[p*ldb + j]` (a packed panel has
/// `ldb == NR`).
///
/// # Safety
/// - the instruction set of `S` is available;
/// - `A(r, p)` and `B(p, j)` are readable for every `r < MR`, `p < k`, `j < NR`;
/// - `m <= MR`, `n <= NR`, and every `c + r*rsc + j*csc` with `r < m`, `j < n` is valid for
///   reading and writing and not aliased by `a` or `b`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn tile<S: Simd, const MR: usize, const NV: usize, const A_ROWS: bool>(
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
    let lanes = S::LANES;
    let nr = NV * lanes;
    let (a_step, a_row) = if A_ROWS { (1, lda) } else { (lda, 1) };
    // SAFETY: for the whole body: the caller guarantees the ISA and the extents of a, b and c; every
    // pointer below stays inside them (p < k steps, r < MR or m, v < NV, j < n).
    unsafe {
        let mut acc = [[S::zero(); NV]; MR];
        let mut ap = a;
        let mut bp = b;
        for _ in 0..k {
            let mut bv = [S::zero(); NV];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = S::load(bp.add(v * lanes));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let av = S::splat_load(ap.add(r * a_row));
                for (x, &bvv) in row.iter_mut().zip(bv.iter()) {
                    *x = S::mul_add(av, bvv, *x);
                }
            }
            ap = ap.add(a_step);
            bp = bp.add(ldb);
        }
        let al = S::splat(alpha);
        if m == MR && n == nr && csc == 1 {
            for (r, row) in acc.iter().enumerate() {
                let cr = c.add(r * rsc);
                for (v, &x) in row.iter().enumerate() {
                    let p = cr.add(v * lanes);
                    let out = if accumulate {
                        S::mul_add(al, x, S::load(p))
                    } else {
                        S::mul(al, x)
                    };
                    S::store(p, out);
                }
            }
        } else {
            let mut buf = [[S::zero(); NV]; MR];
            if accumulate {
                let t = buf.as_mut_ptr() as *mut f32;
                for r in 0..m {
                    for j in 0..n {
                        *t.add(r * nr + j) = *c.add(r * rsc + j * csc);
                    }
                }
            }
            for (brow, row) in buf.iter_mut().zip(acc.iter()) {
                for (bx, &x) in brow.iter_mut().zip(row.iter()) {
                    *bx = if accumulate {
                        S::mul_add(al, x, *bx)
                    } else {
                        S::mul(al, x)
                    };
                }
            }
            let t = buf.as_ptr() as *const f32;
            for r in 0..m {
                for j in 0..n {
                    *c.add(r * rsc + j * csc) = *t.add(r * nr + j);
                }
            }
        }
    }
}
