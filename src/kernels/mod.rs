//! The compute kernels: the three per-layer operations of training and tanh, once per
//! instruction set, chosen once at run time.
//!
//! The hot loops of training are exactly
//! - forward: `s = W^T x` ([`Kernels::matvec`]),
//! - backward: `z = W delta` ([`Kernels::matvec_t`]),
//! - update: `W += alpha x delta^T` ([`Kernels::rank1_update`]),
//!
//! plus tanh. [`Kernels`] is a `Copy` table of function pointers that can only be built for an
//! instruction set the CPU runs; a network holds one, so training never asks the CPU again.
//!
//! Each algorithm is written once over a small vector trait and instantiated per instruction
//! set (AVX2+FMA, AVX-512F, NEON) under `#[target_feature]`; [`scalar`] is the reference that
//! every set is tested against.
//!
//! The matrix kernels process the columns of each row in vectors aligned to the vector size
//! (a short head and tail go separately), so the grouping of their sums follows the alignment of
//! the matrix: the same matrix at another alignment can differ in the last bits. A
//! [`crate::Network`] keeps its weights 64-byte aligned, so training and prediction give the
//! same bits for every copy of a network.
//!
//! tanh is within 2 ULP of the exact value for every finite f32 (checked exhaustively), NaN
//! stays NaN, `+-inf` gives exactly `+-1`, `-0.0` stays `-0.0`, `|x| < 2^-12` gives `x`
//! exactly and every input whose correctly rounded tanh is `+-1` gives exactly `+-1`.
//!
//! ```
//! use nnet::kernels::{Isa, Kernels};
//! // every instruction set this CPU can run, the scalar reference first
//! for isa in Isa::available() {
//!     let k = Kernels::for_isa(isa).unwrap();
//!     let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 rows x 3 cols
//!     let mut y = [0.0; 3];
//!     k.matvec(&w, 3, &[1.0, 10.0], &mut y).unwrap();
//!     assert_eq!(y, [41.0, 52.0, 63.0]);
//! }
//! ```

#[cfg(target_arch = "aarch64")]
mod aarch64;
pub(crate) mod aligned;
pub mod gemm;
mod generic;
pub mod scalar;
pub(crate) mod sgd;
pub mod update;
mod vector;
#[cfg(target_arch = "x86_64")]
mod x86_64;

use crate::error::{Error, Result};
use std::sync::OnceLock;
pub use update::UpdateStep;

/// An instruction set that nnet has kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable loops; always available.
    Scalar,
    /// x86_64 AVX2 with FMA.
    Avx2,
    /// x86_64 AVX-512F.
    Avx512,
    /// aarch64 Advanced SIMD.
    Neon,
}

impl Isa {
    /// Every kernel set, from the reference to the widest.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    /// The name used by `NNET_ISA` and `nnet_isa()`: "scalar", "avx2", "avx512" or "neon".
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// Parses a name as accepted by `NNET_ISA` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|i| i.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the kernel set.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2 => has_avx2(),
            Isa::Avx512 => has_avx512(),
            Isa::Neon => has_neon(),
        }
    }

    /// The kernel sets this CPU can run, scalar first, widest last.
    pub fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }

    /// The widest kernel set this CPU can run, ignoring `NNET_ISA`.
    pub fn best_available() -> Isa {
        [Isa::Avx512, Isa::Avx2, Isa::Neon]
            .into_iter()
            .find(|i| i.is_available())
            .unwrap_or(Isa::Scalar)
    }

    /// The kernel set in use for the whole process: `NNET_ISA` when the CPU can run the set it
    /// names, otherwise the widest available one. Read once and cached.
    pub fn selected() -> Isa {
        static SELECTED: OnceLock<Isa> = OnceLock::new();
        *SELECTED.get_or_init(|| {
            std::env::var("NNET_ISA")
                .ok()
                .and_then(|v| Isa::from_name(&v))
                .filter(|i| i.is_available())
                .unwrap_or_else(Isa::best_available)
        })
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && has_avx2()
}
#[cfg(not(target_arch = "x86_64"))]
fn has_avx512() -> bool {
    false
}
#[cfg(target_arch = "aarch64")]
fn has_neon() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}
#[cfg(not(target_arch = "aarch64"))]
fn has_neon() -> bool {
    false
}

