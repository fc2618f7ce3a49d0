//! CSV files with a header line: numeric fields, targets chosen by column name or index.

use std::path::Path;

use super::{Dataset, MAX_CLASSES, TargetEncoding, parse_number, read_text, shorten};
use crate::error::{Error, Result};

/// A column of a CSV file: by its header name, by its 0-based index, or the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column whose header field is this name.
    Name(String),
    /// The column at this 0-based index.
    Index(usize),
    /// The last column.
    Last,
}

impl From<&str> for Column {
    fn from(s: &str) -> Column {
        Column::Name(s.to_string())
    }
}

impl From<String> for Column {
    fn from(s: String) -> Column {
        Column::Name(s)
    }
}

impl From<usize> for Column {
    fn from(i: usize) -> Column {
        Column::Index(i)
    }
}

/// How [`read_csv`] turns a CSV file into a [`Dataset`]: which columns are targets (every other
/// column is an input, in file order) and how they are encoded.
///
/// ```
/// use nnet::data::{CsvOptions, Column, TargetEncoding};
/// // the last column holds class ids 0..9: ten +-1 outputs
/// let digits = CsvOptions::one_hot("target").num_classes(10);
/// // two regression targets, by index
/// let reg = CsvOptions::values([3usize, 4]);
/// assert_eq!(reg.targets, vec![Column::Index(3), Column::Index(4)]);
/// assert_eq!(CsvOptions::default().encoding, TargetEncoding::Values);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The target columns. Default: the last column.
    pub targets: Vec<Column>,
    /// How targets are encoded; `OneHot` and `Binary` take exactly one target column of class
    /// ids (non-negative integers). Default `Values`.
    pub encoding: TargetEncoding,
    /// The number of classes for `OneHot`; `None` takes the largest id in the file plus one.
    /// Give it when a file might not hold every class (a small test split). Default `None`.
    pub classes: Option<usize>,
    /// The field separator. Default `b','`.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            targets: vec![Column::Last],
            encoding: TargetEncoding::Values,
            classes: None,
            delimiter: b',',
        }
    }
}

impl CsvOptions {
    /// Regression: these columns' values are the targets.
    pub fn values<C: Into<Column>>(columns: impl IntoIterator<Item = C>) -> CsvOptions {
        CsvOptions {
            targets: columns.into_iter().map(Into::into).collect(),
            ..CsvOptions::default()
        }
    }

    /// Classification: `column` holds class ids `0..k`, encoded as `k` one-hot +-1 outputs.
    pub fn one_hot(column: impl Into<Column>) -> CsvOptions {
        CsvOptions {
            targets: vec![column.into()],
            encoding: TargetEncoding::OneHot,
            ..CsvOptions::default()
        }
    }

    /// Binary classification: `column` holds ids 0 and 1, encoded as one output (-1 and +1).
    pub fn binary(column: impl Into<Column>) -> CsvOptions {
        CsvOptions {
            targets: vec![column.into()],
            encoding: TargetEncoding::Binary,
            ..CsvOptions::default()
        }
    }

    /// Sets the number of classes of a one-hot encoding.
    pub fn num_classes(mut self, classes: usize) -> CsvOptions {
        self.classes = Some(classes);
        self
    }

    /// Sets the field separator.
    pub fn delimiter(mut self, delimiter: u8) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }
}

/// Reads a CSV file with a header line; see [`parse_csv`].
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_csv(&text, &path.display().to_string(), options)
}

/// Resolves the target columns to sorted-by-request indices.
fn target_indices(header: &[&str], name: &str, options: &CsvOptions) -> Result<Vec<usize>> {
    let width = header.len();
    if options.targets.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{name}: no target column was chosen"
        )));
    }
    if options.encoding != TargetEncoding::Values && options.targets.len() != 1 {
        return Err(Error::InvalidArgument(format!(
            "{name}: class ids come from exactly one column, {} were chosen",
            options.targets.len()
        )));
    }
    let mut out: Vec<usize> = Vec::with_capacity(options.targets.len());
    for c in &options.targets {
        let i = match c {
            Column::Last => width - 1,
            Column::Index(i) if *i < width => *i,
            Column::Index(i) => {
                return Err(Error::InvalidArgument(format!(
                    "{name}: target column index {i} is outside the file's {width} columns"
                )));
            }
            Column::Name(n) => {
                let found: Vec<usize> = (0..width).filter(|&j| header[j] == n).collect();
                match found[..] {
                    [j] => j,
                    [] => {
                        return Err(Error::InvalidArgument(format!(
                            "{name}: no column is named '{n}' (the header has: {})",
                            shorten(&header.join(", "))
                        )));
                    }
                    _ => {
                        return Err(Error::Format(format!(
                            "{name} line 1: the column name '{n}' appears {} times",
                            found.len()
                        )));
                    }
                }
            }
        };
        if out.contains(&i) {
            return Err(Error::InvalidArgument(format!(
                "{name}: target column {i} ('{}') is chosen twice",
                header[i]
            )));
        }
        out.push(i);
    }
    if out.len() == width {
        return Err(Error::InvalidArgument(format!(
            "{name}: every one of the {width} columns is a target; no inputs are left"
        )));
    }
    Ok(out)
}

