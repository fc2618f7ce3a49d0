//! The error type of every fallible call in the crate.

use std::fmt;

/// Everything that can go wrong in nnet. Every variant carries a message that names the
/// problem and the values involved ("expected 784 inputs, got 783").
///
/// A call that returns an `Err` leaves everything the caller owns unchanged.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// An argument is outside its valid range (a zero layer size, a learning rate <= 0, ...).
    InvalidArgument(String),
    /// A shape or length does not match the network or another argument.
    ShapeMismatch(String),
    /// NaN or infinity where a finite number is required.
    NonFinite(String),
    /// A size computation overflows `usize`.
    Overflow(String),
    /// Memory for the request could not be allocated, or a network would have more than
    /// [`Network::MAX_WEIGHTS`](crate::Network::MAX_WEIGHTS) weights.
    OutOfMemory(String),
    /// Reading or writing a file failed.
    Io(String),
    /// A model file or buffer is corrupt, truncated or of an unknown version.
    Format(String),
    /// Training produced a non-finite loss or weight; the network keeps its last finite weights.
    Diverged(String),
}

impl Error {
    /// The message without the category prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(m)
            | Error::ShapeMismatch(m)
            | Error::NonFinite(m)
            | Error::Overflow(m)
            | Error::OutOfMemory(m)
            | Error::Io(m)
            | Error::Format(m)
            | Error::Diverged(m) => m,
        }
    }

    fn category(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "invalid argument",
            Error::ShapeMismatch(_) => "shape mismatch",
            Error::NonFinite(_) => "non-finite value",
            Error::Overflow(_) => "size overflow",
            Error::OutOfMemory(_) => "out of memory",
            Error::Io(_) => "i/o error",
            Error::Format(_) => "format error",
            Error::Diverged(_) => "training diverged",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.category(), self.message())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Allocates a zeroed `Vec<f32>` of `len` elements fallibly: a request that cannot be
/// satisfied is an [`Error::OutOfMemory`], never an abort.
pub(crate) fn try_zeroed(len: usize, what: &str) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::OutOfMemory(format!(
            "cannot allocate {len} floats ({} bytes) for {what}",
            len.saturating_mul(4)
        ))
    })?;
    v.resize(len, 0.0);
    Ok(v)
}

/// `a * b` or an [`Error::Overflow`] naming `what`.
pub(crate) fn checked_mul(a: usize, b: usize, what: &str) -> Result<usize> {
    a.checked_mul(b)
        .ok_or_else(|| Error::Overflow(format!("{what}: {a} x {b} overflows usize")))
}

/// Checks that every value is finite; the message names `what` and the first bad index.
pub(crate) fn check_finite(values: &[f32], what: &str) -> Result<()> {
    // a branch-free scan (it vectorizes) in blocks; the position only when a block fails
    let bad = |c: &[f32]| {
        c.iter().fold(0u32, |a, v| {
            a | u32::from(v.to_bits() & 0x7f80_0000 == 0x7f80_0000)
        }) != 0
    };
    if !values.chunks(4096).any(bad) {
        return Ok(());
    }
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::NonFinite(format!(
            "{what}[{i}] is {} (every value must be finite)",
            values[i]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_allocation_is_an_error() {
        // more than isize::MAX bytes: refused by the allocator API on every platform
        let e = try_zeroed(usize::MAX / 2, "a test buffer").unwrap_err();
        assert!(matches!(e, Error::OutOfMemory(_)), "{e:?}");
        assert!(e.message().contains(&(usize::MAX / 2).to_string()), "{e}");
        assert!(e.message().contains("a test buffer"), "{e}");
        assert_eq!(try_zeroed(3, "x").unwrap(), vec![0.0; 3]);
    }

    #[test]
    fn checked_mul_and_check_finite_name_the_values() {
        let e = checked_mul(usize::MAX, 2, "rows").unwrap_err();
        assert!(matches!(e, Error::Overflow(_)));
        assert!(e.message().contains(&usize::MAX.to_string()));
        assert_eq!(checked_mul(6, 7, "rows").unwrap(), 42);
        let e = check_finite(&[1.0, 2.0, f32::NEG_INFINITY], "w").unwrap_err();
        assert_eq!(e.message(), "w[2] is -inf (every value must be finite)");
        assert!(check_finite(&[0.0, -1.0, f32::MAX], "w").is_ok());
    }
}
