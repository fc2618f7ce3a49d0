//! Batched inference and evaluation: `E_in` over many rows as matrix products, prediction,
//! and the gradient of `E_aug`.

use std::cell::RefCell;
use std::sync::Mutex;

use rayon::ThreadPool;
use rayon::prelude::*;

use super::batched::{Acts, CHUNK_ROWS, PackedNet, lock_for_thread};
use super::plan::{parallel_work, predict_batched as predict_batched_rows};
use crate::error::{Error, Result, check_finite, checked_mul, try_zeroed};
use crate::gradient::{Backprop, add_regularizer_gradient, check_xy, scaled_copies};
use crate::kernels::Isa;
use crate::network::{Forward, Network, classes_of};
use crate::regularization::Regularization;

/// `sum_rows sum_k (y - out)^2` of a chunk: forward the rows of `x` (scaled inputs) and compare
/// with `y`.
fn chunk_error(net: &Network, w: &PackedNet, a: &mut Acts, x: &[f32], y: &[f32]) -> f64 {
    let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
    let rows = x.len() / n_in;
    for (r, xr) in x.chunks_exact(n_in).enumerate() {
        a.input_row(n_in, r).copy_from_slice(xr);
    }
    a.forward(net, w, rows);
    let mut sum = 0.0f64;
    for (r, yr) in y.chunks_exact(n_out).enumerate() {
        sum += a
            .output_row(n_out, r)
            .iter()
            .zip(yr)
            .map(|(&o, &t)| {
                let d = (t - o) as f64;
                d * d
            })
            .sum::<f64>();
    }
    sum
}

/// Per-thread buffers for batched evaluation and prediction with the network's weights.
#[derive(Debug)]
pub(crate) struct Evaluator {
    w: PackedNet,
    ws: Vec<Mutex<Acts>>,
    sums: Vec<f64>,
}

impl Evaluator {
    /// Buffers for `threads` workers and at most `rows` rows at a time.
    pub(crate) fn new(net: &Network, threads: usize, rows: usize) -> Result<Evaluator> {
        let cap = rows.clamp(1, CHUNK_ROWS);
        let n = threads.clamp(1, rows.div_ceil(CHUNK_ROWS).max(1));
        let mut ws = Vec::with_capacity(n);
        for _ in 0..n {
            ws.push(Mutex::new(Acts::new(net, cap)?));
        }
        Ok(Evaluator {
            w: PackedNet::new(net)?,
            ws,
            sums: Vec::new(),
        })
    }

    /// Takes the network's current weights (packed once for every chunk of rows).
    pub(crate) fn load(&mut self, net: &Network) {
        self.w.pack(net);
    }

    /// `E_in` (mean over rows of the summed squared errors, f64) of validated, scaled rows, with
    /// the weights of the last [`Evaluator::load`], on `pool` (or the current rayon pool). Chunk sums are added in
    /// chunk order.
    pub(crate) fn mean_error(
        &mut self,
        net: &Network,
        pool: Option<&ThreadPool>,
        x: &[f32],
        y: &[f32],
    ) -> f64 {
        let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
        let rows = x.len() / n_in;
        self.sums.clear();
        self.sums.resize(rows.div_ceil(CHUNK_ROWS), 0.0);
        let ws = &self.ws;
        let w = &self.w;
        let threads = pool.map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        if parallel_work(threads, rows, net.num_weights()) {
            let sums = &mut self.sums;
            let mut work = move || {
                sums.par_iter_mut()
                    .zip(x.par_chunks(CHUNK_ROWS * n_in))
                    .zip(y.par_chunks(CHUNK_ROWS * n_out))
                    .for_each(|((s, xc), yc)| {
                        let mut a = lock_for_thread(ws);
                        *s = chunk_error(net, w, &mut a, xc, yc);
                    });
            };
            match pool {
                Some(p) => p.install(work),
                None => work(),
            }
        } else {
            let mut a = lock_for_thread(ws);
            for ((s, xc), yc) in self
                .sums
                .iter_mut()
                .zip(x.chunks(CHUNK_ROWS * n_in))
                .zip(y.chunks(CHUNK_ROWS * n_out))
            {
                *s = chunk_error(net, w, &mut a, xc, yc);
            }
        }
        self.sums.iter().sum::<f64>() / rows as f64
    }

