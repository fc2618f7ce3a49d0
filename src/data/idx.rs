//! IDX files (the MNIST format), plain or gzip-compressed.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::{Dataset, MAX_CLASSES, TargetEncoding, read_file};
use crate::error::{Error, Result, try_zeroed};

/// The largest expansion of a deflate stream: every compressed byte yields at most 1032 bytes.
const MAX_DEFLATE_RATIO: usize = 1032;

/// An IDX array of unsigned bytes: its dimensions and its row-major data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// `product(dims)` bytes, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file, gzip-compressed or plain (told apart by the gzip magic); see
/// [`parse_idx`].
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    parse_idx(&bytes, &path.display().to_string())
}

/// The 4-byte magic and the dimensions of an IDX header, from `r`; errors name `name`.
fn read_header(r: &mut impl Read, name: &str) -> Result<Vec<usize>> {
    let mut magic = [0u8; 4];
    read_exact(r, &mut magic, name, "the magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::Format(format!(
            "{name}: not an IDX file (the magic number starts {:02x} {:02x}, expected 00 00)",
            magic[0], magic[1]
        )));
    }
    if magic[2] != 0x08 {
        return Err(Error::Format(format!(
            "{name}: IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            magic[2]
        )));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 {
        return Err(Error::Format(format!(
            "{name}: the IDX header has 0 dimensions"
        )));
    }
    let mut dims = Vec::with_capacity(ndims);
    for k in 0..ndims {
        let mut d = [0u8; 4];
        read_exact(r, &mut d, name, &format!("dimension {}", k + 1))?;
        dims.push(u32::from_be_bytes(d) as usize);
    }
    Ok(dims)
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], name: &str, what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Format(format!("{name}: the file ends inside the header ({what})"))
        } else {
            stream_error(name, e)
        }
    })
}

fn stream_error(name: &str, e: std::io::Error) -> Error {
    Error::Format(format!(
        "{name}: the gzip stream is corrupt or truncated ({e})"
    ))
}

/// Parses an IDX array from the bytes of a file, gzip-compressed (detected by the magic bytes
/// `1f 8b`) or plain; `name` (usually the file name) prefixes every error.
///
/// The format: a big-endian magic number `00 00 08 n` (unsigned bytes, `n` dimensions), `n`
/// big-endian `u32` dimensions, then `product(dims)` bytes.
///
/// Errors ([`Error::Format`]) on a wrong magic number, an element type other than unsigned
/// bytes, a size the file cannot hold (checked against the file's length, or the largest
/// expansion of its gzip stream, before allocating), data that ends early, trailing bytes, and
/// a corrupt or truncated gzip stream.
///
/// ```
/// use nnet::data::parse_idx;
/// // two labels, 3 and 7
/// let a = parse_idx(&[0, 0, 8, 1, 0, 0, 0, 2, 3, 7], "labels").unwrap();
/// assert_eq!(a.dims, vec![2]);
/// assert_eq!(a.data, vec![3, 7]);
/// ```
pub fn parse_idx(bytes: &[u8], name: &str) -> Result<IdxArray> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    if gzip {
        read_stream(&mut MultiGzDecoder::new(bytes), bytes.len(), true, name)
    } else {
        read_stream(&mut &bytes[..], bytes.len(), false, name)
    }
}

fn read_stream(r: &mut impl Read, file_len: usize, gzip: bool, name: &str) -> Result<IdxArray> {
    let dims = read_header(r, name)?;
    let header_len = 4 + 4 * dims.len();
    let dims_text = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" x ");
    let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let limit = if gzip {
        file_len.saturating_mul(MAX_DEFLATE_RATIO)
    } else {
        file_len.saturating_sub(header_len)
    };
    let total = match total {
        Some(t) if t <= limit => t,
        _ => {
            return Err(Error::Format(format!(
                "{name}: the header claims {dims_text} bytes of data, more than a {}file of {file_len} bytes can hold",
                if gzip { "gzip " } else { "" }
            )));
        }
    };
    let mut data = Vec::new();
    data.try_reserve_exact(total).map_err(|_| {
        Error::OutOfMemory(format!(
            "{name}: cannot allocate {total} bytes for {dims_text} data"
        ))
    })?;
    let got = r
        .take(total as u64)
        .read_to_end(&mut data)
        .map_err(|e| stream_error(name, e))?;
    if got < total {
        return Err(Error::Format(format!(
            "{name}: the header claims {dims_text} = {total} bytes of data, but the data ends after {got}"
        )));
    }
    // the rest must be empty; for gzip this also reads (and checks) the stream's trailer
    let mut rest = [0u8; 1];
    let extra = r.read(&mut rest).map_err(|e| stream_error(name, e))?;
    if extra > 0 {
        return Err(Error::Format(format!(
            "{name}: trailing bytes after the {dims_text} = {total} bytes of data"
        )));
    }
    Ok(IdxArray { dims, data })
}

