//! Blocked single-precision matrix multiplication, `C = beta C + alpha A B`, with packing into
//! contiguous panels and one register-tile micro-kernel per instruction set.
//!
//! The driver follows the classic layered scheme: the k dimension is cut into blocks of at
//! most `kc` steps, A into blocks of `mc` rows and B into blocks of `nc` columns; each block
//! is copied ("packed") into panels of `MR` rows of A and `NR` columns of B laid out in the
//! order the micro-kernel reads them, and the micro-kernel computes one `MR x NR` tile of C
//! in registers. Transposed operands cost nothing extra: the packing reads any row and column
//! stride ([`MatRef::t`]). When C is much narrower than a tile, the driver computes
//! `C^T = B^T A^T` instead, which wastes less of each tile.
//!
//! Every element of C is the sum over k in the same order (blocks of `kc` in turn, each
//! accumulated step by step), whatever the shape of the call and wherever the element falls
//! in a tile: results depend only on the instruction set and the length of k.
//!
//! | instruction set | tile (rows x columns) |
//! | --- | --- |
//! | AVX-512F | 8 x 32 |
//! | AVX2 + FMA | 6 x 16 |
//! | NEON | 8 x 12 |
//! | scalar | 4 x 8 |
//!
//! ```
//! use nnet::kernels::{Kernels, gemm::{MatMut, MatRef}};
//! let k = Kernels::selected();
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
//! let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 x 2
//! let mut c = [0.0; 4];
//! let mut scratch = k.gemm_scratch().unwrap();
//! k.gemm(
//!     1.0,
//!     MatRef::row_major(&a, 2, 3).unwrap(),
//!     MatRef::row_major(&b, 3, 2).unwrap(),
//!     0.0,
//!     MatMut::row_major(&mut c, 2, 2).unwrap(),
//!     &mut scratch,
//! )
//! .unwrap();
//! assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
//! ```

pub(crate) mod micro;
pub mod plan;

use super::cpu::CacheInfo;
use super::{Kernels, TanhFn};
use crate::error::{Error, Result};
pub use plan::Plan;

/// The micro-kernel signature: see [`micro::tile`].
pub(crate) type TileFn = unsafe fn(
    usize,
    *const f32,
    usize,
    *const f32,
    usize,
    *mut f32,
    usize,
    usize,
    usize,
    usize,
    f32,
    bool,
);

/// A packing routine: see [`pack_panels`].
pub(crate) type PackFn = unsafe fn(MatRef, *mut f32, usize);

/// The micro-kernel and packing routines of one instruction set, defined by the `gemm` section
/// of `kernels::generic::instantiate!` (the functions may only be called on a CPU that runs the
/// instruction set).
#[derive(Clone, Copy)]
pub(crate) struct MicroKernel {
    /// Tile rows.
    pub(crate) mr: usize,
    /// Tile columns.
    pub(crate) nr: usize,
    /// A from a packed panel (or any column-major panel: `A(r, p) = a[r + p*lda]`).
    pub(crate) tile_packed: TileFn,
    /// A read in place from row-major rows: `A(r, p) = a[r*lda + p]`.
    pub(crate) tile_rows: TileFn,
    /// Packs a block of A into panels of `mr` rows.
    pub(crate) pack_a: PackFn,
    /// Packs a block of B into panels of `nr` columns.
    pub(crate) pack_b: PackFn,
}

/// The panel sizes of the blocked driver: k-blocks of at most `kc` steps, A-blocks of `mc`
/// rows and B-blocks of `nc` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocking {
    /// The longest k-block.
    pub(crate) kc: usize,
    /// Rows of an A-block (a multiple of the tile rows).
    pub(crate) mc: usize,
    /// Columns of a B-block (a multiple of the tile columns).
    pub(crate) nc: usize,
}

/// The GEMM entry of the kernel table: tile sizes, blocking, the micro-kernels and packing
/// routines of one instruction set. Like [`Kernels`], a value exists only for an instruction
/// set the CPU runs.
#[derive(Clone, Copy)]
pub(crate) struct Gemm {
    mr: usize,
    nr: usize,
    kc: usize,
    mc: usize,
    nc: usize,
    tile_packed: TileFn,
    tile_rows: TileFn,
    pack_a: PackFn,
    pack_b: PackFn,
}

