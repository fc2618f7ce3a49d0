//! Mini-batch training as matrix products over many rows at once (the [`Gemm`] step), and the
//! packed weights and batch activations that batched evaluation shares.
//!
//! For a batch of B rows, layer `l` computes `S = X W` (`B x d(l)`, X with its column of ones),
//! the backward pass `Delta_prev = (Delta W^T)` without the bias row's column, times
//! `1 - X^2`, and the step's gradient `g = X^T Delta / B + lambda dOmega/dw`. Plain SGD applies
//! `W <- W - eta g` inside the products; every other optimizer of SPEC section 6 gets `g`
//! written into a buffer and applies its state step to it.
//!
//! Work is split so that results never depend on the number of threads: a batch is cut into
//! chunks of [`CHUNK_ROWS`] rows (forward and backward pass per chunk); the weight update is cut
//! into one task per column panel of each layer (plain SGD) or per block of rows of each layer
//! (the other optimizers), and each task adds the chunks' products `X_c^T Delta_c` in chunk
//! order. Every value is computed by the same operations in the same order whichever thread
//! runs it, and each optimizer's rule is elementwise, so a block's step equals the whole one's.
//!
//! During a plain SGD training call the weights live in the GEMM's packed layout (panels of
//! `NR` columns), which the forward product reads directly and the update writes in place; they
//! are copied back to the network's row-major layout after every epoch. With any other
//! optimizer the weights, the gradient and the optimizer's state stay row-major (the state is
//! then the same whichever path trains), and the weights are packed for the products at the
//! start of every step.

use std::sync::Mutex;

use rayon::ThreadPool;
use rayon::prelude::*;

use super::plan::parallel_work;
use super::step::{Sets, Step};
use super::update::Stateful;
use crate::error::{Error, Result, try_zeroed};
use crate::kernels::Kernels;
use crate::kernels::delta;
use crate::kernels::gemm::{GemmScratch, MatMut, MatRef, Operand};
use crate::network::{Network, Output};
use crate::optim::OptimizerState;
use crate::regularization::Regularization;

/// Rows per chunk of a batch: the unit of parallel work, fixed (never derived from the thread
/// count).
pub(crate) const CHUNK_ROWS: usize = 64;

/// Every layer's weights in the packed layout of the forward product's right operand.
#[derive(Debug, Clone)]
pub(crate) struct PackedNet {
    data: Vec<f32>,
    /// Start of each layer (1-based: `offs[l - 1]`), then the total.
    offs: Vec<usize>,
    nr: usize,
}

impl PackedNet {
    pub(crate) fn new(net: &Network) -> Result<PackedNet> {
        let k = net.kernels();
        let layers = net.layers();
        let mut offs = vec![0];
        let mut total = 0usize;
        for l in 1..layers.len() {
            total += k.packed_b_len(layers[l - 1] + 1, layers[l]);
            offs.push(total);
        }
        Ok(PackedNet {
            data: try_zeroed(total, "the packed weights")?,
            offs,
            nr: k.gemm_tile().1,
        })
    }

    pub(super) fn layer(&self, l: usize) -> &[f32] {
        &self.data[self.offs[l - 1]..self.offs[l]]
    }

    /// Copies the network's weights in.
    pub(crate) fn pack(&mut self, net: &Network) {
        let k = net.kernels();
        let layers = net.layers();
        let off = net.offsets();
        for l in 1..layers.len() {
            let w = &net.weights()[off[l - 1]..off[l]];
            let src = MatRef::row_major(w, layers[l - 1] + 1, layers[l]).expect("layer shape");
            k.pack_b(src, &mut self.data[self.offs[l - 1]..self.offs[l]]);
        }
    }

    /// Copies the weights back into the network.
    pub(crate) fn unpack(&self, net: &mut Network) {
        let layers = net.layers().to_vec();
        let off = net.offsets().to_vec();
        let nr = self.nr;
        let w_all = net.weights_mut();
        for l in 1..layers.len() {
            let (rows, cols) = (layers[l - 1] + 1, layers[l]);
            let w = &mut w_all[off[l - 1]..off[l]];
            let p = &self.data[self.offs[l - 1]..self.offs[l]];
            for (jp, panel) in p.chunks_exact(rows * nr).enumerate() {
                let j0 = jp * nr;
                let nn = nr.min(cols - j0);
                for (i, src) in panel.chunks_exact(nr).enumerate() {
                    w[i * cols + j0..i * cols + j0 + nn].copy_from_slice(&src[..nn]);
                }
            }
        }
    }
}