/// Reads an images file and a labels file (IDX, plain or gzip) into a classification data set:
/// the inputs are the image bytes scaled to [0, 1] (`byte / 255`), one row per image (all
/// dimensions after the first flattened), and the targets are one-hot +-1 over `classes`
/// outputs (`None`: the largest label plus one, at least 2). The labels stay available as
/// [`Dataset::labels`].
///
/// Errors when either file cannot be read or parsed, the labels file is not one-dimensional,
/// the counts differ, or a label is not below `classes`.
pub fn read_idx_pair(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    classes: Option<usize>,
) -> Result<Dataset> {
    let (ip, lp) = (images.as_ref(), labels.as_ref());
    let img = read_idx(ip)?;
    let lab = read_idx(lp)?;
    if lab.dims.len() != 1 {
        return Err(Error::Format(format!(
            "{}: a labels file has 1 dimension, this one {}",
            lp.display(),
            lab.dims.len()
        )));
    }
    let rows = img.dims[0];
    if lab.dims[0] != rows {
        return Err(Error::ShapeMismatch(format!(
            "{} holds {rows} images but {} holds {} labels",
            ip.display(),
            lp.display(),
            lab.dims[0]
        )));
    }
    if rows == 0 {
        return Err(Error::Format(format!("{}: no images", ip.display())));
    }
    let n_in = img.data.len() / rows;
    if n_in == 0 {
        return Err(Error::Format(format!(
            "{}: the images have 0 pixels",
            ip.display()
        )));
    }
    let max = lab.data.iter().copied().max().unwrap_or(0) as usize;
    let classes = match classes {
        Some(k) if (2..=MAX_CLASSES).contains(&k) => k,
        Some(k) => {
            return Err(Error::InvalidArgument(format!(
                "the number of classes must be in 2..={MAX_CLASSES}, got {k}"
            )));
        }
        None => (max + 1).max(2),
    };
    if max >= classes {
        let i = lab
            .data
            .iter()
            .position(|&l| l as usize >= classes)
            .unwrap_or(0);
        return Err(Error::Format(format!(
            "{}: label {} of item {i} is not below the number of classes, {classes}",
            lp.display(),
            lab.data[i]
        )));
    }
    let mut inputs = try_zeroed(img.data.len(), "the image inputs")?;
    for (x, &b) in inputs.iter_mut().zip(&img.data) {
        *x = b as f32 / 255.0;
    }
    drop(img);
    let labels: Vec<usize> = lab.data.iter().map(|&l| l as usize).collect();
    Dataset::from_labels(inputs, n_in, labels, classes, TargetEncoding::OneHot)
}

/// The first of `dir/stem.gz` and `dir/stem` that exists (the `.gz` name when neither does).
fn find(dir: &Path, stem: &str) -> PathBuf {
    let gz = dir.join(format!("{stem}.gz"));
    let plain = dir.join(stem);
    if !gz.exists() && plain.exists() {
        plain
    } else {
        gz
    }
}

/// Reads MNIST from a folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (each gzip-compressed with a `.gz`
/// suffix, or plain): `(train, test)`, 60000 and 10000 rows of 784 inputs in [0, 1] and 10
/// one-hot +-1 targets.
///
/// Errors with [`Error::Io`] naming the missing file when the folder does not hold them.
pub fn read_mnist(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.as_ref();
    let train = read_idx_pair(
        find(dir, "train-images-idx3-ubyte"),
        find(dir, "train-labels-idx1-ubyte"),
        Some(10),
    )?;
    let test = read_idx_pair(
        find(dir, "t10k-images-idx3-ubyte"),
        find(dir, "t10k-labels-idx1-ubyte"),
        Some(10),
    )?;
    Ok((train, test))
}
