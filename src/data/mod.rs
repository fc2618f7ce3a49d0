//! Data sets: a row-major [`Dataset`] of inputs and targets, and loaders for CSV files with a
//! header ([`read_csv`]), the FANN training-data format ([`read_fann`]) and IDX files such as
//! MNIST, plain or gzip-compressed ([`read_idx`], [`read_idx_pair`], [`read_mnist`]).
//!
//! Every loader checks what it reads: a missing or extra field, a value that is not a number,
//! NaN or infinity, or a header that promises more data than the file holds is an
//! [`Error::Format`] naming the file, the line and the field; a file that cannot be read is an
//! [`Error::Io`] naming the file. Sizes claimed by a header are checked against the file's
//! length before anything is allocated, so a corrupt header cannot make the loader ask for
//! gigabytes.
//!
//! ```
//! use nnet::data::{parse_csv, CsvOptions};
//! let text = "a,b,target\n0.5,1,0\n1.5,2,2\n";
//! let ds = parse_csv(text, "example.csv", &CsvOptions::one_hot("target")).unwrap();
//! assert_eq!((ds.rows(), ds.num_inputs(), ds.num_outputs()), (2, 2, 3));
//! assert_eq!(ds.inputs(), &[0.5, 1.0, 1.5, 2.0]);
//! assert_eq!(ds.targets(), &[1.0, -1.0, -1.0, -1.0, -1.0, 1.0]); // one-hot, +-1
//! assert_eq!(ds.labels(), Some(&[0, 2][..]));
//! ```

mod csv;
mod fann;
mod idx;

pub use csv::{Column, CsvOptions, parse_csv, read_csv};
pub use fann::{parse_fann, read_fann};
pub use idx::{IdxArray, parse_idx, read_idx, read_idx_pair, read_mnist};

use crate::error::{Error, Result, check_finite, checked_mul, try_zeroed};
use crate::network::Network;
use crate::rng::SeededRng;
use crate::scaling::Scaling;

/// The largest class id a loader accepts (class ids are `0..MAX_CLASSES`); a larger id is an
/// error rather than a request for a gigantic one-hot target matrix.
pub const MAX_CLASSES: usize = 65536;

/// The random stream of [`Dataset::shuffled`] and [`Dataset::split`]; distinct from the streams
/// of weight initialization and sample order.
const SHUFFLE_STREAM: u64 = 0x0DA7_A5E7;

/// How class ids become targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetEncoding {
    /// The target columns' values as they are (regression).
    #[default]
    Values,
    /// Class ids `0..k` become `k` outputs: +1 for the class, -1 elsewhere (for a tanh output
    /// layer and argmax classification).
    OneHot,
    /// Two classes, ids 0 and 1, become one output: -1 for class 0, +1 for class 1 (for a tanh
    /// output and `sign` classification).
    Binary,
}

/// A data set: `rows` samples of `n_in` inputs and `n_out` targets, stored row-major as `f32`,
/// and, for classification, the class id of every row.
///
/// ```
/// use nnet::data::Dataset;
/// let ds = Dataset::new(vec![0.0, 1.0, 2.0, 3.0], vec![1.0, -1.0], 2, 1).unwrap();
/// assert_eq!(ds.rows(), 2);
/// assert_eq!(ds.row(1), Some((&[2.0, 3.0][..], &[-1.0][..])));
/// let (a, b) = ds.split(0.5, 7).unwrap();
/// assert_eq!(a.rows() + b.rows(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    n_in: usize,
    n_out: usize,
    rows: usize,
    labels: Option<Vec<usize>>,
    classes: usize,
}

/// Checks that `data` is `rows` whole rows of `width` and returns `rows`.
fn whole_rows(len: usize, width: usize, what: &str) -> Result<usize> {
    if width == 0 {
        return Err(Error::InvalidArgument(format!(
            "{what}: the row width must be >= 1, got 0"
        )));
    }
    if len == 0 {
        return Err(Error::InvalidArgument(format!("{what} is empty")));
    }
    if !len.is_multiple_of(width) {
        return Err(Error::ShapeMismatch(format!(
            "{what} has {len} values, not a whole number of rows of {width}"
        )));
    }
    Ok(len / width)
}

