//! The FANN training-data text format.

use std::path::Path;

use super::{Dataset, parse_number, read_text, shorten};
use crate::error::{Error, Result, try_zeroed};

/// Reads a FANN training-data file (`.data`, `.train`, `.test`); see [`parse_fann`].
pub fn read_fann(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_fann(&text, &path.display().to_string())
}

/// Whitespace-separated tokens with their 1-based line numbers.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .flat_map(|(i, line)| line.split_ascii_whitespace().map(move |t| (i + 1, t)))
}

/// Parses FANN training data; `name` (usually the file name) prefixes every error.
///
/// The format: `N n_in n_out`, then for each of the N samples its `n_in` inputs and its `n_out`
/// outputs, all whitespace-separated. FANN writes the inputs of a sample on one line and its
/// outputs on the next; like FANN, the reader treats every run of whitespace, line breaks
/// included, as one separator.
///
/// Errors ([`Error::Format`], naming the line, sample and field) on a header that is not three
/// positive integers, a header whose size the file cannot hold (checked before allocating), a
/// value that is not a number, NaN or infinity, a file that ends before the N samples the
/// header promises, and values after them.
///
/// ```
/// use nnet::data::parse_fann;
/// let ds = parse_fann("2 2 1\n-1 -1\n-1\n-1 1\n1\n", "xor").unwrap();
/// assert_eq!(ds.inputs(), &[-1.0, -1.0, -1.0, 1.0]);
/// assert_eq!(ds.targets(), &[-1.0, 1.0]);
/// ```
pub fn parse_fann(text: &str, name: &str) -> Result<Dataset> {
    let mut toks = tokens(text);
    let mut header = [0usize; 3];
    let what = [
        "the number of samples",
        "the number of inputs",
        "the number of outputs",
    ];
    let mut header_line = 1;
    for (k, h) in header.iter_mut().enumerate() {
        let (ln, t) = toks.next().ok_or_else(|| {
            Error::Format(format!(
                "{name}: the file ends inside the header (expected 'samples inputs outputs', found {k} of 3 numbers)"
            ))
        })?;
        header_line = ln;
        *h = t.parse::<usize>().map_err(|_| {
            Error::Format(format!(
                "{name} line {ln}: header field {} ({}): '{}' is not a non-negative integer",
                k + 1,
                what[k],
                shorten(t)
            ))
        })?;
        if *h == 0 {
            return Err(Error::Format(format!(
                "{name} line {ln}: header field {} ({}) is 0",
                k + 1,
                what[k]
            )));
        }
    }
    let [n, n_in, n_out] = header;
    // every value takes at least one character and one separator: check the claim against the
    // text's length before allocating anything
    let per_sample = n_in.checked_add(n_out);
    let total = per_sample.and_then(|p| p.checked_mul(n));
    let fits = total.is_some_and(|t| t <= text.len() / 2 + 1);
    if !fits {
        return Err(Error::Format(format!(
            "{name} line {header_line}: the header promises {n} samples of {n_in} inputs and {n_out} outputs, \
             more values than a file of {} bytes can hold",
            text.len()
        )));
    }
    let mut inputs = try_zeroed(n * n_in, "the inputs")?;
    let mut targets = try_zeroed(n * n_out, "the targets")?;
    let mut last_line = header_line;
    for s in 0..n {
        let row_in = &mut inputs[s * n_in..(s + 1) * n_in];
        let row_out = &mut targets[s * n_out..(s + 1) * n_out];
        for (j, v) in row_in.iter_mut().chain(row_out.iter_mut()).enumerate() {
            let (kind, idx) = if j < n_in {
                ("input", j + 1)
            } else {
                ("output", j - n_in + 1)
            };
            let Some((ln, t)) = toks.next() else {
                return Err(Error::Format(format!(
                    "{name}: the header (line {header_line}) promises {n} samples, but the file ends \
                     after line {last_line} in sample {} before its {kind} {idx}",
                    s + 1
                )));
            };
            last_line = ln;
            *v = parse_number(t, || {
                format!("{name} line {ln}, sample {}, {kind} {idx}", s + 1)
            })?;
        }
    }
    if let Some((ln, t)) = toks.next() {
        return Err(Error::Format(format!(
            "{name} line {ln}: unexpected value '{}' after the {n} samples the header promises",
            shorten(t)
        )));
    }
    Dataset::new(inputs, targets, n_in, n_out)
}