/// Activations of up to `cap` rows: `acts[l]` is `cap x (d(l) + 1)`, column 0 holding the
/// constant 1.
#[derive(Debug)]
pub(crate) struct Acts {
    pub(super) acts: Vec<Vec<f32>>,
    pub(super) scratch: GemmScratch,
}

impl Acts {
    pub(crate) fn new(net: &Network, cap: usize) -> Result<Acts> {
        let mut acts = Vec::with_capacity(net.layers().len());
        for &d in net.layers() {
            let n = cap
                .checked_mul(d + 1)
                .ok_or_else(|| Error::Overflow(format!("{cap} rows of {} values", d + 1)))?;
            let mut a = try_zeroed(n, "the batch activations")?;
            for row in a.chunks_exact_mut(d + 1) {
                row[0] = 1.0;
            }
            acts.push(a);
        }
        Ok(Acts {
            acts,
            scratch: net.kernels().gemm_scratch()?,
        })
    }

    /// Input row `r` (after its leading 1).
    pub(super) fn input_row(&mut self, width: usize, r: usize) -> &mut [f32] {
        &mut self.acts[0][r * (width + 1) + 1..(r + 1) * (width + 1)]
    }

    /// Output row `r` (after its leading 1).
    pub(super) fn output_row(&self, width: usize, r: usize) -> &[f32] {
        let a = self.acts.last().expect("L >= 1");
        &a[r * (width + 1) + 1..(r + 1) * (width + 1)]
    }

    /// The forward pass of `rows` rows already in the input buffer, with the packed weights
    /// `w`.
    pub(super) fn forward(&mut self, net: &Network, w: &PackedNet, rows: usize) {
        let k = net.kernels();
        let layers = net.layers();
        let nr = k.gemm_tile().1;
        let big_l = layers.len() - 1;
        for l in 1..=big_l {
            let (kin, cols) = (layers[l - 1] + 1, layers[l]);
            let (prev, next) = self.acts.split_at_mut(l);
            let x = MatRef::row_major(&prev[l - 1], rows, kin).expect("activation shape");
            let s = MatMut::new(&mut next[0][1..], rows, cols, cols + 1, 1).expect("shape");
            let tanh = l < big_l || net.output() == Output::Tanh;
            let b = if cols <= nr {
                // one panel is also a strided matrix, which lets the driver pick the better
                // orientation for a narrow layer
                Operand::Mat(MatRef::new(w.layer(l), kin, cols, nr, 1).expect("panel"))
            } else {
                Operand::PackedB {
                    data: w.layer(l),
                    k: kin,
                    cols,
                }
            };
            k.gemm_op(1.0, Operand::Mat(x), b, false, s, &mut self.scratch, tanh);
        }
    }
}

/// The workspace of the calling rayon worker (any one outside a pool). Buffers hold no state
/// between chunks, so which one a chunk gets never changes a result.
pub(super) fn lock_for_thread<T>(ws: &[Mutex<T>]) -> std::sync::MutexGuard<'_, T> {
    let t = rayon::current_thread_index().unwrap_or(0) % ws.len();
    ws[t].lock().unwrap_or_else(|e| e.into_inner())
}

/// One chunk's training buffers: activations and deltas (`delta(l)` is `cap x d(l)`).
#[derive(Debug)]
struct Chunk {
    acts: Acts,
    deltas: Vec<Vec<f32>>,
    rows: usize,
    loss: f64,
}

/// One task of the update: columns `j0..j0 + nn` (one packed panel) of layer `l`, stored at
/// `start..end` of the packed weights.
#[derive(Debug, Clone, Copy)]
struct Task {
    l: usize,
    j0: usize,
    nn: usize,
    start: usize,
    end: usize,
}

/// One task of an optimizer step: rows `i0..i0 + rows` of layer `l`, the network's flat
/// weights `start..end`.
#[derive(Debug, Clone, Copy)]
struct RowTask {
    l: usize,
    i0: usize,
    rows: usize,
    start: usize,
    end: usize,
}

/// Weights per task of an optimizer step (rounded to whole rows, a multiple of the tile's
/// rows): the block's weights, gradient and state (up to 256 KiB) stay in a core's L2 cache
/// between the gradient product and the update. Fixed, never derived from the thread count.
const ROW_TASK_WEIGHTS: usize = 16 * 1024;