impl Gemm {
    /// The GEMM of `micro` with the panel sizes `blocking`.
    ///
    /// # Safety
    /// The CPU runs the instruction set of `micro`.
    pub(crate) unsafe fn new(micro: MicroKernel, blocking: Blocking) -> Gemm {
        assert!(blocking.kc > 0 && blocking.mc > 0 && blocking.nc > 0);
        assert!(blocking.mc.is_multiple_of(micro.mr) && blocking.nc.is_multiple_of(micro.nr));
        Gemm {
            mr: micro.mr,
            nr: micro.nr,
            kc: blocking.kc,
            mc: blocking.mc,
            nc: blocking.nc,
            tile_packed: micro.tile_packed,
            tile_rows: micro.tile_rows,
            pack_a: micro.pack_a,
            pack_b: micro.pack_b,
        }
    }

    /// The length of k-blocks for a product with `k` steps: at most `kc`, as even as possible.
    fn k_block(&self, k: usize) -> usize {
        let blocks = k.div_ceil(self.kc).max(1);
        k.div_ceil(blocks)
    }

    /// Floats in an `m x k` A packed into panels of `MR` rows.
    pub(crate) fn packed_a_len(&self, m: usize, k: usize) -> usize {
        m.div_ceil(self.mr) * self.mr * k
    }

    /// Floats in a `k x n` B packed into panels of `NR` columns.
    pub(crate) fn packed_b_len(&self, k: usize, n: usize) -> usize {
        n.div_ceil(self.nr) * self.nr * k
    }

    /// Whether `C^T = B^T A^T` computes less than half of the padded tiles of `C = A B` (the
    /// transposed product writes C through a buffer, so it pays only for narrow outputs).
    fn prefer_transposed(&self, m: usize, n: usize) -> bool {
        let cost = |rows: usize, cols: usize| {
            rows.div_ceil(self.mr) * self.mr * cols.div_ceil(self.nr) * self.nr
        };
        2 * cost(n, m) < cost(m, n)
    }
}

/// A read-only matrix view: `rows x cols` elements at `data[i * row_stride + j * col_stride]`.
///
/// Constructors check that every element lies inside `data`; [`MatRef::t`] is the transpose
/// without a copy.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

/// The number of floats spanned by a strided matrix, or an overflow error.
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> Result<usize> {
    if rows == 0 || cols == 0 {
        return Ok(0);
    }
    (rows - 1)
        .checked_mul(rs)
        .and_then(|a| (cols - 1).checked_mul(cs).and_then(|b| a.checked_add(b)))
        .and_then(|e| e.checked_add(1))
        .ok_or_else(|| {
            Error::Overflow(format!(
                "a {rows} x {cols} matrix with strides ({rs}, {cs}) overflows usize"
            ))
        })
}