/// The +-1 targets of class ids: one-hot over `classes` outputs, or one output for `Binary`.
fn encode_labels(labels: &[usize], classes: usize, encoding: TargetEncoding) -> Result<Vec<f32>> {
    let width = match encoding {
        TargetEncoding::Values => {
            return Err(Error::InvalidArgument(
                "class ids need a one-hot or binary encoding, not Values".into(),
            ));
        }
        TargetEncoding::OneHot => classes,
        TargetEncoding::Binary => 1,
    };
    if encoding == TargetEncoding::Binary && classes != 2 {
        return Err(Error::InvalidArgument(format!(
            "the binary encoding needs exactly 2 classes, got {classes}"
        )));
    }
    if let Some((i, &c)) = labels.iter().enumerate().find(|(_, c)| **c >= classes) {
        return Err(Error::InvalidArgument(format!(
            "class id {c} of row {i} is outside 0..{classes}"
        )));
    }
    let n = checked_mul(labels.len(), width, "the one-hot targets")?;
    let mut t = try_zeroed(n, "the targets")?;
    t.fill(-1.0);
    for (row, &c) in t.chunks_exact_mut(width).zip(labels) {
        match encoding {
            TargetEncoding::Binary => row[0] = if c == 1 { 1.0 } else { -1.0 },
            _ => row[c] = 1.0,
        }
    }
    Ok(t)
}

impl Dataset {
    /// A data set from row-major `inputs` (`n_in` per row) and `targets` (`n_out` per row).
    ///
    /// Errors on a zero width, empty data, lengths that are not whole rows or disagree on the
    /// number of rows, and NaN or infinity.
    pub fn new(inputs: Vec<f32>, targets: Vec<f32>, n_in: usize, n_out: usize) -> Result<Dataset> {
        let rows = whole_rows(inputs.len(), n_in, "the inputs")?;
        let trows = whole_rows(targets.len(), n_out, "the targets")?;
        if rows != trows {
            return Err(Error::ShapeMismatch(format!(
                "{rows} input rows ({n_in} values each) but {trows} target rows ({n_out} values each)"
            )));
        }
        check_finite(&inputs, "input")?;
        check_finite(&targets, "target")?;
        Ok(Dataset {
            inputs,
            targets,
            n_in,
            n_out,
            rows,
            labels: None,
            classes: 0,
        })
    }

    /// A classification data set from row-major `inputs` and one class id per row, with
    /// targets encoded by `encoding` (`OneHot`: `classes` outputs of +-1; `Binary`: one +-1
    /// output, `classes` must be 2). The ids stay available as [`Dataset::labels`].
    ///
    /// ```
    /// use nnet::data::{Dataset, TargetEncoding};
    /// let ds = Dataset::from_labels(vec![0.1, 0.2, 0.3], 1, vec![2, 0, 1], 3,
    ///                               TargetEncoding::OneHot).unwrap();
    /// assert_eq!(ds.targets(), &[-1.0, -1.0, 1.0,  1.0, -1.0, -1.0,  -1.0, 1.0, -1.0]);
    /// ```
    pub fn from_labels(
        inputs: Vec<f32>,
        n_in: usize,
        labels: Vec<usize>,
        classes: usize,
        encoding: TargetEncoding,
    ) -> Result<Dataset> {
        if classes < 2 {
            return Err(Error::InvalidArgument(format!(
                "a classification set needs at least 2 classes, got {classes}"
            )));
        }
        let rows = whole_rows(inputs.len(), n_in, "the inputs")?;
        if labels.len() != rows {
            return Err(Error::ShapeMismatch(format!(
                "{rows} input rows but {} class ids",
                labels.len()
            )));
        }
        let targets = encode_labels(&labels, classes, encoding)?;
        let n_out = targets.len() / rows;
        let mut ds = Dataset::new(inputs, targets, n_in, n_out)?;
        ds.labels = Some(labels);
        ds.classes = classes;
        Ok(ds)
    }

    /// The row-major inputs, `rows() * num_inputs()` values.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }

    /// The row-major targets, `rows() * num_outputs()` values.
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// The number of samples.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of inputs per sample (the network's `d(0)`).
    pub fn num_inputs(&self) -> usize {
        self.n_in
    }

    /// The number of targets per sample (the network's `d(L)`).
    pub fn num_outputs(&self) -> usize {
        self.n_out
    }

