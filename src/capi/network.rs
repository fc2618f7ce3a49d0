//! Network handles: create, free, query and set weights, predict, classify, error, gradient.

use std::ffi::{CStr, c_char};

use super::regularization::NnetRegularization;
use super::{
    CResult, Fail, NnetStatus, check_disjoint, check_ptr, guard, guard_value, isa_cstr, mul,
    net_mut, net_ref, slice, slice_mut,
};
use crate::kernels::{Isa, Kernels};
use crate::network::{Network, Output};
use crate::regularization::Regularization;
use crate::scaling::Scaling;

/// `NNET_OUTPUT_LINEAR`: identity output layer (regression; the default).
pub const NNET_OUTPUT_LINEAR: u32 = 0;
/// `NNET_OUTPUT_TANH`: tanh output layer (for +-1 labels).
pub const NNET_OUTPUT_TANH: u32 = 1;

/// An opaque network handle. Created by `nnet_network_new`, `nnet_network_clone`,
/// `nnet_load` or `nnet_load_from_buffer`; freed with `nnet_network_free`.
pub struct NnetNetwork {
    pub(crate) net: Network,
}

/// Moves a network into a new handle and stores it in `*out`.
///
/// # Safety
/// `out` must have been checked by `check_ptr` and be writable.
pub(crate) unsafe fn store_handle(out: *mut *mut NnetNetwork, net: Network) {
    let handle = Box::into_raw(Box::new(NnetNetwork { net }));
    // SAFETY: the caller checked `out` (non-NULL, aligned) and guarantees it is writable.
    unsafe { out.write(handle) };
}

/// `f` of the network behind `net`, or `none` for NULL (or a panic).
///
/// # Safety
/// `net` must be NULL or a live handle that no thread changes during the call.
unsafe fn query<T: Copy>(net: *const NnetNetwork, none: T, f: impl FnOnce(&Network) -> T) -> T {
    guard_value(none, || {
        // SAFETY: forwarded from the caller.
        match unsafe { net_ref(net) } {
            Ok(n) => f(n),
            Err(_) => none,
        }
    })
}

/// Checks `rows >= 1` and `width == expected`, and returns the `rows * width` values at `p`.
///
/// # Safety
/// As for [`slice`]: `p` must point to `rows * width` readable floats.
pub(crate) unsafe fn batch<'a>(
    p: *const f32,
    rows: usize,
    width: usize,
    expected: usize,
    what: &str,
) -> CResult<&'a [f32]> {
    if rows == 0 {
        return Err(Fail::invalid(format!(
            "{what}: rows is 0 (a batch needs at least one row)"
        )));
    }
    if width != expected {
        return Err(Fail::shape(format!(
            "{what}: {width} values per row given, the network has {expected}"
        )));
    }
    let len = mul(rows, width, what)?;
    // SAFETY: forwarded from the caller.
    unsafe { slice(p, len, what) }
}

/// Creates a `layers[0]-layers[1]-...-layers[n_layers-1]` network (`n_layers >= 2`, every
/// size at least 1) with output transform `output` (`NNET_OUTPUT_*`) and every weight uniform in
/// `[-init_range, init_range]` drawn from `seed` (the same seed gives the same weights on every
/// machine). On success `*out` receives a handle to free with `nnet_network_free`; on failure
/// `*out` is not written.
///
/// # Safety
/// `layers` must point to `n_layers` readable `size_t` values and `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_new(
    layers: *const usize,
    n_layers: usize,
    output: u32,
    seed: u64,
    init_range: f32,
    out: *mut *mut NnetNetwork,
) -> NnetStatus {
    guard(|| {
        check_ptr(out, "out")?;
        // SAFETY: the caller guarantees `n_layers` readable sizes.
        let layers = unsafe { slice(layers, n_layers, "layers")? };
        let output = Output::from_u32(output)?;
        let net = Network::new(layers, output, seed, init_range)?;
        // SAFETY: `out` was checked above.
        unsafe { store_handle(out, net) };
        Ok(())
    })
}

/// Copies a network (weights, scaling and kernel choice) into a new handle in `*out`.
///
/// # Safety
/// `net` must be a live handle and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_clone(
    net: *const NnetNetwork,
    out: *mut *mut NnetNetwork,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        check_ptr(out, "out")?;
        let copy = fallible_clone(net)?;
        // SAFETY: `out` was checked above.
        unsafe { store_handle(out, copy) };
        Ok(())
    })
}

