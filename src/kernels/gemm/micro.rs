//! The register-tile micro-kernel, written once over [`Vector`] and instantiated per
//! instruction set by the `gemm` section of `kernels::generic::instantiate!` inside
//! `#[target_feature]` wrappers (the scalar set with the portable lanes of
//! `kernels::portable`).
//!
//! A tile is `MR` rows by `NR = NV * LANES` columns of C. The kernel reads a packed A panel
//! (`k` steps of `MR` values) and a packed B panel (`k` steps of `NR` values), keeps the
//! `MR x NV` accumulator vectors in registers, and writes
//! `C = alpha * AB` or `C = C + alpha * AB` (one multiply-add per element, fused where
//! [`Vector::FUSED`]). Partial tiles (fewer rows or columns, or a C whose columns are not
//! contiguous) go through a stack buffer with the same vector arithmetic, so an element's value
//! never depends on where the tile falls.

use crate::kernels::vector::Vector;

/// Computes one `MR x (NV * V::LANES)` tile: `acc[r][j] = sum_{p<k} A(r, p) * b[p*NR + j]` in
/// order of `p`, then writes rows `r < m`, columns `j < n` of C at `c + r*rsc + j*csc` as
/// `alpha * acc` (`accumulate == false`, C is not read) or `C + alpha * acc`.
///
/// `A(r, p)` is `a[r*lda + p]` when `A_ROWS` (rows of A read in place) and `a[r + p*lda]`
/// otherwise (a packed panel has `lda == MR`); `B(p, j)` is `b[p*ldb + j]` (a packed panel has
/// `ldb == NR`).
///
/// # Safety
/// - the instruction set of `V` is available;
/// - `A(r, p)` and `B(p, j)` are readable for every `r < MR`, `p < k`, `j < NR`;
/// - `m <= MR`, `n <= NR`, and every `c + r*rsc + j*csc` with `r < m`, `j < n` is valid for
///   reading and writing and not aliased by `a` or `b`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn tile<V: Vector, const MR: usize, const NV: usize, const A_ROWS: bool>(
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
    let lanes = V::LANES;
    let nr = NV * lanes;
    let (a_step, a_row) = if A_ROWS { (1, lda) } else { (lda, 1) };
    // SAFETY: for the whole body: the caller guarantees the ISA and the extents of a, b and c; every
    // pointer below stays inside them (p < k steps, r < MR or m, v < NV, j < n); `buf` is read
    // as `MR * nr` floats, which `Vector`'s `repr(transparent)` layout guarantees.
    unsafe {
        let mut acc = [[V::splat(0.0); NV]; MR];
        let mut ap = a;
        let mut bp = b;
        for _ in 0..k {
            let mut bv = [V::splat(0.0); NV];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = V::load(bp.add(v * lanes));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let av = V::splat(*ap.add(r * a_row));
                for (x, &bvv) in row.iter_mut().zip(bv.iter()) {
                    *x = av.mul_add(bvv, *x);
                }
            }
            ap = ap.add(a_step);
            bp = bp.add(ldb);
        }
        let al = V::splat(alpha);
        if m == MR && n == nr && csc == 1 {
            for (r, row) in acc.iter().enumerate() {
                let cr = c.add(r * rsc);
                for (v, &x) in row.iter().enumerate() {
                    let p = cr.add(v * lanes);
                    let out = if accumulate {
                        al.mul_add(x, V::load(p))
                    } else {
                        al.mul(x)
                    };
                    out.store(p);
                }
            }
        } else {
            let mut buf = [[V::splat(0.0); NV]; MR];
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
                        al.mul_add(x, *bx)
                    } else {
                        al.mul(x)
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
