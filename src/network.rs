//! The `d(0)-d(1)-...-d(L)` network: layer sizes, the flat weight vector, the forward pass.

use crate::error::{Error, Result, check_finite, checked_mul, try_zeroed};
use crate::kernels::Kernels;
use crate::kernels::aligned::AlignedVec;
use crate::rng::SeededRng;
use crate::scaling::Scaling;

/// The transform of the output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// Identity: regression (the default).
    #[default]
    Linear,
    /// `tanh`: outputs in (-1, 1), for +-1 labels.
    Tanh,
}

/// A fully connected network with tanh hidden layers.
///
/// Layer `l` (1-based) is a row-major matrix `W(l)` with `d(l-1)+1` rows and `d(l)` columns;
/// row 0 is the bias row. The flat weight vector is `W(1)`, then `W(2)`, ..., each row-major.
///
/// ```
/// use nnet::{Network, Output};
/// let net = Network::new(&[3, 5, 1], Output::Linear, 7, 0.1).unwrap();
/// assert_eq!(net.num_weights(), 26); // (3+1)*5 + (5+1)*1
/// assert_eq!(net.num_neurons(), 6);
/// let y = net.predict(&[0.5, -0.2, 0.1]).unwrap();
/// assert_eq!(y.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Network {
    layers: Vec<usize>,
    output: Output,
    /// 64-byte aligned, so that the kernels split every copy's rows the same way.
    weights: AlignedVec,
    /// `offsets[l-1]` is where `W(l)` starts; the last entry is `D`.
    offsets: Vec<usize>,
    kernels: Kernels,
    scaling: Option<Scaling>,
}

/// Validates layer sizes and returns the start of each layer's matrix (and D last).
pub(crate) fn layer_offsets(layers: &[usize]) -> Result<Vec<usize>> {
    if layers.len() < 2 {
        return Err(Error::InvalidArgument(format!(
            "a network needs at least 2 layer sizes (inputs and outputs), got {}",
            layers.len()
        )));
    }
    if let Some(i) = layers.iter().position(|&d| d == 0) {
        return Err(Error::InvalidArgument(format!(
            "layer size d({i}) is 0 (every layer needs at least 1 unit)"
        )));
    }
    let mut offsets = Vec::with_capacity(layers.len());
    let mut total = 0usize;
    offsets.push(0);
    for l in 1..layers.len() {
        let rows = layers[l - 1].checked_add(1).ok_or_else(|| {
            Error::Overflow(format!(
                "layer size d({}) = {}: d + 1 overflows usize",
                l - 1,
                layers[l - 1]
            ))
        })?;
        let n = checked_mul(rows, layers[l], "number of weights")?;
        total = total.checked_add(n).ok_or_else(|| {
            Error::Overflow(format!(
                "the number of weights of a {} network overflows usize",
                layers_string(layers)
            ))
        })?;
        offsets.push(total);
    }
    if total > Network::MAX_WEIGHTS {
        return Err(Error::OutOfMemory(format!(
            "a {} network has {total} weights ({} bytes), more than the limit of {} weights",
            layers_string(layers),
            total.saturating_mul(4),
            Network::MAX_WEIGHTS
        )));
    }
    Ok(offsets)
}

impl Network {
    /// The largest number of weights D a network may have: 2^31 (8 GiB of f32; training holds
    /// a few more vectors of that size).
    ///
    /// Larger networks are refused with [`Error::OutOfMemory`] before anything is allocated.
    /// Allocation is fallible, but an operating system that overcommits memory may grant a
    /// request far beyond the physical memory and end the process when the pages are
    /// written; the cap keeps every request a network makes within a size that a machine can
    /// plausibly hold.
    ///
    /// ```
    /// use nnet::{Error, Network, Output};
    /// let r = Network::new(&[65536, 65536, 65536], Output::Linear, 1, 0.1);
    /// assert!(matches!(r, Err(Error::OutOfMemory(_))));
    /// ```
    pub const MAX_WEIGHTS: usize = 1 << 31;