/// A header field without surrounding whitespace and double quotes.
fn header_name(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|g| g.strip_suffix('"'))
        .unwrap_or(f)
}

/// Parses CSV text with a header line; `name` (usually the file name) prefixes every error.
///
/// Every line after the header is one sample with as many fields as the header; blank lines and
/// a leading byte-order mark are skipped; fields may have surrounding spaces. Every field is a finite number; class-id
/// columns hold non-negative integers below [`MAX_CLASSES`](super::MAX_CLASSES). The target
/// columns are chosen by `options`; the other columns are the inputs, in file order.
///
/// Errors ([`Error::Format`], naming the line and field) on an empty file, a line with too few
/// or too many fields, a field that is not a number, NaN or infinity, a class id that is not a
/// non-negative integer or not below `options.classes`, and a file without data rows;
/// ([`Error::InvalidArgument`]) on target columns that do not exist.
pub fn parse_csv(text: &str, name: &str, options: &CsvOptions) -> Result<Dataset> {
    let delim = options.delimiter as char;
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header_line = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l)
        .ok_or_else(|| {
            Error::Format(format!(
                "{name}: the file is empty (expected a header line)"
            ))
        })?;
    let header_line = header_line.strip_prefix('\u{feff}').unwrap_or(header_line);
    let header: Vec<&str> = header_line.split(delim).map(header_name).collect();
    let width = header.len();
    if width < 2 {
        return Err(Error::Format(format!(
            "{name} line 1: the header has {width} column; at least 2 are needed (inputs and a target; is the delimiter '{delim}'?)"
        )));
    }
    let targets = target_indices(&header, name, options)?;
    // slot[f]: the position of column f among the targets, if it is one
    let mut slot: Vec<Option<usize>> = vec![None; width];
    for (k, &t) in targets.iter().enumerate() {
        slot[t] = Some(k);
    }
    let n_in = width - targets.len();
    let classes_mode = options.encoding != TargetEncoding::Values;
    let class_limit = match (options.encoding, options.classes) {
        (TargetEncoding::Binary, _) => 2,
        (_, Some(k)) => k.min(MAX_CLASSES),
        (_, None) => MAX_CLASSES,
    };
    if let Some(k) = options.classes
        && !(2..=MAX_CLASSES).contains(&k)
    {
        return Err(Error::InvalidArgument(format!(
            "{name}: the number of classes must be in 2..={MAX_CLASSES}, got {k}"
        )));
    }

    let mut inputs: Vec<f32> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    let mut row_in: Vec<f32> = Vec::with_capacity(n_in);
    let mut row_t: Vec<f32> = vec![0.0; targets.len()];
    for (ln, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let count = line.split(delim).count();
        if count != width {
            return Err(Error::Format(format!(
                "{name} line {ln}: {} fields, the header has {width}",
                if count < width {
                    format!("too few fields: {count}")
                } else {
                    format!("too many fields: {count}")
                }
            )));
        }
        row_in.clear();
        for (f, field) in line.split(delim).enumerate() {
            let field = field.trim();
            let at = || format!("{name} line {ln}, field {} ('{}')", f + 1, header[f]);
            let v = parse_number(field, at)?;
            match slot[f] {
                Some(k) => row_t[k] = v,
                None => row_in.push(v),
            }
        }
        if classes_mode {
            let v = row_t[0];
            let f = targets[0];
            if v < 0.0 || v.fract() != 0.0 || v as usize >= class_limit {
                let why = if v < 0.0 || v.fract() != 0.0 {
                    "is not a non-negative integer".to_string()
                } else {
                    format!("is not below the number of classes, {class_limit}")
                };
                return Err(Error::Format(format!(
                    "{name} line {ln}, field {} ('{}'): class id {v} {why}",
                    f + 1,
                    header[f]
                )));
            }
            labels.push(v as usize);
        } else {
            values.extend_from_slice(&row_t);
        }
        inputs.extend_from_slice(&row_in);
    }
    if inputs.is_empty() {
        return Err(Error::Format(format!(
            "{name}: no data rows after the header"
        )));
    }
    if classes_mode {
        let classes = match options.encoding {
            TargetEncoding::Binary => 2,
            _ => options
                .classes
                .unwrap_or_else(|| labels.iter().max().map_or(0, |m| m + 1).max(2)),
        };
        Dataset::from_labels(inputs, n_in, labels, classes, options.encoding)
    } else {
        Dataset::new(inputs, values, n_in, targets.len())
    }
}