/// A copy of `net` whose weight allocation fails with an error instead of aborting.
pub(crate) fn fallible_clone(net: &Network) -> CResult<Network> {
    let mut copy = Network::from_weights(net.layers(), net.output(), net.weights())?;
    copy.set_kernels(net.kernels());
    copy.set_scaling(net.scaling().cloned())?;
    Ok(copy)
}

/// Frees a network handle. NULL is allowed and does nothing. The handle must not be used
/// afterwards, and must not be in use by another thread.
///
/// # Safety
/// `net` must be NULL or a live handle from this library, freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_free(net: *mut NnetNetwork) {
    guard_value((), || {
        if !net.is_null() {
            // SAFETY: the caller guarantees a live handle created by `Box::into_raw` in this
            // library and not freed before.
            drop(unsafe { Box::from_raw(net) });
        }
    })
}

/// D, the number of weights `sum (d(l-1)+1) d(l)`; 0 for NULL.
///
/// # Safety
/// `net` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_num_weights(net: *const NnetNetwork) -> usize {
    // SAFETY: the caller guarantees NULL or a live handle.
    unsafe { query(net, 0, |n| n.num_weights()) }
}

/// The number of layer sizes `L + 1` (inputs, hidden layers, outputs); 0 for NULL.
///
/// # Safety
/// `net` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_num_layer_sizes(net: *const NnetNetwork) -> usize {
    // SAFETY: the caller guarantees NULL or a live handle.
    unsafe { query(net, 0, |n| n.layers().len()) }
}

/// The number of inputs `d(0)`; 0 for NULL.
///
/// # Safety
/// `net` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_num_inputs(net: *const NnetNetwork) -> usize {
    // SAFETY: the caller guarantees NULL or a live handle.
    unsafe { query(net, 0, |n| n.num_inputs()) }
}

/// The number of outputs `d(L)`; 0 for NULL.
///
/// # Safety
/// `net` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_num_outputs(net: *const NnetNetwork) -> usize {
    // SAFETY: the caller guarantees NULL or a live handle.
    unsafe { query(net, 0, |n| n.num_outputs()) }
}

/// Copies the layer sizes `d(0), ..., d(L)` into `sizes`; `len` must equal
/// `nnet_network_num_layer_sizes(net)`.
///
/// # Safety
/// `net` must be a live handle and `sizes` point to `len` writable `size_t` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_layers(
    net: *const NnetNetwork,
    sizes: *mut usize,
    len: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        let layers = net.layers();
        if len != layers.len() {
            return Err(Fail::shape(format!(
                "the network has {} layer sizes, len is {len}",
                layers.len()
            )));
        }
        // SAFETY: the caller guarantees `len` writable values.
        let out = unsafe { slice_mut(sizes, len, "sizes")? };
        out.copy_from_slice(layers);
        Ok(())
    })
}

/// Stores the output transform (`NNET_OUTPUT_LINEAR` or `NNET_OUTPUT_TANH`) in `*output`.
///
/// # Safety
/// `net` must be a live handle and `output` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_output(
    net: *const NnetNetwork,
    output: *mut u32,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        check_ptr(output, "output")?;
        // SAFETY: checked non-NULL and aligned; the caller guarantees it is writable.
        unsafe { output.write(net.output().to_u32()) };
        Ok(())
    })
}

/// Copies the flat weight vector (see "Weight layout" at the top) into `out`; `len` must equal D.
///
/// # Safety
/// `net` must be a live handle and `out` point to `len` writable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_get_weights(
    net: *const NnetNetwork,
    out: *mut f32,
    len: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        let d = net.num_weights();
        if len != d {
            return Err(Fail::shape(format!(
                "the network has {d} weights, len is {len}"
            )));
        }
        // SAFETY: the caller guarantees `len` writable floats; a handle's weights live in
        // library memory, so they cannot overlap.
        let out = unsafe { slice_mut(out, len, "out")? };
        out.copy_from_slice(net.weights());
        Ok(())
    })
}

/// Replaces every weight with `w` (`len` must equal D, every value finite). On failure the
/// network is unchanged.
///
/// # Safety
/// `net` must be a live handle not used by another thread, and `w` point to `len` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_set_weights(
    net: *mut NnetNetwork,
    w: *const f32,
    len: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let net = unsafe { net_mut(net)? };
        let d = net.num_weights();
        if len != d {
            return Err(Fail::shape(format!(
                "the network has {d} weights, len is {len}"
            )));
        }
        // SAFETY: the caller guarantees `len` readable floats.
        let w = unsafe { slice(w, len, "w")? };
        net.set_weights(w)?;
        Ok(())
    })
}