/// The same block of the weights, the gradient and the optimizer's state vectors (a state
/// vector the optimizer does not keep is empty in every block).
struct Blocks<'a> {
    w: &'a mut [f32],
    g: &'a mut [f32],
    s1: &'a mut [f32],
    s2: &'a mut [f32],
}

/// A set of buffers that a task list cuts into consecutive blocks.
trait Split: Sized + Send {
    /// The first `at` values and the rest.
    fn split_at(self, at: usize) -> (Self, Self);
}

impl Split for &mut [f32] {
    fn split_at(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

impl Split for Blocks<'_> {
    fn split_at(self, at: usize) -> (Self, Self) {
        let (w0, w1) = self.w.split_at_mut(at);
        let (g0, g1) = self.g.split_at_mut(at);
        let (a0, a1) = split_state(self.s1, at);
        let (b0, b1) = split_state(self.s2, at);
        (
            Blocks {
                w: w0,
                g: g0,
                s1: a0,
                s2: b0,
            },
            Blocks {
                w: w1,
                g: g1,
                s1: a1,
                s2: b1,
            },
        )
    }
}

/// A state vector cut like the weights, or two empty halves of an unused (empty) one.
fn split_state(s: &mut [f32], at: usize) -> (&mut [f32], &mut [f32]) {
    let at = if s.is_empty() { 0 } else { at };
    s.split_at_mut(at)
}

/// A task that owns the consecutive values `start..end` of a task list's buffers.
trait Span {
    fn span(&self) -> (usize, usize);
}

impl Span for Task {
    fn span(&self) -> (usize, usize) {
        (self.start, self.end)
    }
}

impl Span for RowTask {
    fn span(&self) -> (usize, usize) {
        (self.start, self.end)
    }
}

/// The buffers of mini-batch training, allocated once per training call.
#[derive(Debug)]
pub(crate) struct BatchTrainer {
    w: PackedNet,
    /// `W(l)` without its bias row, transposed and packed (`d(l) x d(l-1)`), for `l >= 2`.
    wt: Vec<Vec<f32>>,
    chunks: Vec<Chunk>,
    tasks: Vec<Task>,
    /// The blocks of rows of the optimizer step ([`BatchTrainer::step_optimizer`]).
    row_tasks: Vec<RowTask>,
    layers: Vec<usize>,
    scratch: Vec<Mutex<GemmScratch>>,
}

impl BatchTrainer {
    pub(crate) fn new(net: &Network, batch: usize, threads: usize) -> Result<BatchTrainer> {
        let k = net.kernels();
        let layers = net.layers();
        let nr = k.gemm_tile().1;
        let w = PackedNet::new(net)?;
        let mut wt = Vec::new();
        for l in 2..layers.len() {
            wt.push(try_zeroed(
                k.packed_b_len(layers[l], layers[l - 1]),
                "the transposed weights",
            )?);
        }
        let n_chunks = batch.div_ceil(CHUNK_ROWS);
        let cap = batch.min(CHUNK_ROWS);
        let mut chunks = Vec::with_capacity(n_chunks);
        for _ in 0..n_chunks {
            let mut deltas = Vec::new();
            for &d in &layers[1..] {
                deltas.push(try_zeroed(cap * d, "the batch deltas")?);
            }
            chunks.push(Chunk {
                acts: Acts::new(net, cap)?,
                deltas,
                rows: 0,
                loss: 0.0,
            });
        }
        let mut tasks = Vec::new();
        for l in 1..layers.len() {
            let (kin, cols) = (layers[l - 1] + 1, layers[l]);
            for j0 in (0..cols).step_by(nr) {
                let start = w.offs[l - 1] + (j0 / nr) * kin * nr;
                tasks.push(Task {
                    l,
                    j0,
                    nn: nr.min(cols - j0),
                    start,
                    end: start + kin * nr,
                });
            }
        }
        let mr = k.gemm_tile().0;
        let mut row_tasks = Vec::new();
        let off = net.offsets();
        for l in 1..layers.len() {
            let (kin, cols) = (layers[l - 1] + 1, layers[l]);
            let step = (ROW_TASK_WEIGHTS / cols).max(1).next_multiple_of(mr);
            for i0 in (0..kin).step_by(step) {
                let rows = step.min(kin - i0);
                let start = off[l - 1] + i0 * cols;
                row_tasks.push(RowTask {
                    l,
                    i0,
                    rows,
                    start,
                    end: start + rows * cols,
                });
            }
        }
        let mut scratch = Vec::new();
        for _ in 0..threads.max(1) {
            scratch.push(Mutex::new(k.gemm_scratch()?));
        }
        Ok(BatchTrainer {
            w,
            wt,
            chunks,
            tasks,
            row_tasks,
            layers: layers.to_vec(),
            scratch,
        })
    }