    /// The outputs `y` (`rows x d(L)`) of finite, unscaled inputs `x` (`rows x d(0)`), with
    /// the weights of the last [`Evaluator::load`] and the network's scaling, on the current
    /// rayon pool.
    pub(crate) fn predict(&self, net: &Network, x: &[f32], y: &mut [f32]) {
        let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
        y.par_chunks_mut(CHUNK_ROWS * n_out)
            .zip(x.par_chunks(CHUNK_ROWS * n_in))
            .for_each(|(yc, xc)| {
                let mut a = lock_for_thread(&self.ws);
                for (r, xr) in xc.chunks_exact(n_in).enumerate() {
                    let dst = a.input_row(n_in, r);
                    match net.scaling() {
                        Some(s) => s.scale_inputs(xr, dst),
                        None => dst.copy_from_slice(xr),
                    }
                }
                a.forward(net, &self.w, xc.len() / n_in);
                for (r, yr) in yc.chunks_exact_mut(n_out).enumerate() {
                    yr.copy_from_slice(a.output_row(n_out, r));
                    if let Some(s) = net.scaling() {
                        s.unscale_outputs(yr);
                    }
                }
            });
    }
}

thread_local! {
    /// The buffers of this thread's last batched prediction (layer sizes, kernel set), reused
    /// by its next prediction with the same network shape: a loop of predictions allocates once.
    static PREDICT: RefCell<Option<(Vec<usize>, Isa, Evaluator)>> = const { RefCell::new(None) };
}

/// `y` (`rows x d(L)`) from finite, unscaled `x` (`rows x d(0)`): chunks of rows through the
/// matrix products, in parallel on the current rayon pool.
pub(crate) fn predict_batched(net: &Network, x: &[f32], y: &mut [f32]) -> Result<()> {
    let threads = rayon::current_num_threads();
    let isa = net.kernels().isa();
    let cached = PREDICT.with(|c| c.borrow_mut().take());
    let ev = match cached {
        Some((layers, i, ev)) if layers == net.layers() && i == isa && ev.ws.len() >= threads => {
            (layers, ev)
        }
        _ => (
            net.layers().to_vec(),
            Evaluator::new(net, threads, usize::MAX)?,
        ),
    };
    let mut ev = ev;
    ev.1.load(net);
    ev.1.predict(net, x, y);
    PREDICT.with(|c| *c.borrow_mut() = Some((ev.0, isa, ev.1)));
    Ok(())
}

impl Network {
    /// `E_in = (1/N) sum_n sum_k (y_nk - out_k(x_n))^2` over row-major inputs `x` and targets
    /// `y`, accumulated in f64 (in standardized units when the network has a scaling).
    ///
    /// ```
    /// use nnet::{Network, Output};
    /// let net = Network::from_weights(&[1, 1], Output::Linear, &[0.0, 2.0]).unwrap();
    /// // out = 2x: errors (2-1)^2 and (4-5)^2
    /// assert_eq!(net.error(&[1.0, 2.0], &[1.0, 5.0]).unwrap(), 1.0);
    /// ```
    pub fn error(&self, x: &[f32], y: &[f32]) -> Result<f64> {
        check_xy(self, x, y, "evaluation")?;
        let scaled = scaled_copies(self, x, y)?;
        let (x, y) = match &scaled {
            Some((a, b)) => (&a[..], &b[..]),
            None => (x, y),
        };
        let rows = x.len() / self.num_inputs();
        let mut ev = Evaluator::new(self, rayon::current_num_threads(), rows)?;
        ev.load(self);
        Ok(ev.mean_error(self, None, x, y))
    }

    /// The gradient of `E_aug = E_in + lambda * Omega(w)` over the rows of `x` and `y` (the mean
    /// of the per-sample backprop gradients plus `lambda * grad Omega`) in the flat weight
    /// layout, and `E_aug` itself (f64).
    ///
    /// ```
    /// use nnet::{Network, Output, Regularization};
    /// let net = Network::new(&[2, 3, 1], Output::Tanh, 1, 0.5).unwrap();
    /// let (g, e_aug) = net.gradient(&[0.5, -1.0], &[1.0], &Regularization::l2(0.01)).unwrap();
    /// assert_eq!(g.len(), net.num_weights());
    /// assert!(e_aug > 0.0);
    /// ```
    pub fn gradient(&self, x: &[f32], y: &[f32], reg: &Regularization) -> Result<(Vec<f32>, f64)> {
        let mut g = try_zeroed(self.num_weights(), "the gradient")?;
        let e = self.gradient_into(x, y, reg, &mut g)?;
        Ok((g, e))
    }