/// Makes this network compute with the kernel set `isa` ("scalar", "avx2", "avx512" or
/// "neon", case-insensitive). Errors with `NNET_ERR_INVALID_ARGUMENT` for an unknown name or a
/// set this CPU cannot run; the network is then unchanged.
///
/// # Safety
/// `net` must be a live handle not used by another thread; `isa` a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_set_isa(
    net: *mut NnetNetwork,
    isa: *const c_char,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let net = unsafe { net_mut(net)? };
        if isa.is_null() {
            return Err(Fail::null("isa"));
        }
        // SAFETY: non-NULL; the caller guarantees a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(isa) }.to_string_lossy();
        let isa = Isa::from_name(&name).ok_or_else(|| {
            Fail::invalid(format!(
                "unknown kernel set {name:?} (expected scalar, avx2, avx512 or neon)"
            ))
        })?;
        let kernels = Kernels::for_isa(isa).ok_or_else(|| {
            Fail::invalid(format!(
                "this CPU cannot run the {isa} kernels (available: {})",
                Isa::available()
                    .iter()
                    .map(|i| i.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        net.set_kernels(kernels);
        Ok(())
    })
}

/// The kernel set this network computes with ("scalar", "avx2", "avx512" or "neon"), a
/// static NUL-terminated string; NULL for a NULL handle.
///
/// # Safety
/// `net` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_isa(net: *const NnetNetwork) -> *const c_char {
    // SAFETY: the caller guarantees NULL or a live handle.
    unsafe { query(net, std::ptr::null(), |n| isa_cstr(n.kernels().isa())) }
}

/// Fits input standardization on `rows` rows of `x` (`n_in` = d(0) values each) and, when `y`
/// is not NULL, target standardization on `y` (`n_out` = d(L) values each; `n_out` must match
/// the network even when `y` is NULL). From then on `nnet_predict` maps raw inputs to raw
/// outputs, while training and the gradient work in standardized units; the scaling is saved
/// with the network. Constant columns keep a standard deviation of 1.
///
/// # Safety
/// `net` must be a live handle not used by another thread; `x` must point to
/// `rows * n_in` floats and `y`, when not NULL, to `rows * n_out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_fit_scaling(
    net: *mut NnetNetwork,
    x: *const f32,
    rows: usize,
    n_in: usize,
    y: *const f32,
    n_out: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let net = unsafe { net_mut(net)? };
        // SAFETY: the caller guarantees the buffer sizes.
        let x = unsafe { batch(x, rows, n_in, net.num_inputs(), "x")? };
        if n_out != net.num_outputs() {
            return Err(Fail::shape(format!(
                "n_out is {n_out}, the network has {} outputs",
                net.num_outputs()
            )));
        }
        let y = if y.is_null() {
            None
        } else {
            // SAFETY: the caller guarantees the buffer sizes.
            Some(unsafe { batch(y, rows, n_out, net.num_outputs(), "y")? })
        };
        let s = Scaling::fit(x, n_in, y, n_out)?;
        net.set_scaling(Some(s))?;
        Ok(())
    })
}

/// Removes the network's standardization, if any.
///
/// # Safety
/// `net` must be a live handle not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_network_clear_scaling(net: *mut NnetNetwork) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let net = unsafe { net_mut(net)? };
        net.set_scaling(None)?;
        Ok(())
    })
}

/// The outputs for `rows >= 1` row-major input rows: `x` holds `rows * n_in` values
/// (`n_in` = d(0)), `y` receives `rows * n_out` values (`n_out` = d(L)). Inputs must be finite.
/// `y` is written only on success and must not overlap `x`. May run from many threads at
/// once on one network.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `x` and `y` must point to
/// buffers of the sizes above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_predict(
    net: *const NnetNetwork,
    x: *const f32,
    rows: usize,
    n_in: usize,
    y: *mut f32,
    n_out: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees `rows * n_in` readable floats.
        let xs = unsafe { batch(x, rows, n_in, net.num_inputs(), "x")? };
        if n_out != net.num_outputs() {
            return Err(Fail::shape(format!(
                "y: {n_out} values per row given, the network has {} outputs",
                net.num_outputs()
            )));
        }
        let y_len = mul(rows, n_out, "y")?;
        check_disjoint(x, xs.len(), "x", y, y_len, "y")?;
        // SAFETY: the caller guarantees `rows * n_out` writable floats; disjoint from `x`.
        let ys = unsafe { slice_mut(y, y_len, "y")? };
        net.predict_into(xs, ys)?;
        Ok(())
    })
}

