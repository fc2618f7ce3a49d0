//! Backpropagation: per-sample deltas, the mean gradient over a set of rows, `E_in` and `E_aug`.

use crate::error::{Error, Result, check_finite, try_zeroed};
use crate::minibatch::Evaluator;
use crate::network::{Forward, Network, Output};
use crate::regularization::Regularization;

/// Buffers for one forward and backward pass, allocated once per call or trainer.
#[derive(Debug, Clone)]
pub(crate) struct Backprop {
    pub(crate) fwd: Forward,
    /// `deltas[l-1]` holds `delta(l)`, `d(l)` values.
    pub(crate) deltas: Vec<Vec<f32>>,
    /// `W(l) delta(l)` for all `d(l-1)+1` rows, bias row included.
    pub(crate) z: Vec<f32>,
}

impl Backprop {
    pub(crate) fn new(net: &Network) -> Result<Backprop> {
        let layers = net.layers();
        let mut deltas = Vec::with_capacity(layers.len() - 1);
        for &d in &layers[1..] {
            deltas.push(try_zeroed(d, "the deltas")?);
        }
        let zmax = layers.iter().max().copied().unwrap_or(0) + 1;
        Ok(Backprop {
            fwd: Forward::new(net)?,
            deltas,
            z: try_zeroed(zmax, "the backward buffer")?,
        })
    }

    /// Forward pass on `x`, then `delta(L)` from target `y`. Returns the sample error `e_n`.
    #[inline]
    pub(crate) fn forward_output_delta(&mut self, net: &Network, x: &[f32], y: &[f32]) -> f64 {
        let out = self.fwd.run(net, x);
        let d_l = self.deltas.last_mut().expect("L >= 1");
        let mut e = 0.0f64;
        let tanh_out = net.output() == Output::Tanh;
        for ((dk, &ok), &yk) in d_l.iter_mut().zip(out).zip(y) {
            let r = yk - ok;
            e += (r as f64) * (r as f64);
            let dtheta = if tanh_out { 1.0 - ok * ok } else { 1.0 };
            *dk = -2.0 * r * dtheta;
        }
        e
    }

    /// `delta(l-1)` from `z = W(l) delta(l)` (held in `self.z`, bias row first):
    /// `delta_j(l-1) = z_j * (1 - x_j(l-1)^2)`.
    #[inline]
    pub(crate) fn hidden_delta_from_z(&mut self, l: usize) {
        let x = &self.fwd.acts[l - 1][1..];
        let d = &mut self.deltas[l - 2];
        for ((dj, &zj), &xj) in d.iter_mut().zip(&self.z[1..]).zip(x) {
            *dj = zj * (1.0 - xj * xj);
        }
    }

    /// The backward pass for every hidden layer with the current weights (no update).
    pub(crate) fn backward(&mut self, net: &Network) {
        let layers = net.layers();
        let k = net.kernels();
        let off = net.offsets();
        for l in (2..layers.len()).rev() {
            let rows = layers[l - 1] + 1;
            let cols = layers[l];
            let w = &net.weights()[off[l - 1]..off[l]];
            k.matvec_t_unchecked(w, rows, cols, &self.deltas[l - 1], &mut self.z);
            self.hidden_delta_from_z(l);
        }
    }

    /// `g += alpha * x(l-1) delta(l)^T` for every layer (the per-sample gradient, scaled).
    pub(crate) fn accumulate(&self, net: &Network, g: &mut [f32], alpha: f32) {
        let layers = net.layers();
        let k = net.kernels();
        let off = net.offsets();
        for l in 1..layers.len() {
            let rows = layers[l - 1] + 1;
            let cols = layers[l];
            k.rank1_update_unchecked(
                &mut g[off[l - 1]..off[l]],
                rows,
                cols,
                alpha,
                &self.fwd.acts[l - 1],
                &self.deltas[l - 1],
            );
        }
    }
}

/// `g += lambda * grad Omega(w)` over the weights the regularizer covers.
pub(crate) fn add_regularizer_gradient(net: &Network, reg: &Regularization, g: &mut [f32]) {
    if !reg.is_active() {
        return;
    }
    let layers = net.layers();
    let off = net.offsets();
    for l in 1..layers.len() {
        let start = reg.layer_start(off[l - 1], layers[l]);
        reg.add_gradient(
            &net.weights()[start..off[l]],
            &mut g[start..off[l]],
            reg.lambda,
        );
    }
}

/// Checks a row-major `(x, y)` pair against the network; returns the row count.
pub(crate) fn check_xy(net: &Network, x: &[f32], y: &[f32], what: &str) -> Result<usize> {
    let rows = net.rows_of(x.len(), net.num_inputs(), &format!("the {what} input"))?;
    let yrows = net.rows_of(y.len(), net.num_outputs(), &format!("the {what} target"))?;
    if rows != yrows {
        return Err(Error::ShapeMismatch(format!(
            "the {what} set has {rows} input rows ({} inputs each) but {yrows} target rows ({} outputs each)",
            net.num_inputs(),
            net.num_outputs()
        )));
    }
    check_finite(x, &format!("{what} input"))?;
    check_finite(y, &format!("{what} target"))?;
    Ok(rows)
}

/// Copies of `x` and `y` with the network's scaling applied, or `None` without a scaling.
pub(crate) fn scaled_copies(
    net: &Network,
    x: &[f32],
    y: &[f32],
) -> Result<Option<(Vec<f32>, Vec<f32>)>> {
    let Some(s) = net.scaling() else {
        return Ok(None);
    };
    let mut xs = try_zeroed(x.len(), "scaled inputs")?;
    let mut ys = try_zeroed(y.len(), "scaled targets")?;
    let n_in = net.num_inputs();
    for (src, dst) in x.chunks_exact(n_in).zip(xs.chunks_exact_mut(n_in)) {
        s.scale_inputs(src, dst);
    }
    ys.copy_from_slice(y);
    for row in ys.chunks_exact_mut(net.num_outputs()) {
        s.scale_targets(row);
    }
    Ok(Some((xs, ys)))
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
