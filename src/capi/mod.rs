//! The C ABI: `extern "C"` functions, status codes and plain structs; `include/nnet.h` is
//! generated from this module by cbindgen.
//!
//! Every function
//! - returns an [`NnetStatus`] unless it cannot fail;
//! - checks every pointer for NULL (and alignment), every enum value (they arrive as `u32`
//!   and are parsed, never transmuted), every flag and every size product for overflow
//!   before it forms a slice;
//! - runs its body inside `catch_unwind`: a panic becomes [`NNET_ERR_PANIC`] with a message,
//!   it never unwinds into C;
//! - writes its outputs only on success; a failed call changes nothing the caller owns
//!   (the documented exceptions are `nnet_train` after divergence and after the callback
//!   stopped it);
//! - records the outcome for the calling thread: after a failure [`nnet_last_error`] returns
//!   a message naming the problem and the values, after a success it returns NULL. The message
//!   stays valid until the same thread's next status-returning call.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::Error;
use crate::kernels::Isa;
use crate::network::Network;

// Declaration order is the order of the generated header.
pub mod network;

pub mod regularization;

pub mod train;

pub mod io;

pub mod onnx;

pub mod kernels;

pub mod data;

pub mod optimizer;

mod enums;

pub use data::*;
pub use io::*;
pub use kernels::*;
pub use network::*;
pub use onnx::*;
pub use optimizer::*;
pub use regularization::*;
pub use train::*;

/// The result of a call: `NNET_OK` or one of the `NNET_ERR_*` codes.
pub type NnetStatus = u32;

/// Success.
pub const NNET_OK: NnetStatus = 0;
/// A required pointer was NULL.
pub const NNET_ERR_NULL_POINTER: NnetStatus = 1;
/// An argument is out of range: a zero size or row count, a learning rate <= 0, an unknown
/// enum value, a misaligned or overlapping buffer, an ISA the CPU cannot run, ...
pub const NNET_ERR_INVALID_ARGUMENT: NnetStatus = 2;
/// A size or length does not match the network or another argument.
pub const NNET_ERR_SHAPE_MISMATCH: NnetStatus = 3;
/// NaN or infinity where a finite value is required.
pub const NNET_ERR_NON_FINITE: NnetStatus = 4;
/// Reading or writing a file failed.
pub const NNET_ERR_IO: NnetStatus = 5;
/// A model file or buffer is corrupt, truncated or of an unknown version.
pub const NNET_ERR_FORMAT: NnetStatus = 6;
/// An allocation could not be satisfied.
pub const NNET_ERR_OUT_OF_MEMORY: NnetStatus = 7;
/// Training produced a non-finite loss or weight; the network keeps its last finite weights.
pub const NNET_ERR_DIVERGED: NnetStatus = 8;
/// The `on_epoch` callback returned non-zero; the network keeps the weights training ended
/// with, and the report is written.
pub const NNET_ERR_STOPPED: NnetStatus = 9;
/// A bug inside the library was caught before it could cross into C; the message says where.
pub const NNET_ERR_PANIC: NnetStatus = 10;
/// A size product (rows x columns, bytes of a buffer) overflows `size_t`.
pub const NNET_ERR_OVERFLOW: NnetStatus = 11;

/// A failure on its way to C: the status and the message for `nnet_last_error`.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) status: NnetStatus,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn null(what: &str) -> Fail {
        Fail {
            status: NNET_ERR_NULL_POINTER,
            message: format!("{what} is NULL"),
        }
    }

    pub(crate) fn invalid(message: String) -> Fail {
        Fail {
            status: NNET_ERR_INVALID_ARGUMENT,
            message,
        }
    }

    pub(crate) fn shape(message: String) -> Fail {
        Fail {
            status: NNET_ERR_SHAPE_MISMATCH,
            message,
        }
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        let status = match &e {
            Error::InvalidArgument(_) => NNET_ERR_INVALID_ARGUMENT,
            Error::ShapeMismatch(_) => NNET_ERR_SHAPE_MISMATCH,
            Error::NonFinite(_) => NNET_ERR_NON_FINITE,
            Error::Overflow(_) => NNET_ERR_OVERFLOW,
            Error::OutOfMemory(_) => NNET_ERR_OUT_OF_MEMORY,
            Error::Io(_) => NNET_ERR_IO,
            Error::Format(_) => NNET_ERR_FORMAT,
            Error::Diverged(_) => NNET_ERR_DIVERGED,
        };
        Fail {
            status,
            message: e.to_string(),
        }
    }
}