fn check_extent(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> Result<()> {
    let e = extent(rows, cols, rs, cs)?;
    if e > len {
        return Err(Error::ShapeMismatch(format!(
            "a {rows} x {cols} matrix with strides ({rs}, {cs}) needs {e} values, got {len}"
        )));
    }
    Ok(())
}

impl<'a> MatRef<'a> {
    /// A view of `rows x cols` elements at `data[i * row_stride + j * col_stride]`.
    ///
    /// Errors when an element lies outside `data` or the extent overflows.
    pub fn new(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<MatRef<'a>> {
        check_extent(data.len(), rows, cols, row_stride, col_stride)?;
        Ok(MatRef {
            data,
            rows,
            cols,
            rs: row_stride,
            cs: col_stride,
        })
    }

    /// A row-major view: row stride `cols`, column stride 1. Errors when `data` is shorter
    /// than `rows * cols`.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Result<MatRef<'a>> {
        MatRef::new(data, rows, cols, cols, 1)
    }

    /// The transpose (`cols x rows`), sharing the data.
    pub fn t(self) -> MatRef<'a> {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The element at row `i`, column `j`, or `None` outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<f32> {
        (i < self.rows && j < self.cols).then(|| self.data[i * self.rs + j * self.cs])
    }

    /// The `rows x cols` block starting at `(i0, j0)`; it must lie inside the matrix.
    pub(crate) fn block(&self, i0: usize, j0: usize, rows: usize, cols: usize) -> MatRef<'a> {
        assert!(i0 + rows <= self.rows && j0 + cols <= self.cols);
        let start = if rows == 0 || cols == 0 {
            0
        } else {
            i0 * self.rs + j0 * self.cs
        };
        MatRef {
            data: &self.data[start..],
            rows,
            cols,
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// A mutable matrix view: `rows x cols` distinct elements at
/// `data[i * row_stride + j * col_stride]`.
///
/// Constructors check that every element lies inside `data` and that no two elements share a
/// place; [`MatMut::t`] is the transpose without a copy.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> MatMut<'a> {
    /// A view of `rows x cols` elements at `data[i * row_stride + j * col_stride]`.
    ///
    /// Errors when an element lies outside `data`, the extent overflows, or the strides make
    /// two elements share a place.
    pub fn new(
        data: &'a mut [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<MatMut<'a>> {
        check_extent(data.len(), rows, cols, row_stride, col_stride)?;
        let (rs, cs) = (row_stride, col_stride);
        let distinct = rows <= 1 && (cols <= 1 || cs >= 1)
            || cols <= 1 && rs >= 1
            || cs >= 1 && rs >= cols * cs
            || rs >= 1 && cs >= rows * rs;
        if !distinct {
            return Err(Error::InvalidArgument(format!(
                "strides ({rs}, {cs}) make elements of a {rows} x {cols} output overlap"
            )));
        }
        Ok(MatMut {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A row-major view: row stride `cols`, column stride 1. Errors when `data` is shorter
    /// than `rows * cols`.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> Result<MatMut<'a>> {
        MatMut::new(data, rows, cols, cols, 1)
    }

    /// The transpose (`cols x rows`), sharing the data.
    pub fn t(self) -> MatMut<'a> {
        MatMut {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// A shorter-lived view of the same elements.
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// Row `i` as a slice when the columns are contiguous.
    fn row_slice(&mut self, i: usize) -> Option<&mut [f32]> {
        (i < self.rows && self.cs == 1 && self.cols > 0)
            .then(|| &mut self.data[i * self.rs..i * self.rs + self.cols])
    }
}

/// Packing buffers for [`Kernels::gemm`], sized once for one kernel table and reused by every
/// call (the driver never allocates).
#[derive(Debug, Clone)]
pub struct GemmScratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// A zeroed buffer of `len` floats taken from the allocator's zeroed memory (a large request
/// arrives as untouched zero pages, so a scratch costs little until it is used); fallible.
fn zeroed_lazily(len: usize, what: &str) -> Result<Vec<f32>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<f32>(len)
        .map_err(|_| Error::Overflow(format!("{len} floats for {what} overflow")))?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) } as *mut f32;
    if p.is_null() {
        return Err(Error::OutOfMemory(format!(
            "cannot allocate {len} floats for {what}"
        )));
    }
    // SAFETY: `p` comes from the global allocator with the layout of `[f32; len]`; all bytes
    // are zero, which is the float 0.0, so all `len` elements are initialized.
    Ok(unsafe { Vec::from_raw_parts(p, len, len) })
}

impl GemmScratch {
    fn new(g: &Gemm) -> Result<GemmScratch> {
        Ok(GemmScratch {
            a: zeroed_lazily(g.packed_a_len(g.mc, g.kc), "the GEMM packing buffer of A")?,
            b: zeroed_lazily(g.packed_b_len(g.kc, g.nc), "the GEMM packing buffer of B")?,
        })
    }

    fn fits(&self, g: &Gemm) -> bool {
        self.a.len() >= g.packed_a_len(g.mc, g.kc) && self.b.len() >= g.packed_b_len(g.kc, g.nc)
    }
}

/// One operand of the crate-internal driver: a strided matrix (packed block by block as the
/// driver goes) or a matrix packed in full beforehand.
#[derive(Clone, Copy)]
pub(crate) enum Operand<'a> {
    /// A strided view.
    Mat(MatRef<'a>),
    /// A `k x cols` right operand packed by [`Kernels::pack_b`].
    PackedB {
        data: &'a [f32],
        k: usize,
        cols: usize,
    },
}

/// Packs the `m x k` matrix `src` into panels of `W` rows at `dst` (panel `ip` at
/// `ip * panel_stride`, element `(i, p)` at `p * W + i % W` within it), zero-padding the last
/// panel. A full packing has `panel_stride == k * W`. (Packing B into panels of columns is
/// packing `B^T`.)
///
/// # Safety
/// `panel_stride >= k * W`; `dst` is valid for writing the `ceil(m / W)` panels of `k * W`
/// floats and does not overlap `src`.
#[inline(always)]
pub(crate) unsafe fn pack_panels<const W: usize, T: Transpose8>(
    src: MatRef,
    dst: *mut f32,
    panel_stride: usize,
) {
    let (m, k, rs, cs) = (src.rows, src.cols, src.rs, src.cs);
    if m == 0 || k == 0 {
        return;
    }
    let s = src.data.as_ptr();
    // SAFETY: the MatRef invariant puts every (i, p) with i < m, p < k at an offset inside
    // `src.data`; the writes stay inside the panels the caller provides.
    unsafe {
        for ip in 0..m.div_ceil(W) {
            let i0 = ip * W;
            let rows = W.min(m - i0);
            let d = dst.add(ip * panel_stride);
            let sp = s.add(i0 * rs);
            if rows == W && rs == 1 {
                for p in 0..k {
                    let v = core::ptr::read_unaligned(sp.add(p * cs) as *const [f32; W]);
                    core::ptr::write_unaligned(d.add(p * W) as *mut [f32; W], v);
                }
            } else if rows == W && cs == 1 {
                // a transposing copy, 8 x 8 blocks at a time where the instruction set has a
                // block transpose
                let mut p = 0;
                if T::AVAILABLE && W.is_multiple_of(8) {
                    while p + 8 <= k {
                        for rb in (0..W).step_by(8) {
                            T::transpose8(sp.add(rb * rs + p), rs, d.add(p * W + rb), W);
                        }
                        p += 8;
                    }
                }
                for p in p..k {
                    let mut v = [0.0f32; W];
                    for (r, x) in v.iter_mut().enumerate() {
                        *x = *sp.add(r * rs + p);
                    }
                    core::ptr::write_unaligned(d.add(p * W) as *mut [f32; W], v);
                }
            } else {
                for p in 0..k {
                    let mut v = [0.0f32; W];
                    for (r, x) in v.iter_mut().enumerate().take(rows) {
                        *x = *sp.add(r * rs + p * cs);
                    }
                    core::ptr::write_unaligned(d.add(p * W) as *mut [f32; W], v);
                }
            }
        }
    }
}

impl Gemm {
    /// `C = alpha A B` (`accumulate == false`, C is not read) or `C += alpha A B`, then `tanh`
    /// on every element of C when `tanh` is given.
    ///
    /// Panics (a bug in the caller, never memory unsafety) when shapes or packed lengths do
    /// not match or the scratch belongs to another table.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &self,
        alpha: f32,
        a: Operand,
        b: Operand,
        accumulate: bool,
        mut c: MatMut,
        scratch: &mut GemmScratch,
        tanh: Option<TanhFn>,
    ) {
        let a = match a {
            Operand::Mat(x) => x,
            Operand::PackedB { .. } => panic!("a packed B cannot be the left operand"),
        };
        let (m, ka) = (a.rows, a.cols);
        let (kb, n) = match b {
            Operand::Mat(x) => (x.rows, x.cols),
            Operand::PackedB { data, k, cols } => {
                assert!(
                    data.len() >= self.packed_b_len(k, cols),
                    "packed B too short"
                );
                (k, cols)
            }
        };
        assert!(
            ka == kb && c.rows == m && c.cols == n,
            "gemm shapes: A {m} x {ka}, B {kb} x {n}, C {} x {}",
            c.rows,
            c.cols
        );
        assert!(scratch.fits(self), "scratch from another kernel table");
        if m == 0 || n == 0 {
            return;
        }
        if let Operand::Mat(bm) = b
            && self.prefer_transposed(m, n)
        {
            self.blocked(
                alpha,
                bm.t(),
                Operand::Mat(a.t()),
                accumulate,
                c.reborrow().t(),
                scratch,
                None,
            );
            if let Some(f) = tanh {
                tanh_rows(&mut c, f);
            }
            return;
        }
        if c.cs != 1 {
            self.blocked(alpha, a, b, accumulate, c.reborrow(), scratch, None);
            if let Some(f) = tanh {
                tanh_rows(&mut c, f);
            }
            return;
        }
        self.blocked(alpha, a, b, accumulate, c, scratch, tanh);
    }

    /// The blocked loops over checked operands: B-blocks of `nc` columns, k-blocks, A-blocks
    /// of `mc` rows, each pair of packed blocks multiplied by [`Gemm::macro_kernel`]; `tanh` is
    /// applied tile by tile after the last k-block (only when C's columns are contiguous).
    #[allow(clippy::too_many_arguments)]
    fn blocked(
        &self,
        alpha: f32,
        a: MatRef,
        b: Operand,
        accumulate: bool,
        mut c: MatMut,
        scratch: &mut GemmScratch,
        tanh: Option<TanhFn>,
    ) {
        let (m, n, k) = (c.rows, c.cols, a.cols);
        if k == 0 {
            if !accumulate {
                for i in 0..m {
                    for j in 0..n {
                        c.data[i * c.rs + j * c.cs] = 0.0;
                    }
                }
            }
            if let Some(f) = tanh {
                tanh_rows(&mut c, f);
            }
            return;
        }
        let Blocking { kc, mc, nc } = self.blocking_for(k, n, &b);
        let out = Out {
            ptr: c.data.as_mut_ptr(),
            rs: c.rs,
            cs: c.cs,
            tanh: if c.cs == 1 { tanh } else { None },
        };
        for jc in (0..n).step_by(nc) {
            let ncb = nc.min(n - jc);
            for pc in (0..k).step_by(kc) {
                let kcb = kc.min(k - pc);
                let bp = self.pack_b_block(b, pc, jc, kcb, ncb, &mut scratch.b);
                for ic in (0..m).step_by(mc) {
                    let block = Block {
                        ic,
                        jc,
                        pc,
                        mcb: mc.min(m - ic),
                        ncb,
                        kcb,
                    };
                    let ap = self.pack_a_block(a, &block, &mut scratch.a);
                    let acc = accumulate || pc > 0;
                    let last = pc + kcb == k;
                    // SAFETY: `out` is the checked view `c`, borrowed mutably for the whole
                    // call and distinct from the operands; the block lies inside it.
                    unsafe { self.macro_kernel(alpha, a, ap, b, bp, &block, acc, last, &out) };
                }
            }
        }
    }

    /// The blocking of a product with `k` steps and `n` columns: k-blocks as even as possible
    /// ([`Gemm::k_block`]), the table's A-blocks, and B-blocks of the table's width (a packed B
    /// is one block: it is packed in full beforehand).
    fn blocking_for(&self, k: usize, n: usize, b: &Operand) -> Blocking {
        Blocking {
            kc: self.k_block(k),
            mc: self.mc,
            nc: match b {
                Operand::Mat(_) => self.nc,
                Operand::PackedB { .. } => n.div_ceil(self.nr) * self.nr,
            },
        }
    }

    /// Packs the `kcb x ncb` block of B at `(pc, jc)` into `buf` and returns its panels. Full
    /// panels of a B read in place ([`b_in_place`]) are not packed (only the last, partial
    /// one); a packed B is returned as it is, at k-offset `pc`.
    fn pack_b_block(
        &self,
        b: Operand,
        pc: usize,
        jc: usize,
        kcb: usize,
        ncb: usize,
        buf: &mut [f32],
    ) -> Panels {
        let nr = self.nr;
        match b {
            Operand::Mat(x) => {
                let blk = x.block(pc, jc, kcb, ncb);
                assert!(buf.len() >= self.packed_b_len(kcb, ncb));
                if b_in_place(&x) {
                    let full = ncb / nr * nr;
                    if full < ncb {
                        // SAFETY: the last panel of the block, inside `buf` (asserted above),
                        // which does not overlap the operands; the routine runs on this CPU
                        // (construction of `Gemm`).
                        unsafe {
                            (self.pack_b)(
                                blk.block(0, full, kcb, ncb - full),
                                buf.as_mut_ptr().add(full * kcb),
                                kcb * nr,
                            )
                        };
                    }
                } else {
                    // SAFETY: as above, for every panel of the block.
                    unsafe { (self.pack_b)(blk, buf.as_mut_ptr(), kcb * nr) };
                }
                Panels {
                    ptr: buf.as_ptr(),
                    k: kcb,
                    off: 0,
                }
            }
            Operand::PackedB { data, k, .. } => Panels {
                ptr: data.as_ptr(),
                k,
                off: pc,
            },
        }
    }

    /// Packs the `mcb x kcb` block of A at `(ic, pc)` into `buf` and returns its panels. Full
    /// panels of a row- or column-major A are read in place by the micro-kernel and not
    /// packed.
    fn pack_a_block(&self, a: MatRef, block: &Block, buf: &mut [f32]) -> Panels {
        let (mr, kcb) = (self.mr, block.kcb);
        let blk = a.block(block.ic, block.pc, block.mcb, kcb);
        assert!(buf.len() >= self.packed_a_len(block.mcb, kcb));
        for ir in (0..block.mcb).step_by(mr) {
            let mm = mr.min(block.mcb - ir);
            if mm < mr || (a.cs != 1 && a.rs != 1) {
                // SAFETY: panel ir / mr of the block, inside `buf` (asserted above), which does
                // not overlap the operands; the routine runs on this CPU (construction of
                // `Gemm`).
                unsafe {
                    (self.pack_a)(
                        blk.block(ir, 0, mm, kcb),
                        buf.as_mut_ptr().add(ir * kcb),
                        kcb * mr,
                    )
                };
            }
        }
        Panels {
            ptr: buf.as_ptr(),
            k: kcb,
            off: 0,
        }
    }

    /// Multiplies one A-block by one B-block into C tile by tile (`C = alpha A B` or, with
    /// `acc`, `C += alpha A B`), then, after the `last` k-block, applies `out.tanh` to each
    /// tile while it is in cache.
    ///
    /// # Safety
    /// `ap` and `bp` are the panels of `block` returned by [`Gemm::pack_a_block`] and
    /// [`Gemm::pack_b_block`] (still alive); `out` points to a C that holds `block` and is not
    /// accessed otherwise during the call.
    #[allow(clippy::too_many_arguments)]
    unsafe fn macro_kernel(
        &self,
        alpha: f32,
        a: MatRef,
        ap: Panels,
        b: Operand,
        bp: Panels,
        block: &Block,
        acc: bool,
        last: bool,
        out: &Out,
    ) {
        let (mr, nr) = (self.mr, self.nr);
        let Block {
            ic,
            jc,
            pc,
            mcb,
            ncb,
            kcb,
        } = *block;
        for jr in (0..ncb).step_by(nr) {
            let nn = nr.min(ncb - jr);
            let (bpanel, ldb) = match b {
                Operand::Mat(x) if nn == nr && b_in_place(&x) => {
                    // SAFETY: element (pc, jc + jr) lies inside the view.
                    (unsafe { x.data.as_ptr().add(pc * x.rs + jc + jr) }, x.rs)
                }
                // SAFETY: panel jr / nr of the packed block at its k-offset: inside the packed
                // B (scratch or checked length), kcb steps of nr follow.
                _ => (unsafe { bp.panel(jr / nr, nr) }, nr),
            };
            for ir in (0..mcb).step_by(mr) {
                let mm = mr.min(mcb - ir);
                // the A panel: in place (full panels of a row- or column-major A) or packed
                let (tile, apanel, lda) = if mm == mr && (a.cs == 1 || a.rs == 1) {
                    let off = (ic + ir) * a.rs + pc * a.cs;
                    // SAFETY: element (ic+ir, pc) lies inside the view.
                    let p = unsafe { a.data.as_ptr().add(off) };
                    if a.cs == 1 {
                        (self.tile_rows, p, a.rs)
                    } else {
                        (self.tile_packed, p, a.cs)
                    }
                } else {
                    // SAFETY: as for B, panel ir / mr of the packed A block.
                    (self.tile_packed, unsafe { ap.panel(ir / mr, mr) }, mr)
                };
                // SAFETY: rows ic+ir.. and columns jc+jr.. of C, inside the view (contract).
                let ct = unsafe { out.ptr.add((ic + ir) * out.rs + (jc + jr) * out.cs) };
                // SAFETY: the tile runs on this CPU (construction of `Gemm`); A holds mr rows
                // of kcb steps (a full panel of the view, or packed), B kcb steps of nr floats;
                // the mm x nn tile of C is inside the view and distinct from the operands
                // (the contract of this function).
                unsafe {
                    tile(
                        kcb, apanel, lda, bpanel, ldb, ct, out.rs, out.cs, mm, nn, alpha, acc,
                    )
                };
                if last && let Some(f) = out.tanh {
                    for r in 0..mm {
                        // SAFETY: row r of the tile, nn contiguous floats (`out.tanh` is set
                        // only when C's columns are contiguous) inside C; no other reference
                        // to them is live.
                        let row =
                            unsafe { core::slice::from_raw_parts_mut(ct.add(r * out.rs), nn) };
                        // SAFETY: `f` comes from the same kernel table, whose ISA the CPU
                        // runs; it touches only `row`.
                        unsafe { f(row) };
                    }
                }
            }
        }
    }
}