/// The class of each of `rows` input rows: `sign(output)` (+1 or -1, sign(0) = +1) for one
/// output, the index of the largest output (0-based, as a float) for several. `classes`
/// receives `len` = `rows` values, only on success.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `x` must point to
/// `rows * n_in` floats, `classes` to `len` writable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_classify(
    net: *const NnetNetwork,
    x: *const f32,
    rows: usize,
    n_in: usize,
    classes: *mut f32,
    len: usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees `rows * n_in` readable floats.
        let xs = unsafe { batch(x, rows, n_in, net.num_inputs(), "x")? };
        if len != rows {
            return Err(Fail::shape(format!(
                "classes has {len} values for {rows} rows"
            )));
        }
        check_disjoint(x, xs.len(), "x", classes, len, "classes")?;
        // SAFETY: the caller guarantees `len` writable floats; disjoint from `x`.
        let out = unsafe { slice_mut(classes, len, "classes")? };
        let c = net.classify(xs)?;
        out.copy_from_slice(&c);
        Ok(())
    })
}

/// `E_in = (1/N) sum_n sum_k (y_nk - out_k(x_n))^2` over `rows` rows into `*error`
/// (standardized units when the network has a scaling).
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `x` and `y` must point to
/// `rows * n_in` and `rows * n_out` floats, `error` be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_error(
    net: *const NnetNetwork,
    x: *const f32,
    y: *const f32,
    rows: usize,
    n_in: usize,
    n_out: usize,
    error: *mut f64,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        // SAFETY: the caller guarantees the buffer sizes.
        let xs = unsafe { batch(x, rows, n_in, net.num_inputs(), "x")? };
        // SAFETY: the caller guarantees the buffer sizes.
        let ys = unsafe { batch(y, rows, n_out, net.num_outputs(), "y")? };
        check_ptr(error, "error")?;
        let e = net.error(xs, ys)?;
        // SAFETY: checked non-NULL and aligned; the caller guarantees it is writable.
        unsafe { error.write(e) };
        Ok(())
    })
}

/// The gradient of `E_aug = E_in + lambda * Omega(w)` over `rows` rows (the mean of the
/// per-sample backprop gradients plus `lambda * grad Omega`) into `grad` (`len` = D, the flat
/// layout), and `E_aug` into `*loss`. `reg` may be NULL (no regularizer); `loss` may be NULL
/// (not reported). Outputs are written only on success. May run from many threads at once on
/// one network.
///
/// # Safety
/// `net` must be a live handle that no thread changes during the call; `x`, `y` must point to
/// `rows * n_in` and `rows * n_out` floats, `grad` to `len` writable floats; `reg` and `loss`
/// must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_gradient(
    net: *const NnetNetwork,
    reg: *const NnetRegularization,
    x: *const f32,
    y: *const f32,
    rows: usize,
    n_in: usize,
    n_out: usize,
    grad: *mut f32,
    len: usize,
    loss: *mut f64,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let net = unsafe { net_ref(net)? };
        let reg = if reg.is_null() {
            Regularization::none()
        } else {
            check_ptr(reg, "reg")?;
            // SAFETY: checked non-NULL and aligned; the caller guarantees a readable struct.
            unsafe { *reg }.convert()?
        };
        // SAFETY: the caller guarantees the buffer sizes.
        let xs = unsafe { batch(x, rows, n_in, net.num_inputs(), "x")? };
        // SAFETY: the caller guarantees the buffer sizes.
        let ys = unsafe { batch(y, rows, n_out, net.num_outputs(), "y")? };
        let d = net.num_weights();
        if len != d {
            return Err(Fail::shape(format!(
                "grad: the network has {d} weights, len is {len}"
            )));
        }
        check_disjoint(grad, len, "grad", x, xs.len(), "x")?;
        check_disjoint(grad, len, "grad", y, ys.len(), "y")?;
        if !loss.is_null() {
            check_ptr(loss, "loss")?;
            check_disjoint(grad, len, "grad", loss, 1, "loss")?;
        }
        // SAFETY: the caller guarantees `len` writable floats, disjoint from the inputs.
        let g = unsafe { slice_mut(grad, len, "grad")? };
        let e = net.gradient_into(xs, ys, &reg, g)?;
        if !loss.is_null() {
            // SAFETY: checked non-NULL and aligned above; the caller guarantees it is writable.
            unsafe { loss.write(e) };
        }
        Ok(())
    })
}