    /// Loads the network's weights (start of an epoch).
    pub(crate) fn load(&mut self, net: &Network) {
        self.w.pack(net);
    }

    /// Stores the weights back into the network (end of an epoch).
    pub(crate) fn store(&self, net: &mut Network) {
        self.w.unpack(net);
    }

    /// One step over the rows `batch` of the (scaled) training set; returns the summed sample
    /// errors before the step. Runs on the current rayon pool (of `threads` workers).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn step(
        &mut self,
        net: &Network,
        threads: usize,
        x: &[f32],
        y: &[f32],
        batch: &[usize],
        eta: f32,
        reg: &Regularization,
    ) -> f64 {
        let k = net.kernels();
        self.pack_transposed(net);
        let (loss, par) = self.forward_backward(net, threads, x, y, batch);
        if !loss.is_finite() {
            return loss;
        }
        let n_chunks = batch.len().div_ceil(CHUNK_ROWS);
        let alpha = -eta / batch.len() as f32;
        let chunks = &self.chunks[..n_chunks];
        let scratch = &self.scratch;
        let layers = net.layers();
        let nr = k.gemm_tile().1;
        let update = |t: &Task, wp: &mut [f32]| {
            let kin = layers[t.l - 1] + 1;
            let cols = layers[t.l];
            if reg.is_active() {
                let step = eta * reg.lambda;
                for (i, row) in wp.chunks_exact_mut(nr).enumerate() {
                    if reg.covers_row(i) {
                        reg.step(&mut row[..t.nn], step);
                    }
                }
            }
            let mut s = lock_for_thread(scratch);
            for c in chunks {
                let xa = MatRef::row_major(&c.acts.acts[t.l - 1], c.rows, kin).expect("shape");
                let d = MatRef::row_major(&c.deltas[t.l - 1], c.rows, cols)
                    .expect("shape")
                    .block(0, t.j0, c.rows, t.nn);
                let cw = MatMut::new(wp, kin, t.nn, nr, 1).expect("panel shape");
                k.gemm_op(
                    alpha,
                    Operand::Mat(xa.t()),
                    Operand::Mat(d),
                    true,
                    cw,
                    &mut s,
                    false,
                );
            }
        };
        for_each_task(&self.tasks, &mut self.w.data[..], par, &update);
        loss
    }

    /// The forward and backward passes of the rows `batch`, chunk by chunk (in parallel when
    /// the work is worth it): the summed sample errors, and whether the step is spread over
    /// the workers.
    fn forward_backward(
        &mut self,
        net: &Network,
        threads: usize,
        x: &[f32],
        y: &[f32],
        batch: &[usize],
    ) -> (f64, bool) {
        let n_chunks = batch.len().div_ceil(CHUNK_ROWS);
        let w = &self.w;
        let wt = &self.wt;
        let par = parallel_work(threads, batch.len(), net.num_weights());
        if par && n_chunks > 1 {
            self.chunks[..n_chunks]
                .par_iter_mut()
                .zip(batch.par_chunks(CHUNK_ROWS))
                .for_each(|(c, idx)| c.forward_backward(net, w, wt, x, y, idx));
        } else {
            for (c, idx) in self.chunks.iter_mut().zip(batch.chunks(CHUNK_ROWS)) {
                c.forward_backward(net, w, wt, x, y, idx);
            }
        }
        let loss: f64 = self.chunks[..n_chunks].iter().map(|c| c.loss).sum();
        (loss, par)
    }