/// The position and size of one block of the product: rows `ic..ic + mcb` of A and C,
/// columns `jc..jc + ncb` of B and C, steps `pc..pc + kcb` of k.
#[derive(Clone, Copy)]
struct Block {
    ic: usize,
    jc: usize,
    pc: usize,
    mcb: usize,
    ncb: usize,
    kcb: usize,
}

/// The packed panels of one block: panel `i` of width `w` starts at `ptr + (i * k + off) * w`
/// (`k` steps per panel, the block starting at step `off`).
#[derive(Clone, Copy)]
struct Panels {
    ptr: *const f32,
    k: usize,
    off: usize,
}

impl Panels {
    /// The start of panel `i` of width `w`.
    ///
    /// # Safety
    /// Panel `i` exists in the packed data.
    unsafe fn panel(&self, i: usize, w: usize) -> *const f32 {
        // SAFETY: the caller guarantees the panel.
        unsafe { self.ptr.add(i * self.k * w + self.off * w) }
    }
}

/// The output of the blocked loops: C at `ptr` with strides `rs`, `cs`, and the tanh to apply
/// after the last k-block.
struct Out {
    ptr: *mut f32,
    rs: usize,
    cs: usize,
    tanh: Option<TanhFn>,
}

/// An 8 x 8 block transpose for the packing routines.
pub(crate) trait Transpose8 {
    /// Whether [`Transpose8::transpose8`] may be called.
    const AVAILABLE: bool;
    /// Writes row `r` of the 8 x 8 block at `src` (rows `rs` floats apart) as column `r` of
    /// the block at `dst` (rows `ds` floats apart).
    ///
    /// # Safety
    /// `AVAILABLE`, the instruction set is available, and both blocks are valid.
    unsafe fn transpose8(src: *const f32, rs: usize, dst: *mut f32, ds: usize);
}