    /// The class id of every row, for a classification set.
    pub fn labels(&self) -> Option<&[usize]> {
        self.labels.as_deref()
    }

    /// The number of classes, for a classification set.
    pub fn num_classes(&self) -> Option<usize> {
        self.labels.as_ref().map(|_| self.classes)
    }

    /// Inputs and targets of row `i`, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<(&[f32], &[f32])> {
        (i < self.rows).then(|| {
            (
                &self.inputs[i * self.n_in..(i + 1) * self.n_in],
                &self.targets[i * self.n_out..(i + 1) * self.n_out],
            )
        })
    }

    /// `(inputs, targets)`, the form [`Network::train`] takes for a validation set.
    pub fn as_pair(&self) -> (&[f32], &[f32]) {
        (&self.inputs, &self.targets)
    }

    /// The inputs, targets and labels, consuming the data set.
    pub fn into_parts(self) -> (Vec<f32>, Vec<f32>, Option<Vec<usize>>) {
        (self.inputs, self.targets, self.labels)
    }

    /// A new data set holding rows `indices` in that order (a row may repeat).
    ///
    /// Errors on an empty list or an index `>= rows()`.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        if indices.is_empty() {
            return Err(Error::InvalidArgument(
                "a subset needs at least one row".into(),
            ));
        }
        if let Some(&i) = indices.iter().find(|&&i| i >= self.rows) {
            return Err(Error::InvalidArgument(format!(
                "row index {i} is outside 0..{}",
                self.rows
            )));
        }
        let mut inputs = try_zeroed(
            checked_mul(indices.len(), self.n_in, "the subset")?,
            "the subset inputs",
        )?;
        let mut targets = try_zeroed(
            checked_mul(indices.len(), self.n_out, "the subset")?,
            "the subset targets",
        )?;
        for ((xi, yi), &i) in inputs
            .chunks_exact_mut(self.n_in)
            .zip(targets.chunks_exact_mut(self.n_out))
            .zip(indices)
        {
            xi.copy_from_slice(&self.inputs[i * self.n_in..(i + 1) * self.n_in]);
            yi.copy_from_slice(&self.targets[i * self.n_out..(i + 1) * self.n_out]);
        }
        Ok(Dataset {
            inputs,
            targets,
            n_in: self.n_in,
            n_out: self.n_out,
            rows: indices.len(),
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            classes: self.classes,
        })
    }

    /// The seeded permutation of `0..rows()` behind `shuffled` and `split`: the same seed
    /// gives the same order on every machine.
    pub fn permutation(&self, seed: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.rows).collect();
        SeededRng::new(seed, SHUFFLE_STREAM).shuffle(&mut order);
        order
    }

    /// The rows in a seeded random order (the same seed gives the same order on every machine).
    pub fn shuffled(&self, seed: u64) -> Result<Dataset> {
        self.subset(&self.permutation(seed))
    }

    /// Splits the rows at random into `(first, second)` with `round(fraction * rows())` rows in
    /// `first` and the rest in `second`, e.g. `split(0.8, seed)` for 80% training and 20%
    /// validation. Each part keeps the rows' original relative order; the same seed gives the
    /// same split on every machine.
    ///
    /// Errors when `fraction` is not in (0, 1) or either part would be empty.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "the split fraction must be in (0, 1), got {fraction}"
            )));
        }
        let n1 = (fraction * self.rows as f64).round() as usize;
        if n1 == 0 || n1 >= self.rows {
            return Err(Error::InvalidArgument(format!(
                "splitting {} rows at {fraction} leaves an empty part ({n1} and {})",
                self.rows,
                self.rows.saturating_sub(n1)
            )));
        }
        let order = self.permutation(seed);
        let mut first = order[..n1].to_vec();
        let mut second = order[n1..].to_vec();
        first.sort_unstable();
        second.sort_unstable();
        Ok((self.subset(&first)?, self.subset(&second)?))
    }

    /// Fits a [`Scaling`] (per-column mean and standard deviation) on these inputs and, with
    /// `targets = true` (regression), on the targets too. Give it to the network with
    /// [`Network::set_scaling`]; `predict` then takes raw inputs and returns raw outputs.
    /// A constant column keeps a standard deviation of 1, so it maps to 0 instead of NaN.
    ///
    /// ```
    /// use nnet::data::Dataset;
    /// let ds = Dataset::new(vec![1.0, 5.0, 3.0, 5.0], vec![0.0, 1.0], 2, 1).unwrap();
    /// let s = ds.fit_scaling(false).unwrap();
    /// assert_eq!(s.input_mean(), &[2.0, 5.0]);
    /// assert_eq!(s.input_std(), &[1.0, 1.0]); // column 2 is constant
    /// ```
    pub fn fit_scaling(&self, targets: bool) -> Result<Scaling> {
        let y = targets.then_some(&self.targets[..]);
        Scaling::fit(&self.inputs, self.n_in, y, self.n_out)
    }

    /// The class of every row: its label when the set has labels, otherwise read from the
    /// targets (`sign`, as 1 for >= 0 and 0 below, for one output; the argmax for several).
    pub fn classes(&self) -> Vec<usize> {
        if let Some(l) = &self.labels {
            return l.clone();
        }
        class_ids(&self.targets, self.n_out)
    }

    /// The fraction of rows that `net` classifies correctly: the argmax of its outputs (or, for
    /// one output, `sign`: >= 0 is class 1, below is class 0 / -1) against
    /// [`Dataset::classes`].
    ///
    /// Errors when the network's sizes do not match the data set.
    pub fn accuracy(&self, net: &Network) -> Result<f64> {
        self.check_net(net)?;
        let out = net.predict(&self.inputs)?;
        let predicted = class_ids(&out, self.n_out);
        let truth = self.classes();
        let hits = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
        Ok(hits as f64 / self.rows as f64)
    }

    /// `(1/N) sum_n sum_k (y_nk - out_k(x_n))^2` of `net.predict` (so in the targets' own
    /// units, whatever scaling the network holds), accumulated in f64.
    pub fn error(&self, net: &Network) -> Result<f64> {
        self.check_net(net)?;
        let out = net.predict(&self.inputs)?;
        let sum: f64 = out
            .iter()
            .zip(&self.targets)
            .map(|(&o, &t)| {
                let r = (t - o) as f64;
                r * r
            })
            .sum();
        Ok(sum / self.rows as f64)
    }

    /// The mean squared error over every target value, `error / num_outputs()`: the usual
    /// "MSE" (FANN's `fann_get_MSE` for linear or logistic outputs, scikit-learn's
    /// `mean_squared_error`).
    pub fn mse(&self, net: &Network) -> Result<f64> {
        Ok(self.error(net)? / self.n_out as f64)
    }

    fn check_net(&self, net: &Network) -> Result<()> {
        if net.num_inputs() != self.n_in || net.num_outputs() != self.n_out {
            return Err(Error::ShapeMismatch(format!(
                "the data set has {} inputs and {} outputs, the network {} and {}",
                self.n_in,
                self.n_out,
                net.num_inputs(),
                net.num_outputs()
            )));
        }
        Ok(())
    }
}