type MatvecFn = unsafe fn(&[f32], usize, usize, &[f32], &mut [f32]);
type Rank1Fn = unsafe fn(&mut [f32], usize, usize, f32, &[f32], &[f32]);
type MatvecTRank1Fn = unsafe fn(&mut [f32], usize, usize, &[f32], f32, &[f32], &mut [f32]);
type TanhFn = unsafe fn(&mut [f32]);
type Rank1MatvecFn = unsafe fn(&mut [f32], usize, usize, f32, &[f32], &[f32], &[f32], &mut [f32]);
type SgdPassFn = unsafe fn(&mut sgd::SgdPass) -> Option<f64>;
type UpdateFn = unsafe fn(&UpdateStep, &mut [f32], &[f32], &mut [f32], &mut [f32]);

/// A table of kernels for one instruction set.
///
/// A value exists only for an instruction set that the CPU runs: that is the proof every
/// `unsafe` call through the table relies on. All methods check slice lengths first.
#[derive(Clone, Copy)]
pub struct Kernels {
    isa: Isa,
    matvec: MatvecFn,
    matvec_t: MatvecFn,
    rank1_update: Rank1Fn,
    matvec_t_rank1: MatvecTRank1Fn,
    rank1_update_matvec: Rank1MatvecFn,
    tanh: TanhFn,
    sgd_pass: SgdPassFn,
    update: UpdateFn,
    gemm: gemm::Gemm,
}

impl std::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernels").field("isa", &self.isa).finish()
    }
}

impl Default for Kernels {
    fn default() -> Self {
        Kernels::selected()
    }
}

impl Kernels {
    /// The portable reference kernels.
    pub fn scalar() -> Kernels {
        Kernels {
            isa: Isa::Scalar,
            matvec: scalar::matvec,
            matvec_t: scalar::matvec_t,
            rank1_update: scalar::rank1_update,
            matvec_t_rank1: scalar::matvec_t_rank1,
            rank1_update_matvec: scalar::rank1_update_matvec,
            tanh: scalar::tanh,
            sgd_pass: scalar::sgd_pass,
            update: scalar::update,
            gemm: gemm::Gemm::scalar(),
        }
    }

