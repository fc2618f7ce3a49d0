//! Saving and loading networks through the C ABI: files and in-memory buffers.

use std::ffi::{CStr, c_char};
use std::path::PathBuf;

use super::network::{NnetNetwork, store_handle};
use super::{CResult, Fail, NnetStatus, check_ptr, guard, guard_value, net_ref, slice};
use crate::network::Network;

/// A path from a NUL-terminated C string (bytes as-is on Unix, UTF-8 elsewhere).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
pub(crate) unsafe fn c_path(path: *const c_char) -> CResult<PathBuf> {
    if path.is_null() {
        return Err(Fail::null("path"));
    }
    // SAFETY: non-NULL; the caller guarantees a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    if bytes.is_empty() {
        return Err(Fail::invalid("path is empty".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|e| Fail::invalid(format!("path is not UTF-8: {e}")))
    }
}

/// Writes the network to the file `path` (NUL-terminated) in the versioned, checksummed
/// model format, replacing an existing file. The format is described in the crate docs
/// (module `model_file`).
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `path` a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_save(net: *const NnetNetwork, path: *const c_char) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = unsafe { c_path(path)? };
        net.save(&path)?;
        Ok(())
    })
}

/// Reads a network saved by `nnet_save`. On success `*out` receives a new handle to free
/// with `nnet_network_free`; a missing file is `NNET_ERR_IO`, a corrupt, truncated or
/// unknown-version file `NNET_ERR_FORMAT`, and `*out` is then not written.
///
/// # Safety
/// `path` must be a NUL-terminated string and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_load(path: *const c_char, out: *mut *mut NnetNetwork) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a NUL-terminated string and a writable `out`.
        unsafe { load_into(out, || Ok(Network::load(&c_path(path)?)?)) }
    })
}

/// The bytes `nnet_save` would write, in a new buffer: `*out` receives the buffer and `*len`
/// its length. Free it with `nnet_buffer_free(*out, *len)` (not with `free`). On failure
/// neither is written.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `out` and `len`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_save_to_buffer(
    net: *const NnetNetwork,
    out: *mut *mut u8,
    len: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees `out` and `len` writable.
        unsafe { store_buffer(out, len, || Ok(net.to_bytes()?)) }
    })
}

/// Checks `out`, then stores the network that `load` gives in a new handle in `*out`; on
/// failure `*out` is not written.
///
/// # Safety
/// `out` must be NULL or writable.
pub(crate) unsafe fn load_into(
    out: *mut *mut NnetNetwork,
    load: impl FnOnce() -> CResult<Network>,
) -> CResult<()> {
    check_ptr(out, "out")?;
    let net = load()?;
    // SAFETY: `out` was checked above; the caller guarantees it is writable.
    unsafe { store_handle(out, net) };
    Ok(())
}

/// Checks `out` and `len`, then hands the bytes that `make` gives over as a buffer for
/// `nnet_buffer_free`: `*out` receives it and `*len` its length. On failure neither is
/// written.
///
/// # Safety
/// `out` and `len` must be NULL or writable.
pub(crate) unsafe fn store_buffer(
    out: *mut *mut u8,
    len: *mut usize,
    make: impl FnOnce() -> CResult<Vec<u8>>,
) -> CResult<()> {
    check_ptr(out, "out")?;
    check_ptr(len, "len")?;
    let bytes = make()?.into_boxed_slice();
    let n = bytes.len();
    let p = Box::into_raw(bytes) as *mut u8;
    // SAFETY: both checked non-NULL and aligned; the caller guarantees they are writable.
    unsafe {
        out.write(p);
        len.write(n);
    }
    Ok(())
}

/// Frees a buffer from `nnet_save_to_buffer`; `len` must be the length it returned. NULL is
/// allowed and does nothing.
///
/// # Safety
/// `buf` must be NULL or a buffer from `nnet_save_to_buffer` with its length `len`, freed
/// only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_buffer_free(buf: *mut u8, len: usize) {
    guard_value((), || {
        if !buf.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(buf, len);
            // SAFETY: the caller guarantees `buf`/`len` came from `Box::into_raw` of a boxed
            // byte slice in `nnet_save_to_buffer` and were not freed before.
            drop(unsafe { Box::from_raw(slice) });
        }
    })
}

/// Reads a network from `len` bytes written by `nnet_save_to_buffer` or `nnet_save`. On
/// success `*out` receives a new handle to free with `nnet_network_free`. Every truncation,
/// bit flip, unknown version or size that does not add up is `NNET_ERR_FORMAT`, and `*out`
/// is then not written.
///
/// # Safety
/// `buf` must point to `len` readable bytes and `out` be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_load_from_buffer(
    buf: *const u8,
    len: usize,
    out: *mut *mut NnetNetwork,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees `len` readable bytes and a writable `out`.
        unsafe { load_into(out, || Ok(Network::from_bytes(slice(buf, len, "buf")?)?)) }
    })
}