/// Argmax per row, or for one value per row 1 when >= 0 and 0 below.
fn class_ids(values: &[f32], width: usize) -> Vec<usize> {
    values
        .chunks_exact(width)
        .map(|row| {
            if width == 1 {
                usize::from(row[0] >= 0.0)
            } else {
                let mut best = 0;
                for (k, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = k;
                    }
                }
                best
            }
        })
        .collect()
}

/// Reads a whole file, mapping failures to [`Error::Io`] naming the file.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}

/// Reads a whole text file, mapping failures to [`Error::Io`] and invalid UTF-8 to
/// [`Error::Format`], both naming the file.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String> {
    let bytes = read_file(path)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::Format(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses one number for a loader: must be a finite `f32`. `at` names the file, line and field.
pub(crate) fn parse_number(text: &str, at: impl Fn() -> String) -> Result<f32> {
    match text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Error::Format(format!(
            "{}: '{text}' is not finite (NaN and infinity are not allowed; f32 holds up to 3.4e38)",
            at()
        ))),
        Err(_) if text.is_empty() => Err(Error::Format(format!("{}: empty field", at()))),
        Err(_) => Err(Error::Format(format!(
            "{}: '{}' is not a number",
            at(),
            shorten(text)
        ))),
    }
}

/// At most 40 characters of `s`, for error messages.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(40).collect::<String>())
    }
}