    /// One step of an optimizer other than plain SGD over the rows `batch`, with the weights
    /// in the network's row-major layout (packed here for the forward and backward products):
    /// the weight-gradient products write the step's mean gradient into the optimizer's
    /// gradient buffer one block of rows at a time, the regularizer's gradient is added, and
    /// the optimizer's kernel steps that block of weights and state while it is in cache.
    /// Returns the summed sample errors before the step (a non-finite sum changes nothing).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn step_optimizer(
        &mut self,
        net: &mut Network,
        threads: usize,
        x: &[f32],
        y: &[f32],
        batch: &[usize],
        eta: f32,
        reg: &Regularization,
        opt: &mut Stateful,
    ) -> f64 {
        self.w.pack(net);
        self.pack_transposed(net);
        let (loss, par) = self.forward_backward(net, threads, x, y, batch);
        if !loss.is_finite() {
            return loss;
        }
        let k = net.kernels();
        let n_chunks = batch.len().div_ceil(CHUNK_ROWS);
        let alpha = 1.0 / batch.len() as f32;
        let chunks = &self.chunks[..n_chunks];
        let scratch = &self.scratch;
        let layers = &self.layers;
        let (state, g) = opt.parts();
        let (step, s1, s2) = state.next_step(eta);
        let grad_step = |t: &RowTask, p: Blocks| {
            let cols = layers[t.l];
            gradient_block(
                &k,
                chunks,
                layers,
                t,
                alpha,
                p.g,
                &mut lock_for_thread(scratch),
            );
            if reg.is_active() {
                // the bias row is the layer's row 0
                let s = if t.i0 == 0 && !reg.covers_row(0) {
                    cols
                } else {
                    0
                };
                reg.add_gradient(&p.w[s..], &mut p.g[s..], reg.lambda);
            }
            k.update(&step, p.w, p.g, p.s1, p.s2)
                .expect("blocks of one length");
        };
        let blocks = Blocks {
            w: net.weights_mut(),
            g,
            s1,
            s2,
        };
        for_each_task(&self.row_tasks, blocks, par, &grad_step);
        state.advance();
        loss
    }

    /// The weight gradient of `E_in` over the rows `batch` (no regularizer), for a caller that
    /// combines and applies it itself (data-parallel training): writes `alpha` times the sum
    /// of the rows' per-sample gradients `de_n/dw` into `g` (D floats, the network's row-major
    /// layout; `alpha = 1` gives the sum) and returns the summed sample errors. The weights
    /// are the network's (packed here), and the products are those of
    /// [`BatchTrainer::step_optimizer`]: the chunks' forward and backward passes, then each
    /// block of rows of `g` as the chunks' `X_c^T Delta_c` added in chunk order. Every value
    /// of `g` is written, also when an error is not finite (the non-finite values propagate);
    /// no rows give zeros.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gradient(
        &mut self,
        net: &Network,
        threads: usize,
        x: &[f32],
        y: &[f32],
        batch: &[usize],
        alpha: f32,
        g: &mut [f32],
    ) -> f64 {
        assert_eq!(g.len(), net.num_weights(), "gradient buffer length");
        if batch.is_empty() {
            g.fill(0.0);
            return 0.0;
        }
        self.w.pack(net);
        self.pack_transposed(net);
        let (loss, par) = self.forward_backward(net, threads, x, y, batch);
        let k = net.kernels();
        let chunks = &self.chunks[..batch.len().div_ceil(CHUNK_ROWS)];
        let scratch = &self.scratch;
        let layers = &self.layers;
        let block = |t: &RowTask, gb: &mut [f32]| {
            gradient_block(
                &k,
                chunks,
                layers,
                t,
                alpha,
                gb,
                &mut lock_for_thread(scratch),
            );
        };
        for_each_task(&self.row_tasks, g, par, &block);
        loss
    }

    /// Packs `W(l)[1..]^T` for every `l >= 2` from the packed weights.
    fn pack_transposed(&mut self, net: &Network) {
        let k = net.kernels();
        let layers = net.layers();
        let nr = self.w.nr;
        for l in 2..layers.len() {
            let (kin, cols) = (layers[l - 1] + 1, layers[l]);
            let p = self.w.layer(l);
            let dst = &mut self.wt[l - 2];
            for (jp, panel) in p.chunks_exact(kin * nr).enumerate() {
                let nn = nr.min(cols - jp * nr);
                // rows 1.. of this panel: a (kin - 1) x nn block of W; transposed, it is rows
                // jp*nr .. jp*nr + nn of W[1..]^T
                let blk = MatRef::new(&panel[nr..], kin - 1, nn, nr, 1).expect("panel shape");
                k.pack_b_rows(blk.t(), dst, cols, jp * nr);
            }
        }
    }
}

