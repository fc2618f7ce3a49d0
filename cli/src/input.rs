//! Reading data sets for the commands: the format from the name or --format, the target
//! columns and their encoding for CSV, the labels file for IDX.

use std::path::Path;

use nnet::data::{
    Column, CsvOptions, TargetEncoding, parse_csv, read_csv, read_fann, read_idx, read_idx_pair,
};
use nnet::{Dataset, Error, Result};

use crate::args::{DataArgs, Encoding, Format};

/// The format `--format` names, or the one the file name tells.
pub fn format_of(args: &DataArgs) -> Result<Format> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    let name = args
        .data
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    if stem.ends_with(".csv") {
        Ok(Format::Csv)
    } else if stem.ends_with("-ubyte") || stem.ends_with(".idx") || stem.contains("-idx") {
        Ok(Format::Idx)
    } else if [".data", ".train", ".test", ".fann"]
        .iter()
        .any(|e| stem.ends_with(e))
    {
        Ok(Format::Fann)
    } else {
        Err(Error::InvalidArgument(format!(
            "{}: cannot tell the format from the name: give --format csv, fann or idx",
            args.data.display()
        )))
    }
}

/// A `--target` value: a 0-based index when it is all digits, else a header name.
fn column(s: &str) -> Column {
    match s.parse::<usize>() {
        Ok(i) => Column::Index(i),
        Err(_) => Column::Name(s.to_string()),
    }
}

/// The CSV options for a network with `n_out` outputs.
fn csv_options(args: &DataArgs, n_out: usize) -> CsvOptions {
    let targets: Vec<Column> = if args.target.is_empty() {
        vec![Column::Last]
    } else {
        args.target.iter().map(|t| column(t)).collect()
    };
    let encoding = match args.encoding {
        Encoding::Auto if targets.len() == 1 && n_out >= 2 => TargetEncoding::OneHot,
        Encoding::Auto | Encoding::Values => TargetEncoding::Values,
        Encoding::OneHot => TargetEncoding::OneHot,
        Encoding::Binary => TargetEncoding::Binary,
    };
    let options = CsvOptions {
        targets,
        encoding,
        ..CsvOptions::default()
    };
    if encoding == TargetEncoding::OneHot {
        options.num_classes(n_out)
    } else {
        options
    }
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::Format(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Inputs and targets for a network with `n_out` outputs (training and evaluation).
pub fn load_labelled(args: &DataArgs, n_out: usize) -> Result<Dataset> {
    let path = &args.data;
    match format_of(args)? {
        Format::Csv => read_csv(path, &csv_options(args, n_out)),
        Format::Fann => read_fann(path),
        Format::Idx => match &args.labels {
            Some(labels) => read_idx_pair(path, labels, Some(n_out)),
            None => Err(Error::InvalidArgument(format!(
                "{}: IDX images need their labels file: give --labels",
                path.display()
            ))),
        },
    }
}

/// The inputs of every row, for a network with `n_in` inputs and `n_out` outputs (prediction).
/// A CSV file may hold only the input columns; with more columns, the targets are those of
/// `--target` (or the last column when there is exactly one extra).
pub fn load_inputs(args: &DataArgs, n_in: usize, n_out: usize) -> Result<Vec<f32>> {
    let path = &args.data;
    match format_of(args)? {
        Format::Csv => {
            let text = read_text(path)?;
            let width = text.lines().next().map_or(0, |h| h.split(',').count());
            if args.target.is_empty() && width == n_in {
                return parse_inputs(&text, &path.display().to_string());
            }
            if args.target.is_empty() && width != n_in + 1 {
                return Err(Error::ShapeMismatch(format!(
                    "{}: {width} columns, the network takes {n_in} inputs: name the target columns with --target",
                    path.display()
                )));
            }
            let mut options = csv_options(args, n_out);
            // the targets are dropped: read them as plain values
            options.encoding = TargetEncoding::Values;
            options.classes = None;
            let set = parse_csv(&text, &path.display().to_string(), &options)?;
            Ok(set.into_parts().0)
        }
        Format::Fann => Ok(read_fann(path)?.into_parts().0),
        Format::Idx => {
            let images = read_idx(path)?;
            Ok(images.data.iter().map(|&b| b as f32 / 255.0).collect())
        }
    }
}

/// A CSV text of input columns only: a header line, then rows of finite numbers.
fn parse_inputs(text: &str, name: &str) -> Result<Vec<f32>> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => return Err(Error::Format(format!("{name}: empty file"))),
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            return Err(Error::Format(format!(
                "{name}: line {}: {} fields, the header has {}",
                i + 1,
                fields.len(),
                header.len()
            )));
        }
        for (j, f) in fields.iter().enumerate() {
            match f.parse::<f32>() {
                Ok(v) if v.is_finite() => out.push(v),
                _ => {
                    return Err(Error::Format(format!(
                        "{name}: line {}, field {} ({}): '{f}' is not a finite number",
                        i + 1,
                        j + 1,
                        header[j]
                    )));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Format(format!("{name}: no data rows")));
    }
    Ok(out)
}