/// No block transpose: element by element.
pub(crate) struct NoTranspose8;

impl Transpose8 for NoTranspose8 {
    const AVAILABLE: bool = false;
    unsafe fn transpose8(_: *const f32, _: usize, _: *mut f32, _: usize) {}
}

/// Whether the micro-kernel reads full panels of `b` in place: rows of contiguous columns
/// whose stride is not a multiple of 4 KiB (such strides put every row of a panel in the same
/// cache sets).
fn b_in_place(b: &MatRef) -> bool {
    b.cs == 1 && !b.rs.is_multiple_of(1024)
}

/// `tanh` on every element of C, row by row (through a small buffer when the columns are not
/// contiguous).
fn tanh_rows(c: &mut MatMut, f: TanhFn) {
    let (rows, cols, rs, cs) = (c.rows, c.cols, c.rs, c.cs);
    if c.cs == 1 {
        for i in 0..rows {
            if let Some(row) = c.row_slice(i) {
                // SAFETY: `f` comes from a kernel table whose ISA the CPU runs.
                unsafe { f(row) };
            }
        }
        return;
    }
    let mut buf = [0.0f32; 64];
    for i in 0..rows {
        for j0 in (0..cols).step_by(64) {
            let len = 64.min(cols - j0);
            for (j, b) in buf[..len].iter_mut().enumerate() {
                *b = c.data[i * rs + (j0 + j) * cs];
            }
            // SAFETY: as above.
            unsafe { f(&mut buf[..len]) };
            for (j, &b) in buf[..len].iter().enumerate() {
                c.data[i * rs + (j0 + j) * cs] = b;
            }
        }
    }
}