impl Chunk {
    /// Gathers the rows `idx`, runs the forward pass, the output deltas and the backward pass.
    fn forward_backward(
        &mut self,
        net: &Network,
        w: &PackedNet,
        wt: &[Vec<f32>],
        x: &[f32],
        y: &[f32],
        idx: &[usize],
    ) {
        let k = net.kernels();
        let layers = net.layers();
        let big_l = layers.len() - 1;
        let (n_in, n_out) = (layers[0], layers[big_l]);
        let rows = idx.len();
        self.rows = rows;
        for (r, &i) in idx.iter().enumerate() {
            self.acts
                .input_row(n_in, r)
                .copy_from_slice(&x[i * n_in..(i + 1) * n_in]);
        }
        self.acts.forward(net, w, rows);
        let tanh_out = net.output() == Output::Tanh;
        let mut loss = 0.0f64;
        {
            let out = &self.acts.acts[big_l];
            let d = &mut self.deltas[big_l - 1];
            for (r, &i) in idx.iter().enumerate() {
                let o = &out[r * (n_out + 1) + 1..(r + 1) * (n_out + 1)];
                let t = &y[i * n_out..(i + 1) * n_out];
                let dr = &mut d[r * n_out..(r + 1) * n_out];
                loss += delta::output_deltas(o, t, tanh_out, dr);
            }
        }
        self.loss = loss;
        for l in (2..=big_l).rev() {
            let (din, dout) = (layers[l - 1], layers[l]);
            let (lo, hi) = self.deltas.split_at_mut(l - 1);
            let dl = MatRef::row_major(&hi[0], rows, dout).expect("delta shape");
            let dprev = MatMut::row_major(&mut lo[l - 2][..rows * din], rows, din).expect("shape");
            k.gemm_op(
                1.0,
                Operand::Mat(dl),
                Operand::PackedB {
                    data: &wt[l - 2],
                    k: dout,
                    cols: din,
                },
                false,
                dprev,
                &mut self.acts.scratch,
                false,
            );
            let xs = &self.acts.acts[l - 1];
            for (r, dr) in lo[l - 2][..rows * din].chunks_exact_mut(din).enumerate() {
                let xr = &xs[r * (din + 1) + 1..(r + 1) * (din + 1)];
                delta::hidden_deltas_in_place(dr, xr);
            }
        }
    }
}

/// Mini-batch steps as matrix products (the plan's [`super::TrainPath::Gemm`]); an epoch runs
/// on a worker of the pool that then spreads each step.
///
/// Plain SGD fuses its update with the weight-gradient products, and its weights stay packed
/// for a whole epoch. Every other optimizer (SPEC section 6) keeps its state in `optimizer`,
/// in the network's row-major layout (the layout of [`crate::OptimizerState::for_network`],
/// whichever path trains): its steps write the mean gradient plus the regularizer's gradient
/// into that [`Stateful`]'s gradient buffer and apply the optimizer's kernel to it
/// ([`BatchTrainer::step_optimizer`]).
pub(crate) struct Gemm {
    trainer: BatchTrainer,
    batch: usize,
    eta: f32,
    reg: Regularization,
    /// The optimizer's state and gradient; `None` for plain SGD.
    optimizer: Option<Stateful>,
}

impl Gemm {
    /// The step of plain SGD (`optimizer` `None`) or of the optimizer `optimizer`.
    pub(crate) fn new(
        net: &Network,
        batch: usize,
        threads: usize,
        eta: f32,
        reg: Regularization,
        optimizer: Option<Stateful>,
    ) -> Result<Gemm> {
        Ok(Gemm {
            trainer: BatchTrainer::new(net, batch, threads)?,
            batch,
            eta,
            reg,
            optimizer,
        })
    }
}

impl Step for Gemm {
    fn batch(&self) -> usize {
        self.batch
    }

    fn set_rate(&mut self, eta: f32) {
        self.eta = eta;
    }

    fn reset(&mut self) {
        if let Some(o) = &mut self.optimizer {
            o.state.reset();
        }
    }

    fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        self.optimizer.as_mut().map(|o| &mut o.state)
    }

    fn step(&mut self, net: &mut Network, sets: &Sets, rows: &[usize]) -> f64 {
        let threads = rayon::current_num_threads();
        let (eta, reg) = (self.eta, self.reg);
        if let Some(opt) = &mut self.optimizer {
            return self
                .trainer
                .step_optimizer(net, threads, sets.x, sets.y, rows, eta, &reg, opt);
        }
        self.trainer.load(net);
        let e = self
            .trainer
            .step(net, threads, sets.x, sets.y, rows, eta, &reg);
        self.trainer.store(net);
        e
    }

    fn epoch(
        &mut self,
        net: &mut Network,
        sets: &Sets,
        order: &[usize],
        pool: &ThreadPool,
    ) -> bool {
        let (batch, eta, reg) = (self.batch, self.eta, self.reg);
        let threads = pool.current_num_threads();
        let bt = &mut self.trainer;
        // the whole epoch runs on a worker of the pool, which then spreads each step
        let run = |epoch: &mut (dyn FnMut() -> bool + Send)| {
            if threads > 1 {
                pool.install(epoch)
            } else {
                epoch()
            }
        };
        if let Some(opt) = &mut self.optimizer {
            return run(&mut || {
                order.chunks(batch).all(|rows| {
                    bt.step_optimizer(net, threads, sets.x, sets.y, rows, eta, &reg, opt)
                        .is_finite()
                })
            });
        }
        bt.load(net);
        let shared: &Network = net;
        let finite = run(&mut || {
            order.chunks(batch).all(|rows| {
                bt.step(shared, threads, sets.x, sets.y, rows, eta, &reg)
                    .is_finite()
            })
        });
        bt.store(net);
        finite
    }
}

/// The weight gradient of one block of rows, `alpha * sum_c X_c^T Delta_c` over the chunks
/// `chunks` for rows `t.i0..t.i0 + t.rows` of layer `t.l`, written (not added) into `g`, the
/// block's `t.rows x d(l)` values (row-major). `chunks` must not be empty.
fn gradient_block(
    k: &Kernels,
    chunks: &[Chunk],
    layers: &[usize],
    t: &RowTask,
    alpha: f32,
    g: &mut [f32],
    s: &mut GemmScratch,
) {
    let (kin, cols) = (layers[t.l - 1] + 1, layers[t.l]);
    for (ci, c) in chunks.iter().enumerate() {
        let xa = MatRef::row_major(&c.acts.acts[t.l - 1], c.rows, kin)
            .expect("shape")
            .t()
            .block(t.i0, 0, t.rows, c.rows);
        let d = MatRef::row_major(&c.deltas[t.l - 1], c.rows, cols).expect("shape");
        let out = MatMut::row_major(&mut *g, t.rows, cols).expect("block shape");
        k.gemm_op(
            alpha,
            Operand::Mat(xa),
            Operand::Mat(d),
            ci > 0,
            out,
            s,
            false,
        );
    }
}

/// Runs `f` on every task with its block of `w` (the values from flat offset 0): spread over
/// the workers with [`run_tasks`] when `par`, else in task order on the calling thread.
fn for_each_task<T, S, F>(tasks: &[T], w: S, par: bool, f: &F)
where
    T: Span + Sync,
    S: Split,
    F: Fn(&T, S) + Sync,
{
    if par {
        return run_tasks(tasks, w, 0, f);
    }
    let mut rest = w;
    let mut base = 0;
    for t in tasks {
        let (start, end) = t.span();
        let (_, tail) = rest.split_at(start - base);
        let (cur, tail) = tail.split_at(end - start);
        f(t, cur);
        rest = tail;
        base = end;
    }
}

/// Runs `f` on every task with its block of `w` (whose values start at flat offset `base`),
/// splitting the task list in halves with `rayon::join`.
fn run_tasks<T, S, F>(tasks: &[T], w: S, base: usize, f: &F)
where
    T: Span + Sync,
    S: Split,
    F: Fn(&T, S) + Sync,
{
    match tasks {
        [] => {}
        [t] => {
            let (start, end) = t.span();
            let (_, rest) = w.split_at(start - base);
            let (cur, _) = rest.split_at(end - start);
            f(t, cur)
        }
        _ => {
            let mid = tasks.len() / 2;
            let at = tasks[mid].span().0;
            let (lo, hi) = w.split_at(at - base);
            rayon::join(
                || run_tasks(&tasks[..mid], lo, base, f),
                || run_tasks(&tasks[mid..], hi, at, f),
            );
        }
    }
}