pub(crate) type CResult<T> = std::result::Result<T, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: Option<String>) {
    let c = message.map(|m| {
        let bytes: Vec<u8> = m.into_bytes().into_iter().filter(|&b| b != 0).collect();
        // no interior NUL is left, so this cannot fail
        CString::new(bytes).unwrap_or_default()
    });
    // `try_with` fails only while the thread is being torn down; nothing to record then.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut slot) = e.try_borrow_mut() {
            *slot = c;
        }
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `f`, catching any panic, records the outcome for `nnet_last_error` and returns the
/// status.
pub(crate) fn guard(f: impl FnOnce() -> CResult<()>) -> NnetStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error(None);
            NNET_OK
        }
        Ok(Err(fail)) => {
            set_last_error(Some(fail.message));
            fail.status
        }
        Err(payload) => {
            set_last_error(Some(format!(
                "internal panic (a bug in nnet): {}",
                panic_message(payload.as_ref())
            )));
            NNET_ERR_PANIC
        }
    }
}

/// Runs `f` for a function that cannot report failure; a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Checks a pointer to one `T`: not NULL and aligned.
pub(crate) fn check_ptr<T>(p: *const T, what: &str) -> CResult<()> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    if !p.is_aligned() {
        return Err(Fail::invalid(format!(
            "{what} ({p:p}) is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    Ok(())
}

/// The byte length of `len` values of `T` when it is a valid slice size and the range
/// starting at `p` does not wrap around the address space.
fn byte_len<T>(p: *const T, len: usize, what: &str) -> CResult<usize> {
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(|| Fail {
            status: NNET_ERR_OVERFLOW,
            message: format!(
                "{what}: {len} values of {} bytes exceed the address space",
                std::mem::size_of::<T>()
            ),
        })?;
    if (p as usize).checked_add(bytes).is_none() {
        return Err(Fail::invalid(format!(
            "{what}: {len} values starting at {p:p} wrap around the address space"
        )));
    }
    Ok(bytes)
}

/// A shared slice of `len` values at `p` after the NULL, alignment and size checks.
///
/// # Safety
/// When `p` is not NULL it must point to `len` initialized values of `T` that are not written
/// through any other pointer while the returned slice is alive.
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: usize, what: &str) -> CResult<&'a [T]> {
    check_ptr(p, what)?;
    byte_len(p, len, what)?;
    // SAFETY: `p` is non-NULL and aligned, `len * size_of::<T>()` fits in isize and does not
    // wrap; the caller guarantees `len` readable values that nobody writes meanwhile.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A mutable slice of `len` values at `p` after the NULL, alignment and size checks.
///
/// # Safety
/// When `p` is not NULL it must point to `len` writable values of `T` that no other live
/// reference reads or writes.
pub(crate) unsafe fn slice_mut<'a, T>(p: *mut T, len: usize, what: &str) -> CResult<&'a mut [T]> {
    check_ptr(p, what)?;
    byte_len(p, len, what)?;
    // SAFETY: as in `slice`; the caller guarantees exclusive access to the `len` values.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// Errors when the byte ranges of two buffers overlap (an output must not alias an input).
pub(crate) fn check_disjoint<T, U>(
    a: *const T,
    a_len: usize,
    a_what: &str,
    b: *const U,
    b_len: usize,
    b_what: &str,
) -> CResult<()> {
    let a0 = a as usize;
    let b0 = b as usize;
    let a1 = a0.saturating_add(a_len.saturating_mul(std::mem::size_of::<T>()));
    let b1 = b0.saturating_add(b_len.saturating_mul(std::mem::size_of::<U>()));
    if a0 < b1 && b0 < a1 {
        return Err(Fail::invalid(format!(
            "{a_what} ({a:p}, {a_len} values) overlaps {b_what} ({b:p}, {b_len} values)"
        )));
    }
    Ok(())
}

/// `a * b` for a buffer length, or an overflow failure naming `what`.
pub(crate) fn mul(a: usize, b: usize, what: &str) -> CResult<usize> {
    Ok(crate::error::checked_mul(a, b, what)?)
}

/// The network behind a handle.
///
/// # Safety
/// When `p` is not NULL it must be a live handle from this library, not freed, not being
/// changed by another thread.
pub(crate) unsafe fn net_ref<'a>(p: *const NnetNetwork) -> CResult<&'a Network> {
    check_ptr(p, "the network")?;
    // SAFETY: non-NULL and aligned; the caller guarantees a live handle with no concurrent
    // writer.
    Ok(unsafe { &(*p).net })
}

/// The network behind a handle, for changing it.
///
/// # Safety
/// When `p` is not NULL it must be a live handle from this library that no other thread uses
/// during the call.
pub(crate) unsafe fn net_mut<'a>(p: *mut NnetNetwork) -> CResult<&'a mut Network> {
    check_ptr(p, "the network")?;
    // SAFETY: non-NULL and aligned; the caller guarantees exclusive use of a live handle.
    Ok(unsafe { &mut (*p).net })
}

/// A static NUL-terminated name of an instruction set.
pub(crate) fn isa_cstr(isa: Isa) -> *const c_char {
    let s: &'static std::ffi::CStr = match isa {
        Isa::Scalar => c"scalar",
        Isa::Avx2 => c"avx2",
        Isa::Avx512 => c"avx512",
        Isa::Neon => c"neon",
    };
    s.as_ptr()
}

static VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version, e.g. "0.3.0": a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn nnet_version() -> *const c_char {
    VERSION_NUL.as_ptr().cast()
}

/// The kernel set in use for the process: "avx512", "avx2", "neon" or "scalar" (the
/// `NNET_ISA` environment variable forces one the CPU can run). A static NUL-terminated
/// string.
#[unsafe(no_mangle)]
pub extern "C" fn nnet_isa() -> *const c_char {
    guard_value(c"scalar".as_ptr(), || isa_cstr(Isa::selected()))
}

/// The calling thread's last error message, or NULL when its last status-returning call
/// succeeded (or it made none). The string belongs to the library and stays valid until the
/// same thread's next status-returning call; copy it to keep it.
#[unsafe(no_mangle)]
pub extern "C" fn nnet_last_error() -> *const c_char {
    guard_value(std::ptr::null(), || {
        LAST_ERROR
            .try_with(|e| match e.try_borrow() {
                Ok(slot) => slot.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                Err(_) => std::ptr::null(),
            })
            .unwrap_or(std::ptr::null())
    })
}

/// A short static description of a status code, e.g. "shape mismatch"; "unknown status"
/// for a value that is not an `NNET_*` status. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn nnet_status_string(status: NnetStatus) -> *const c_char {
    let s: &'static std::ffi::CStr = match status {
        NNET_OK => c"ok",
        NNET_ERR_NULL_POINTER => c"null pointer",
        NNET_ERR_INVALID_ARGUMENT => c"invalid argument",
        NNET_ERR_SHAPE_MISMATCH => c"shape mismatch",
        NNET_ERR_NON_FINITE => c"non-finite value",
        NNET_ERR_IO => c"i/o error",
        NNET_ERR_FORMAT => c"format error",
        NNET_ERR_OUT_OF_MEMORY => c"out of memory",
        NNET_ERR_DIVERGED => c"training diverged",
        NNET_ERR_STOPPED => c"training stopped by the callback",
        NNET_ERR_PANIC => c"internal panic",
        NNET_ERR_OVERFLOW => c"size overflow",
        _ => c"unknown status",
    };
    s.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    pub(crate) fn last_error() -> Option<String> {
        let p = nnet_last_error();
        if p.is_null() {
            None
        } else {
            // SAFETY: a non-NULL result is a NUL-terminated string owned by this thread's slot.
            Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        }
    }

    #[test]
    fn a_panic_becomes_a_status_with_a_message() {
        let status = guard(|| panic!("boom at {}", 42));
        assert_eq!(status, NNET_ERR_PANIC);
        let m = last_error().unwrap();
        assert!(m.contains("boom at 42"), "{m}");
        assert_eq!(guard(|| Ok(())), NNET_OK);
        assert_eq!(last_error(), None);
        assert_eq!(guard_value(7, || panic!("x")), 7);
    }

    #[test]
    fn errors_map_to_distinct_statuses() {
        let all = [
            Error::InvalidArgument(String::new()),
            Error::ShapeMismatch(String::new()),
            Error::NonFinite(String::new()),
            Error::Overflow(String::new()),
            Error::OutOfMemory(String::new()),
            Error::Io(String::new()),
            Error::Format(String::new()),
            Error::Diverged(String::new()),
        ];
        let mut codes: Vec<NnetStatus> = all.into_iter().map(|e| Fail::from(e).status).collect();
        codes.extend([NNET_ERR_STOPPED, NNET_ERR_NULL_POINTER, NNET_ERR_PANIC]);
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert!(!codes.contains(&NNET_OK));
        for c in codes {
            // SAFETY: nnet_status_string returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(nnet_status_string(c)) };
            assert_ne!(s.to_str().unwrap(), "unknown status", "code {c}");
        }
    }

    #[test]
    fn messages_lose_interior_nul_and_are_per_thread() {
        let status = guard(|| Err(Fail::invalid("a\0b".into())));
        assert_eq!(status, NNET_ERR_INVALID_ARGUMENT);
        assert_eq!(last_error().as_deref(), Some("ab"));
        std::thread::spawn(|| assert_eq!(last_error(), None))
            .join()
            .unwrap();
        assert_eq!(last_error().as_deref(), Some("ab"));
    }

    #[test]
    fn slices_are_checked() {
        let v = [1.0f32, 2.0];
        // SAFETY: every pointer below is NULL, misaligned or describes too many bytes, so the
        // helpers must fail before forming a slice.
        unsafe {
            assert_eq!(
                slice::<f32>(std::ptr::null(), 1, "x").unwrap_err().status,
                NNET_ERR_NULL_POINTER
            );
            let odd = (v.as_ptr() as *const u8).add(1) as *const f32;
            assert_eq!(
                slice(odd, 1, "x").unwrap_err().status,
                NNET_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                slice(v.as_ptr(), usize::MAX / 2, "x").unwrap_err().status,
                NNET_ERR_OVERFLOW
            );
            let high = (usize::MAX - 15) as *const f32;
            assert_eq!(
                slice(high, 8, "x").unwrap_err().status,
                NNET_ERR_INVALID_ARGUMENT
            );
            assert_eq!(slice(v.as_ptr(), 2, "x").unwrap(), &v);
        }
        let p = v.as_ptr();
        // SAFETY: pointer arithmetic within `v`.
        let q = unsafe { p.add(1) };
        assert!(check_disjoint(p, 1, "a", q, 1, "b").is_ok());
        assert!(check_disjoint(p, 2, "a", q, 1, "b").is_err());
        assert_eq!(
            mul(usize::MAX, 2, "n").unwrap_err().status,
            NNET_ERR_OVERFLOW
        );
    }

    #[test]
    fn static_strings() {
        // SAFETY: both return static NUL-terminated strings.
        let (v, isa) = unsafe { (CStr::from_ptr(nnet_version()), CStr::from_ptr(nnet_isa())) };
        assert_eq!(v.to_str().unwrap(), crate::VERSION);
        assert_eq!(isa.to_str().unwrap(), Isa::selected().name());
    }
}

#[cfg(test)]
mod abi_tests;