    /// The kernels for `isa`, or `None` when this CPU cannot run it.
    pub fn for_isa(isa: Isa) -> Option<Kernels> {
        if !isa.is_available() {
            return None;
        }
        let k = match isa {
            Isa::Scalar => Kernels::scalar(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Kernels {
                isa,
                matvec: x86_64::avx2::matvec,
                matvec_t: x86_64::avx2::matvec_t,
                rank1_update: x86_64::avx2::rank1_update,
                matvec_t_rank1: x86_64::avx2::matvec_t_rank1,
                rank1_update_matvec: x86_64::avx2::rank1_update_matvec,
                tanh: x86_64::avx2::tanh,
                sgd_pass: x86_64::avx2::sgd_pass,
                update: x86_64::avx2::update,
                ..Kernels::scalar()
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Kernels {
                isa,
                matvec: x86_64::avx512::matvec,
                matvec_t: x86_64::avx512::matvec_t,
                rank1_update: x86_64::avx512::rank1_update,
                matvec_t_rank1: x86_64::avx512::matvec_t_rank1,
                rank1_update_matvec: x86_64::avx512::rank1_update_matvec,
                tanh: x86_64::avx512::tanh,
                sgd_pass: x86_64::avx512::sgd_pass,
                update: x86_64::avx512::update,
                ..Kernels::scalar()
            },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => Kernels {
                isa,
                matvec: aarch64::neon::matvec,
                matvec_t: aarch64::neon::matvec_t,
                rank1_update: aarch64::neon::rank1_update,
                matvec_t_rank1: aarch64::neon::matvec_t_rank1,
                rank1_update_matvec: aarch64::neon::rank1_update_matvec,
                tanh: aarch64::neon::tanh,
                sgd_pass: aarch64::neon::sgd_pass,
                update: aarch64::neon::update,
                ..Kernels::scalar()
            },
            // not compiled for this architecture (and so never available)
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        Some(Kernels {
            gemm: gemm::Gemm::for_isa(isa)?,
            ..k
        })
    }

    /// The kernels of [`Isa::selected`]: `NNET_ISA` if the CPU runs it, else the widest set.
    pub fn selected() -> Kernels {
        Kernels::for_isa(Isa::selected()).unwrap_or_else(Kernels::scalar)
    }

    /// The instruction set of this table.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// `y = W^T x`: `y[j] = sum_i x[i] * w[i*cols + j]`, with `rows = x.len()`, `cols = y.len()`.
    ///
    /// Errors when `w.len() != x.len() * y.len()`.
    pub fn matvec(&self, w: &[f32], cols: usize, x: &[f32], y: &mut [f32]) -> Result<()> {
        check_matrix(w.len(), x.len(), cols, "matvec")?;
        check_len(y.len(), cols, "matvec output y")?;
        self.matvec_unchecked(w, x.len(), cols, x, y);
        Ok(())
    }

    /// `z = W d`: `z[i] = sum_j w[i*cols + j] * d[j]`, with `rows = z.len()`, `cols = d.len()`.
    ///
    /// Errors when `w.len() != z.len() * d.len()`.
    pub fn matvec_t(&self, w: &[f32], cols: usize, d: &[f32], z: &mut [f32]) -> Result<()> {
        check_matrix(w.len(), z.len(), cols, "matvec_t")?;
        check_len(d.len(), cols, "matvec_t input d")?;
        self.matvec_t_unchecked(w, z.len(), cols, d, z);
        Ok(())
    }

    /// `W += alpha x d^T`: `w[i*cols + j] += alpha * x[i] * d[j]`, `rows = x.len()`, `cols = d.len()`.
    ///
    /// Errors when `w.len() != x.len() * d.len()`.
    pub fn rank1_update(&self, w: &mut [f32], alpha: f32, x: &[f32], d: &[f32]) -> Result<()> {
        check_matrix(w.len(), x.len(), d.len(), "rank1_update")?;
        self.rank1_update_unchecked(w, x.len(), d.len(), alpha, x, d);
        Ok(())
    }

    /// Row by row: `z[i] = sum_j w[i*cols + j] * d[j]` with the old weights, then
    /// `w[i*cols + j] += alpha * x[i] * d[j]`; `rows = x.len() = z.len()`, `cols = d.len()`.
    pub fn matvec_t_rank1(
        &self,
        w: &mut [f32],
        d: &[f32],
        alpha: f32,
        x: &[f32],
        z: &mut [f32],
    ) -> Result<()> {
        check_matrix(w.len(), x.len(), d.len(), "matvec_t_rank1")?;
        check_len(z.len(), x.len(), "matvec_t_rank1 output z")?;
        self.matvec_t_rank1_unchecked(w, x.len(), d.len(), d, alpha, x, z);
        Ok(())
    }

    /// `W += alpha x d^T`, then `y = W^T xn` with the updated weights, in one pass over `W`
    /// (the first layer's SGD update fused with the next sample's forward product); the same
    /// values as [`Kernels::rank1_update`] followed by [`Kernels::matvec`].
    /// `rows = x.len() = xn.len()`, `cols = d.len() = y.len()`.
    ///
    /// ```
    /// use nnet::Kernels;
    /// let k = Kernels::selected();
    /// let mut w = [1.0, 2.0, 3.0, 4.0]; // 2 x 2
    /// let mut y = [0.0; 2];
    /// k.rank1_update_matvec(&mut w, 1.0, &[1.0, 0.0], &[10.0, 20.0], &[1.0, 1.0], &mut y)
    ///     .unwrap();
    /// assert_eq!(w, [11.0, 22.0, 3.0, 4.0]);
    /// assert_eq!(y, [14.0, 26.0]);
    /// ```
    pub fn rank1_update_matvec(
        &self,
        w: &mut [f32],
        alpha: f32,
        x: &[f32],
        d: &[f32],
        xn: &[f32],
        y: &mut [f32],
    ) -> Result<()> {
        check_matrix(w.len(), x.len(), d.len(), "rank1_update_matvec")?;
        check_len(xn.len(), x.len(), "rank1_update_matvec next input xn")?;
        check_len(y.len(), d.len(), "rank1_update_matvec output y")?;
        // SAFETY: `self` exists only for an ISA the CPU runs (see `for_isa`); the lengths were
        // checked above.
        unsafe { (self.rank1_update_matvec)(w, x.len(), d.len(), alpha, x, d, xn, y) };
        Ok(())
    }

    /// Runs one pass of per-sample SGD (see `kernels::sgd`): the sum of the sample errors, or
    /// `None` at the first non-finite one. Panics when a buffer does not fit the shape.
    pub(crate) fn sgd_pass(&self, p: &mut sgd::SgdPass) -> Option<f64> {
        p.check();
        // SAFETY: the ISA is available (construction of `self`) and the shapes were checked.
        unsafe { (self.sgd_pass)(p) }
    }

    /// One optimizer step over every weight in one fused pass (see [`update`]): `w`, `g` and
    /// the `step.state_vectors()` state vectors `s1`, `s2` have one length; a state slice the
    /// rule does not use may have any length. Every kernel set gives bitwise equal results.
    ///
    /// ```
    /// use nnet::kernels::{Kernels, UpdateStep};
    /// let k = Kernels::selected();
    /// let mut w = [1.0, 2.0, 3.0];
    /// let mut v = [0.0; 3];
    /// let step = UpdateStep::Momentum { eta: 0.5, mu: 0.9 };
    /// k.update(&step, &mut w, &[2.0, 0.0, -2.0], &mut v, &mut []).unwrap();
    /// assert_eq!((w, v), ([0.0, 2.0, 4.0], [2.0, 0.0, -2.0]));
    /// ```
    pub fn update(
        &self,
        step: &UpdateStep,
        w: &mut [f32],
        g: &[f32],
        s1: &mut [f32],
        s2: &mut [f32],
    ) -> Result<()> {
        let n = w.len();
        check_len(g.len(), n, "update gradient g")?;
        let ns = step.state_vectors();
        if ns >= 1 {
            check_len(s1.len(), n, "update state s1")?;
        }
        if ns >= 2 {
            check_len(s2.len(), n, "update state s2")?;
        }
        // SAFETY: the ISA is available (construction of `self`) and the lengths were checked.
        unsafe { (self.update)(step, w, g, s1, s2) };
        Ok(())
    }

    /// In-place `tanh` of every element, within 2 ULP of the exact value.
    pub fn tanh(&self, v: &mut [f32]) {
        // SAFETY: `self` exists only for an ISA the CPU runs (see `for_isa`); the kernel reads
        // and writes exactly `v`.
        unsafe { (self.tanh)(v) }
    }

    #[inline]
    pub(crate) fn matvec_unchecked(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        y: &mut [f32],
    ) {
        assert!(w.len() >= rows * cols && x.len() >= rows && y.len() >= cols);
        // SAFETY: the ISA is available (construction of `self`) and the lengths were asserted.
        unsafe { (self.matvec)(w, rows, cols, x, y) }
    }

    #[inline]
    pub(crate) fn matvec_t_unchecked(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        d: &[f32],
        z: &mut [f32],
    ) {
        assert!(w.len() >= rows * cols && d.len() >= cols && z.len() >= rows);
        // SAFETY: the ISA is available (construction of `self`) and the lengths were asserted.
        unsafe { (self.matvec_t)(w, rows, cols, d, z) }
    }

    #[inline]
    pub(crate) fn rank1_update_unchecked(
        &self,
        w: &mut [f32],
        rows: usize,
        cols: usize,
        alpha: f32,
        x: &[f32],
        d: &[f32],
    ) {
        assert!(w.len() >= rows * cols && x.len() >= rows && d.len() >= cols);
        // SAFETY: the ISA is available (construction of `self`) and the lengths were asserted.
        unsafe { (self.rank1_update)(w, rows, cols, alpha, x, d) }
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn matvec_t_rank1_unchecked(
        &self,
        w: &mut [f32],
        rows: usize,
        cols: usize,
        d: &[f32],
        alpha: f32,
        x: &[f32],
        z: &mut [f32],
    ) {
        assert!(w.len() >= rows * cols && x.len() >= rows && d.len() >= cols && z.len() >= rows);
        // SAFETY: the ISA is available (construction of `self`) and the lengths were asserted.
        unsafe { (self.matvec_t_rank1)(w, rows, cols, d, alpha, x, z) }
    }
}

fn check_matrix(len: usize, rows: usize, cols: usize, what: &str) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        Some(n) => Err(Error::ShapeMismatch(format!(
            "{what}: a {rows} x {cols} matrix has {n} elements, got {len}"
        ))),
        None => Err(Error::Overflow(format!(
            "{what}: {rows} x {cols} overflows usize"
        ))),
    }
}

fn check_len(got: usize, expected: usize, what: &str) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch(format!(
            "{what}: expected length {expected}, got {got}"
        )))
    }
}