impl Kernels {
    /// Packing buffers for [`Kernels::gemm`] with this table.
    pub fn gemm_scratch(&self) -> Result<GemmScratch> {
        GemmScratch::new(&self.gemm)
    }

    /// The register tile of this table's GEMM micro-kernel: `(rows, columns)`.
    pub fn gemm_tile(&self) -> (usize, usize) {
        (self.gemm.mr, self.gemm.nr)
    }

    /// The GEMM blocking in use: `(kc, mc, nc)` (see [`plan`]).
    pub fn gemm_blocking(&self) -> (usize, usize, usize) {
        (self.gemm.kc, self.gemm.mc, self.gemm.nc)
    }

    /// The blocking [`Plan`] of this table's tile on the caches of this CPU
    /// ([`CacheInfo::detect`]).
    pub fn gemm_plan(&self) -> Plan {
        Plan::new(&CacheInfo::detect(), self.gemm.mr, self.gemm.nr)
    }

    /// This table with its GEMM blocked as `plan` says. The blocking changes the grouping of
    /// the sums over k (and so the last bits of results) when it changes `kc`.
    ///
    /// Errors when the plan is for another tile or a size is zero or not a multiple of the
    /// tile.
    pub fn with_gemm_plan(self, plan: &Plan) -> Result<Kernels> {
        let g = self.gemm;
        let b = plan.blocking();
        if (plan.mr, plan.nr) != (g.mr, g.nr)
            || b.kc == 0
            || b.mc == 0
            || b.nc == 0
            || !b.mc.is_multiple_of(g.mr)
            || !b.nc.is_multiple_of(g.nr)
        {
            return Err(Error::InvalidArgument(format!(
                "gemm plan {plan:?} does not fit the {} x {} tile",
                g.mr, g.nr
            )));
        }
        Ok(Kernels {
            gemm: Gemm {
                kc: b.kc,
                mc: b.mc,
                nc: b.nc,
                ..g
            },
            ..self
        })
    }