    /// A network with the given layer sizes `d(0), ..., d(L)` and every weight uniform in
    /// `[-init_range, init_range]` from a generator seeded with `seed` (the same seed gives the
    /// same weights on every machine).
    ///
    /// Errors on fewer than two sizes, a zero size, a negative or non-finite `init_range`, a
    /// size overflow, more than [`Network::MAX_WEIGHTS`] weights or an allocation that cannot
    /// be satisfied.
    pub fn new(layers: &[usize], output: Output, seed: u64, init_range: f32) -> Result<Network> {
        check_init_range(init_range)?;
        let offsets = layer_offsets(layers)?;
        let d = *offsets.last().expect("at least two offsets");
        let mut weights = AlignedVec::try_zeroed(d, "the weights")?;
        fill_uniform(&mut weights, seed, init_range);
        Ok(Network {
            layers: layers.to_vec(),
            output,
            weights,
            offsets,
            kernels: Kernels::selected(),
            scaling: None,
        })
    }

    /// A network with the given layer sizes and weights (the flat layout of the type docs).
    pub fn from_weights(layers: &[usize], output: Output, weights: &[f32]) -> Result<Network> {
        let offsets = layer_offsets(layers)?;
        let d = *offsets.last().expect("at least two offsets");
        if weights.len() != d {
            return Err(Error::ShapeMismatch(format!(
                "expected {d} weights for a {} network, got {}",
                layers_string(layers),
                weights.len()
            )));
        }
        check_finite(weights, "weights")?;
        let mut w = AlignedVec::try_zeroed(d, "the weights")?;
        w.copy_from_slice(weights);
        Ok(Network {
            layers: layers.to_vec(),
            output,
            weights: w,
            offsets,
            kernels: Kernels::selected(),
            scaling: None,
        })
    }

    /// The layer sizes `d(0), ..., d(L)`.
    pub fn layers(&self) -> &[usize] {
        &self.layers
    }

    /// The number of weight layers L.
    pub fn num_layers(&self) -> usize {
        self.layers.len() - 1
    }

    /// The number of inputs `d(0)`.
    pub fn num_inputs(&self) -> usize {
        self.layers[0]
    }

    /// The number of outputs `d(L)`.
    pub fn num_outputs(&self) -> usize {
        *self.layers.last().expect("at least two layers")
    }

    /// The output transform.
    pub fn output(&self) -> Output {
        self.output
    }

    /// D, the number of weights: `sum_l (d(l-1)+1) d(l)`.
    pub fn num_weights(&self) -> usize {
        self.weights.len()
    }

    /// V, the number of neurons: `sum_{l>=1} d(l)`.
    pub fn num_neurons(&self) -> usize {
        self.layers[1..].iter().sum()
    }

    /// The flat weight vector.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Replaces every weight. Errors (and changes nothing) when the length is not D or a value
    /// is not finite.
    pub fn set_weights(&mut self, weights: &[f32]) -> Result<()> {
        if weights.len() != self.weights.len() {
            return Err(Error::ShapeMismatch(format!(
                "expected {} weights, got {}",
                self.weights.len(),
                weights.len()
            )));
        }
        check_finite(weights, "weights")?;
        self.weights.copy_from_slice(weights);
        Ok(())
    }

    /// The matrix `W(l)` for `l` in `1..=L` as a row-major slice of `(d(l-1)+1) * d(l)` values.
    ///
    /// Errors when `l` is 0 or greater than L.
    pub fn layer_weights(&self, l: usize) -> Result<&[f32]> {
        if l == 0 || l > self.num_layers() {
            return Err(Error::InvalidArgument(format!(
                "layer index {l} is outside 1..={}",
                self.num_layers()
            )));
        }
        Ok(&self.weights[self.offsets[l - 1]..self.offsets[l]])
    }

