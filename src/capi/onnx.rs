//! ONNX export and import through the C ABI: files and in-memory buffers.

use std::ffi::c_char;

use super::io::{c_path, load_into, store_buffer};
use super::network::NnetNetwork;
use super::{NnetStatus, guard, net_ref, slice};
use crate::network::Network;

/// Writes the network as an ONNX model (SPEC section 9: `Gemm`/`Tanh` layers with the
/// network's standardization) to the file `path` (NUL-terminated), replacing an existing
/// file.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `path` a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_export_onnx(
    net: *const NnetNetwork,
    path: *const c_char,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = unsafe { c_path(path)? };
        net.save_onnx(&path)?;
        Ok(())
    })
}

/// The bytes `nnet_export_onnx` would write, in a new buffer: `*out` receives the buffer and
/// `*len` its length. Free it with `nnet_buffer_free(*out, *len)` (not with `free`). On
/// failure neither is written.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `out` and `len`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_export_onnx_to_buffer(
    net: *const NnetNetwork,
    out: *mut *mut u8,
    len: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees `out` and `len` writable.
        unsafe { store_buffer(out, len, || Ok(net.to_onnx())) }
    })
}

/// Reads a network from an ONNX file. On success `*out` receives a new handle to free with
/// `nnet_network_free`. A missing file is `NNET_ERR_IO`; bytes that are not ONNX and a graph
/// that is not an MLP of the accepted form are `NNET_ERR_FORMAT`, with a message naming the
/// first node that cannot be read; `*out` is then not written.
///
/// # Safety
/// `path` must be a NUL-terminated string and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_import_onnx(
    path: *const c_char,
    out: *mut *mut NnetNetwork,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a NUL-terminated string and a writable `out`.
        unsafe { load_into(out, || Ok(Network::load_onnx(&c_path(path)?)?)) }
    })
}

/// Reads a network from `len` bytes of an ONNX model, as `nnet_import_onnx` does. On success
/// `*out` receives a new handle to free with `nnet_network_free`; on failure it is not
/// written.
///
/// # Safety
/// `buf` must point to `len` readable bytes and `out` be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_import_onnx_from_buffer(
    buf: *const u8,
    len: usize,
    out: *mut *mut NnetNetwork,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees `len` readable bytes and a writable `out`.
        unsafe { load_into(out, || Ok(Network::from_onnx(slice(buf, len, "buf")?)?)) }
    })
}