    /// `C = beta C + alpha A B` for an `m x k` A, a `k x n` B and an `m x n` C, any strides.
    /// With `beta == 0` C is only written (NaN in C does not propagate).
    ///
    /// Errors when the shapes do not match or `scratch` was made by a table of another
    /// instruction set.
    pub fn gemm(
        &self,
        alpha: f32,
        a: MatRef,
        b: MatRef,
        beta: f32,
        c: MatMut,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        if a.cols != b.rows || c.rows != a.rows || c.cols != b.cols {
            return Err(Error::ShapeMismatch(format!(
                "gemm: A is {} x {}, B is {} x {}, C is {} x {}",
                a.rows, a.cols, b.rows, b.cols, c.rows, c.cols
            )));
        }
        if !scratch.fits(&self.gemm) {
            return Err(Error::InvalidArgument(
                "gemm: the scratch was made for another kernel table".into(),
            ));
        }
        let accumulate = beta != 0.0;
        if accumulate && beta != 1.0 {
            for i in 0..c.rows {
                for j in 0..c.cols {
                    c.data[i * c.rs + j * c.cs] *= beta;
                }
            }
        }
        self.gemm.run(
            alpha,
            Operand::Mat(a),
            Operand::Mat(b),
            accumulate,
            c,
            scratch,
            None,
        );
        Ok(())
    }