    /// Re-draws every weight uniform in `[-init_range, init_range]` from `seed`.
    pub fn randomize(&mut self, seed: u64, init_range: f32) -> Result<()> {
        check_init_range(init_range)?;
        fill_uniform(&mut self.weights, seed, init_range);
        Ok(())
    }

    /// The kernel table this network computes with.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Makes this network compute with `kernels` (e.g. `Kernels::for_isa(Isa::Scalar)`).
    pub fn set_kernels(&mut self, kernels: Kernels) {
        self.kernels = kernels;
    }

    /// The input and target standardization applied by `predict`, if any.
    pub fn scaling(&self) -> Option<&Scaling> {
        self.scaling.as_ref()
    }

    /// Sets (or clears) the standardization. Errors when its sizes do not match the network.
    pub fn set_scaling(&mut self, scaling: Option<Scaling>) -> Result<()> {
        if let Some(s) = &scaling {
            s.check_shape(self.num_inputs(), self.num_outputs())?;
        }
        self.scaling = scaling;
        Ok(())
    }

    pub(crate) fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Checks that a row-major batch has a whole number of rows of `width` values, returning the
    /// row count; `what` names the argument in the error.
    pub(crate) fn rows_of(&self, len: usize, width: usize, what: &str) -> Result<usize> {
        if len == 0 {
            return Err(Error::InvalidArgument(format!("{what} is empty")));
        }
        if !len.is_multiple_of(width) {
            return Err(Error::ShapeMismatch(format!(
                "{what} has {len} values, not a multiple of {width} per row"
            )));
        }
        Ok(len / width)
    }
}

/// The class of each row of `y` (`n_out` values per row): see [`Network::classify`].
pub(crate) fn classes_of(y: &[f32], n_out: usize) -> Vec<f32> {
    y.chunks_exact(n_out)
        .map(|row| {
            if n_out == 1 {
                if row[0] >= 0.0 { 1.0 } else { -1.0 }
            } else {
                let mut best = 0;
                for (k, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = k;
                    }
                }
                best as f32
            }
        })
        .collect()
}

fn check_init_range(r: f32) -> Result<()> {
    if !r.is_finite() || r < 0.0 {
        return Err(Error::InvalidArgument(format!(
            "init_range must be finite and >= 0, got {r}"
        )));
    }
    Ok(())
}

pub(crate) fn fill_uniform(w: &mut [f32], seed: u64, r: f32) {
    let mut rng = SeededRng::new(seed, 0);
    for v in w {
        *v = rng.symmetric(r);
    }
}

/// "3-5-1".
pub(crate) fn layers_string(layers: &[usize]) -> String {
    layers
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Activation buffers for one forward pass: `acts[l]` holds `x(l)` with `x_0 = 1` first.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    pub(crate) acts: Vec<Vec<f32>>,
}

impl Forward {
    pub(crate) fn new(net: &Network) -> Result<Forward> {
        let mut acts = Vec::with_capacity(net.layers.len());
        for &d in &net.layers {
            let mut a = try_zeroed(d + 1, "the activations")?;
            a[0] = 1.0;
            acts.push(a);
        }
        Ok(Forward { acts })
    }

    /// Runs the forward pass on `x` (`d(0)` values) and returns the `d(L)` outputs.
    pub(crate) fn run(&mut self, net: &Network, x: &[f32]) -> &[f32] {
        self.acts[0][1..].copy_from_slice(x);
        let big_l = net.num_layers();
        let k = net.kernels;
        for l in 1..=big_l {
            let rows = net.layers[l - 1] + 1;
            let cols = net.layers[l];
            let w = &net.weights[net.offsets[l - 1]..net.offsets[l]];
            let (prev, next) = self.acts.split_at_mut(l);
            let out = &mut next[0][1..];
            k.matvec_unchecked(w, rows, cols, &prev[l - 1], out);
            if l < big_l || net.output == Output::Tanh {
                k.tanh(out);
            }
        }
        &self.acts[big_l][1..]
    }
}