    /// Like [`Network::gradient`], writing the gradient into `grad` (length D), which is
    /// written only on success.
    pub fn gradient_into(
        &self,
        x: &[f32],
        y: &[f32],
        reg: &Regularization,
        grad: &mut [f32],
    ) -> Result<f64> {
        reg.validate()?;
        if grad.len() != self.num_weights() {
            return Err(Error::ShapeMismatch(format!(
                "expected a gradient buffer of {} values, got {}",
                self.num_weights(),
                grad.len()
            )));
        }
        let rows = check_xy(self, x, y, "gradient")?;
        let scaled = scaled_copies(self, x, y)?;
        let (x, y) = match &scaled {
            Some((a, b)) => (&a[..], &b[..]),
            None => (x, y),
        };
        let mut g = try_zeroed(self.num_weights(), "the gradient")?;
        let mut bp = Backprop::new(self)?;
        let n_in = self.num_inputs();
        let n_out = self.num_outputs();
        for (xr, yr) in x.chunks_exact(n_in).zip(y.chunks_exact(n_out)) {
            bp.forward_output_delta(self, xr, yr);
            bp.backward(self);
            bp.accumulate(self, &mut g, 1.0);
        }
        let inv = 1.0 / rows as f32;
        for v in &mut g {
            *v *= inv;
        }
        // E_in exactly as `Network::error` computes it (the batched forward pass)
        let mut ev = Evaluator::new(self, rayon::current_num_threads(), rows)?;
        ev.load(self);
        let mut e = ev.mean_error(self, None, x, y);
        if reg.is_active() {
            add_regularizer_gradient(self, reg, &mut g);
            e += reg.lambda as f64 * reg.omega(self.weights(), self.layers(), self.offsets());
        }
        grad.copy_from_slice(&g);
        Ok(e)
    }
}

impl Network {
    /// The outputs for one sample (`d(0)` inputs) or a row-major batch of rows; the result holds
    /// `d(L)` values per row. Applies the network's standardization, if any.
    ///
    /// Errors when `x` is empty, its length is not a multiple of `d(0)`, or it holds NaN or
    /// infinity.
    pub fn predict(&self, x: &[f32]) -> Result<Vec<f32>> {
        let rows = self.rows_of(x.len(), self.num_inputs(), "the input")?;
        let n = checked_mul(rows, self.num_outputs(), "the output size")?;
        let mut y = try_zeroed(n, "the outputs")?;
        self.predict_into(x, &mut y)?;
        Ok(y)
    }

    /// Like [`Network::predict`], writing into `y` (`rows * d(L)` values). `y` is written only on
    /// success.
    ///
    /// Many rows are computed as matrix products over chunks of rows, in parallel on the
    /// current rayon pool (the result does not depend on the number of threads); the calling
    /// thread keeps those work buffers for its next prediction.
    pub fn predict_into(&self, x: &[f32], y: &mut [f32]) -> Result<()> {
        let rows = self.rows_of(x.len(), self.num_inputs(), "the input")?;
        let expect = checked_mul(rows, self.num_outputs(), "the output size")?;
        if y.len() != expect {
            return Err(Error::ShapeMismatch(format!(
                "expected an output buffer of {expect} values ({rows} rows x {} outputs), got {}",
                self.num_outputs(),
                y.len()
            )));
        }
        check_finite(x, "input")?;
        if predict_batched_rows(rows) {
            return predict_batched(self, x, y);
        }
        let mut ws = Forward::new(self)?;
        let n_in = self.num_inputs();
        let n_out = self.num_outputs();
        let mut xs = Vec::new();
        if self.scaling().is_some() {
            xs = try_zeroed(n_in, "a scaled input row")?;
        }
        for (xr, yr) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
            let input = match self.scaling() {
                Some(s) => {
                    s.scale_inputs(xr, &mut xs);
                    &xs[..]
                }
                None => xr,
            };
            yr.copy_from_slice(ws.run(self, input));
            if let Some(s) = self.scaling() {
                s.unscale_outputs(yr);
            }
        }
        Ok(())
    }

    /// The class of each row: `sign(output)` (+1 or -1, with sign(0) = +1) for one output, the
    /// index of the largest output for several. Returns one value per row.
    pub fn classify(&self, x: &[f32]) -> Result<Vec<f32>> {
        let y = self.predict(x)?;
        Ok(classes_of(&y, self.num_outputs()))
    }
}