    /// `C = alpha A B` or `C += alpha A B` over packed or strided operands, then `tanh` on C
    /// when `tanh_output`. Panics on mismatched shapes (a bug in the caller).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gemm_op(
        &self,
        alpha: f32,
        a: Operand,
        b: Operand,
        accumulate: bool,
        c: MatMut,
        scratch: &mut GemmScratch,
        tanh_output: bool,
    ) {
        let tanh = tanh_output.then_some(self.tanh);
        self.gemm.run(alpha, a, b, accumulate, c, scratch, tanh);
    }

    /// Floats of a `k x n` right operand packed by [`Kernels::pack_b`].
    pub(crate) fn packed_b_len(&self, k: usize, n: usize) -> usize {
        self.gemm.packed_b_len(k, n)
    }

    /// Packs all of `b` (`k x n`) into `dst` for [`Operand::PackedB`].
    pub(crate) fn pack_b(&self, b: MatRef, dst: &mut [f32]) {
        self.pack_b_rows(b, dst, b.rows, 0);
    }

    /// Packs `b` as rows `p0..p0 + b.rows()` of a `k_total x n` packed right operand held in
    /// `dst` (the other rows are left as they are).
    pub(crate) fn pack_b_rows(&self, b: MatRef, dst: &mut [f32], k_total: usize, p0: usize) {
        let nr = self.gemm.nr;
        assert!(p0 + b.rows <= k_total);
        assert!(dst.len() >= self.gemm.packed_b_len(k_total, b.cols));
        if b.rows == 0 || b.cols == 0 {
            return;
        }
        // SAFETY: panel jp is written at jp * k_total * nr + p0 * nr .. + b.rows * nr, inside
        // `dst` (asserted); `dst`, borrowed mutably, is distinct from `b`; the packing routine
        // comes from a table whose ISA the CPU runs.
        unsafe { (self.gemm.pack_b)(b, dst.as_mut_ptr().add(p0 * nr), k_total * nr) }
    }
}
