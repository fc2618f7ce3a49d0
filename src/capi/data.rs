//! Data sets through the C ABI: load CSV, FANN and IDX files into an opaque `NnetDataset`,
//! query its shape, borrow its buffers, split it.

use std::ffi::{CStr, c_char};

use super::{CResult, Fail, NnetStatus, check_ptr, guard, guard_value, slice};
use crate::data::{Column, CsvOptions, Dataset, MAX_CLASSES, TargetEncoding};

/// `NNET_TARGETS_VALUES`: the target columns' values as they are (regression).
pub const NNET_TARGETS_VALUES: u32 = 0;
/// `NNET_TARGETS_ONE_HOT`: one column of class ids `0..k`, encoded as `k` outputs: +1 for the
/// class, -1 elsewhere (a tanh output layer, argmax classification).
pub const NNET_TARGETS_ONE_HOT: u32 = 1;
/// `NNET_TARGETS_BINARY`: one column of class ids 0 and 1, encoded as one output: -1 for
/// class 0, +1 for class 1 (a tanh output layer, sign classification).
pub const NNET_TARGETS_BINARY: u32 = 2;

/// An opaque data set handle: `rows` samples of `n_in` inputs and `n_out` targets, row-major
/// floats, and the class id of every row when the targets came from class ids. Created by
/// `nnet_dataset_load_csv`, `nnet_dataset_load_csv_columns`, `nnet_dataset_load_fann`,
/// `nnet_dataset_load_idx` and `nnet_dataset_split`; freed with `nnet_dataset_free`. A data set
/// never changes after it is created, so every function that takes a `const NnetDataset *`
/// may run from many threads at once.
pub struct NnetDataset {
    pub(crate) ds: Dataset,
}

/// Moves a data set into a new handle and stores it in `*out`.
///
/// # Safety
/// `out` must have been checked by `check_ptr` and be writable.
unsafe fn store_dataset(out: *mut *mut NnetDataset, ds: Dataset) {
    let handle = Box::into_raw(Box::new(NnetDataset { ds }));
    // SAFETY: the caller checked `out` (non-NULL, aligned) and guarantees it is writable.
    unsafe { out.write(handle) };
}

/// The data set behind a handle.
///
/// # Safety
/// When `p` is not NULL it must be a live handle from this library, not freed during the call.
unsafe fn ds_ref<'a>(p: *const NnetDataset) -> CResult<&'a Dataset> {
    check_ptr(p, "the data set")?;
    // SAFETY: non-NULL and aligned; the caller guarantees a live handle (data sets are never
    // changed after creation, so shared access is sound).
    Ok(unsafe { &(*p).ds })
}

/// A non-empty UTF-8 string from a NUL-terminated C string; `what` names it in errors.
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string that stays valid during the call.
unsafe fn c_utf8<'a>(s: *const c_char, what: &str) -> CResult<&'a str> {
    if s.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL; the caller guarantees a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(s) }.to_bytes();
    if bytes.is_empty() {
        return Err(Fail::invalid(format!("{what} is empty")));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Fail::invalid(format!(
            "{what} is not UTF-8 (invalid byte 0x{:02x} at offset {})",
            bytes[e.valid_up_to()],
            e.valid_up_to()
        ))
    })
}

/// The encoding behind an `NNET_TARGETS_*` value and a class count (0 = from the data),
/// validated together.
fn encoding(targets: u32, classes: usize) -> CResult<(TargetEncoding, Option<usize>)> {
    let enc = match targets {
        NNET_TARGETS_VALUES => TargetEncoding::Values,
        NNET_TARGETS_ONE_HOT => TargetEncoding::OneHot,
        NNET_TARGETS_BINARY => TargetEncoding::Binary,
        v => {
            return Err(Fail::invalid(format!(
                "unknown target encoding {v} (expected 0 = NNET_TARGETS_VALUES, 1 = \
                 NNET_TARGETS_ONE_HOT or 2 = NNET_TARGETS_BINARY)"
            )));
        }
    };
    let classes = match (enc, classes) {
        (_, 0) => None,
        (TargetEncoding::OneHot, k) if (2..=MAX_CLASSES).contains(&k) => Some(k),
        (TargetEncoding::OneHot, k) => {
            return Err(Fail::invalid(format!(
                "the number of classes must be 0 (from the data) or in 2..={MAX_CLASSES}, got {k}"
            )));
        }
        (TargetEncoding::Binary, 2) => Some(2),
        (TargetEncoding::Binary, k) => {
            return Err(Fail::invalid(format!(
                "NNET_TARGETS_BINARY has 2 classes; classes must be 0 or 2, got {k}"
            )));
        }
        (TargetEncoding::Values, k) => {
            return Err(Fail::invalid(format!(
                "NNET_TARGETS_VALUES has no classes; classes must be 0, got {k}"
            )));
        }
    };
    Ok((enc, classes))
}

/// Reads a CSV file and stores the data set in `*out`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string and `out` writable when not NULL.
unsafe fn load_csv(
    path: *const c_char,
    columns: Vec<Column>,
    targets: u32,
    classes: usize,
    out: *mut *mut NnetDataset,
) -> CResult<()> {
    check_ptr(out, "out")?;
    // SAFETY: forwarded from the caller.
    let path = unsafe { c_utf8(path, "path")? };
    let (encoding, classes) = encoding(targets, classes)?;
    let options = CsvOptions {
        targets: columns,
        encoding,
        classes,
        ..CsvOptions::default()
    };
    let ds = crate::data::read_csv(path, &options)?;
    // SAFETY: `out` was checked above.
    unsafe { store_dataset(out, ds) };
    Ok(())
}

/// Reads a CSV file with a header line whose column named `target` holds the targets; every
/// other column is an input, in file order. `targets` is `NNET_TARGETS_VALUES` (the column's
/// values, one output), `NNET_TARGETS_ONE_HOT` (class ids `0..k` as `k` +-1 outputs) or
/// `NNET_TARGETS_BINARY` (ids 0 and 1 as one -1/+1 output). `classes` is the number of
/// classes `k` for one-hot targets (give it when a file may miss a class), or 0 to take the
/// largest id plus one; it must be 0 for values and 0 or 2 for binary.
///
/// Every field must be a finite number, every line must have as many fields as the header;
/// blank lines and a byte-order mark are skipped. A missing or unreadable file is
/// `NNET_ERR_IO`; a malformed file (too few or too many fields, a field that is not a number,
/// NaN or infinity, a bad class id, no data rows) is `NNET_ERR_FORMAT` with a message naming
/// the line and the field; an unknown column, encoding or class count is
/// `NNET_ERR_INVALID_ARGUMENT`. On success `*out` receives a handle to free with
/// `nnet_dataset_free`; on failure it is not written.
///
/// # Safety
/// `path` and `target` must be NUL-terminated strings and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_load_csv(
    path: *const c_char,
    target: *const c_char,
    targets: u32,
    classes: usize,
    out: *mut *mut NnetDataset,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a NUL-terminated string.
        let name = unsafe { c_utf8(target, "target")? };
        // SAFETY: the caller guarantees the pointers.
        unsafe { load_csv(path, vec![Column::Name(name.into())], targets, classes, out) }
    })
}

/// As `nnet_dataset_load_csv`, with the target columns given by their 0-based indices:
/// `columns` holds `n_columns >= 1` distinct indices, the targets in that order (several only
/// for `NNET_TARGETS_VALUES`; the class encodings take exactly one).
///
/// # Safety
/// `path` must be a NUL-terminated string, `columns` point to `n_columns` readable `size_t`
/// values and `out` be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_load_csv_columns(
    path: *const c_char,
    columns: *const usize,
    n_columns: usize,
    targets: u32,
    classes: usize,
    out: *mut *mut NnetDataset,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees `n_columns` readable values.
        let cols = unsafe { slice(columns, n_columns, "columns")? };
        if cols.is_empty() {
            return Err(Fail::invalid(
                "n_columns is 0 (at least one target column is needed)".into(),
            ));
        }
        let cols = cols.iter().map(|&i| Column::Index(i)).collect();
        // SAFETY: the caller guarantees the pointers.
        unsafe { load_csv(path, cols, targets, classes, out) }
    })
}

/// Reads a FANN training-data file: a header `N n_in n_out`, then for each of the N samples
/// its `n_in` inputs and `n_out` outputs, whitespace-separated (FANN writes them on two
/// lines). A missing file is `NNET_ERR_IO`; a header that is not three positive integers or
/// promises more values than the file can hold (checked before allocating), a value that is
/// not a number, NaN or infinity, a file that ends early or values after the N samples are
/// `NNET_ERR_FORMAT`. On success `*out` receives a handle to free with `nnet_dataset_free`; on
/// failure it is not written.
///
/// # Safety
/// `path` must be a NUL-terminated string and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_load_fann(
    path: *const c_char,
    out: *mut *mut NnetDataset,
) -> NnetStatus {
    guard(|| {
        check_ptr(out, "out")?;
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = unsafe { c_utf8(path, "path")? };
        let ds = crate::data::read_fann(path)?;
        // SAFETY: `out` was checked above.
        unsafe { store_dataset(out, ds) };
        Ok(())
    })
}

/// Reads an IDX images file and an IDX labels file (the MNIST format, unsigned bytes, each
/// gzip-compressed or plain): one row per image of `byte / 255` inputs (all dimensions after
/// the first flattened), one-hot +-1 targets over `classes` outputs (0: the largest label plus
/// one, at least 2; otherwise in 2..=65536), and the labels as class ids. A missing file is
/// `NNET_ERR_IO`; a bad magic number, a truncated file or gzip stream, trailing bytes or a
/// label not below `classes` are `NNET_ERR_FORMAT`; differing counts `NNET_ERR_SHAPE_MISMATCH`.
/// On success `*out` receives a handle to free with `nnet_dataset_free`; on failure it is not
/// written.
///
/// # Safety
/// `images` and `labels` must be NUL-terminated strings and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_load_idx(
    images: *const c_char,
    labels: *const c_char,
    classes: usize,
    out: *mut *mut NnetDataset,
) -> NnetStatus {
    guard(|| {
        check_ptr(out, "out")?;
        // SAFETY: the caller guarantees NUL-terminated strings.
        let images = unsafe { c_utf8(images, "images")? };
        // SAFETY: as above.
        let labels = unsafe { c_utf8(labels, "labels")? };
        let (_, classes) = encoding(NNET_TARGETS_ONE_HOT, classes)?;
        let ds = crate::data::read_idx_pair(images, labels, classes)?;
        // SAFETY: `out` was checked above.
        unsafe { store_dataset(out, ds) };
        Ok(())
    })
}

/// Frees a data set handle. NULL is allowed and does nothing. The buffers borrowed from it
/// (`nnet_dataset_inputs`, `nnet_dataset_targets`, `nnet_dataset_labels`) become invalid; the
/// handle must not be in use by another thread.
///
/// # Safety
/// `ds` must be NULL or a live handle from this library, freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_free(ds: *mut NnetDataset) {
    guard_value((), || {
        if !ds.is_null() {
            // SAFETY: the caller guarantees a live handle created by `Box::into_raw` in this
            // library and not freed before.
            drop(unsafe { Box::from_raw(ds) });
        }
    })
}

/// Stores the number of samples in `*rows`, of inputs per sample (a network's `d(0)`) in
/// `*n_in` and of targets per sample (its `d(L)`) in `*n_out`. All three pointers are
/// required; none is written on failure.
///
/// # Safety
/// `ds` must be a live handle; `rows`, `n_in` and `n_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_shape(
    ds: *const NnetDataset,
    rows: *mut usize,
    n_in: *mut usize,
    n_out: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let ds = unsafe { ds_ref(ds)? };
        check_ptr(rows, "rows")?;
        check_ptr(n_in, "n_in")?;
        check_ptr(n_out, "n_out")?;
        // SAFETY: all three checked non-NULL and aligned; the caller guarantees they are
        // writable.
        unsafe {
            rows.write(ds.rows());
            n_in.write(ds.num_inputs());
            n_out.write(ds.num_outputs());
        }
        Ok(())
    })
}

/// The number of classes of a data set whose targets came from class ids (one-hot, binary or
/// IDX labels); 0 for a data set of plain target values and for NULL.
///
/// # Safety
/// `ds` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_num_classes(ds: *const NnetDataset) -> usize {
    guard_value(0, || {
        // SAFETY: the caller guarantees NULL or a live handle.
        match unsafe { ds_ref(ds) } {
            Ok(d) => d.num_classes().unwrap_or(0),
            Err(_) => 0,
        }
    })
}

/// Stores a borrowed buffer and its length; both pointers checked first (`what` names the
/// buffer's pointer in errors).
///
/// # Safety
/// `data` and `len` must be writable when not NULL.
unsafe fn lend<T>(buf: &[T], data: *mut *const T, what: &str, len: *mut usize) -> CResult<()> {
    check_ptr(data, what)?;
    check_ptr(len, "len")?;
    // SAFETY: both checked non-NULL and aligned; the caller guarantees they are writable.
    unsafe {
        data.write(buf.as_ptr());
        len.write(buf.len());
    }
    Ok(())
}

/// Lends the row-major inputs: `*data` receives a pointer to `rows * n_in` floats and `*len`
/// that count. The buffer belongs to the data set: it stays valid, unchanged, until
/// `nnet_dataset_free(ds)`; do not write to it or free it. Copy it to keep it longer.
/// With the targets from `nnet_dataset_targets` it goes straight to `nnet_train`,
/// `nnet_network_fit_scaling` (standardization fitted on this data set), `nnet_predict` or
/// `nnet_error`.
///
/// # Safety
/// `ds` must be a live handle; `data` and `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_inputs(
    ds: *const NnetDataset,
    data: *mut *const f32,
    len: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let ds = unsafe { ds_ref(ds)? };
        // SAFETY: the caller guarantees writable pointers.
        unsafe { lend(ds.inputs(), data, "data", len) }
    })
}

/// Lends the row-major targets: `*data` receives a pointer to `rows * n_out` floats and `*len`
/// that count. Owned by the data set and valid until `nnet_dataset_free(ds)`, as for
/// `nnet_dataset_inputs`.
///
/// # Safety
/// `ds` must be a live handle; `data` and `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_targets(
    ds: *const NnetDataset,
    data: *mut *const f32,
    len: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let ds = unsafe { ds_ref(ds)? };
        // SAFETY: the caller guarantees writable pointers.
        unsafe { lend(ds.targets(), data, "data", len) }
    })
}

/// Lends the class id of every row (`0..nnet_dataset_num_classes(ds)`): `*labels` receives a
/// pointer to `rows` values and `*len` that count. Owned by the data set and valid until
/// `nnet_dataset_free(ds)`, as for `nnet_dataset_inputs`. A data set of plain target values
/// (`NNET_TARGETS_VALUES`, FANN files) has no labels: `NNET_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `ds` must be a live handle; `labels` and `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_labels(
    ds: *const NnetDataset,
    labels: *mut *const usize,
    len: *mut usize,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let ds = unsafe { ds_ref(ds)? };
        let l = ds.labels().ok_or_else(|| {
            Fail::invalid(
                "the data set has no class labels (its targets are plain values, not class ids)"
                    .into(),
            )
        })?;
        // SAFETY: the caller guarantees writable pointers.
        unsafe { lend(l, labels, "labels", len) }
    })
}

/// Splits the rows at random into two new data sets: `*first` receives `round(fraction *
/// rows)` rows (e.g. training) and `*second` the rest (e.g. validation). Each part keeps the
/// rows' original relative order and their labels; the same seed gives the same split on
/// every machine. `fraction` must be in (0, 1) and leave both parts non-empty. `first` and
/// `second` must be distinct pointers; on failure neither is written. Free both handles with
/// `nnet_dataset_free`; `ds` itself is unchanged and still needs freeing.
///
/// # Safety
/// `ds` must be a live handle; `first` and `second` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nnet_dataset_split(
    ds: *const NnetDataset,
    fraction: f64,
    seed: u64,
    first: *mut *mut NnetDataset,
    second: *mut *mut NnetDataset,
) -> NnetStatus {
    guard(|| {
        // SAFETY: the caller guarantees a live handle.
        let ds = unsafe { ds_ref(ds)? };
        check_ptr(first, "first")?;
        check_ptr(second, "second")?;
        if first == second {
            return Err(Fail::invalid(format!(
                "first and second are the same pointer ({first:p}); each part needs its own"
            )));
        }
        let (a, b) = ds.split(fraction, seed)?;
        // SAFETY: both checked above and distinct.
        unsafe {
            store_dataset(first, a);
            store_dataset(second, b);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::ptr::{null, null_mut};

    use super::*;
    use crate::capi::{
        NNET_ERR_FORMAT, NNET_ERR_INVALID_ARGUMENT, NNET_ERR_IO, NNET_ERR_NULL_POINTER,
        NNET_ERR_SHAPE_MISMATCH, NNET_OK, nnet_last_error,
    };
    use crate::data::{read_csv, read_fann};

    fn data(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
    }

    fn c(p: &Path) -> CString {
        CString::new(p.to_str().unwrap()).unwrap()
    }

    fn last() -> String {
        let p = nnet_last_error();
        assert!(!p.is_null(), "expected an error message");
        // SAFETY: non-NULL results are NUL-terminated strings valid until the next call.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// A fresh folder for one test's files.
    fn temp_dir(test: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nnet-capi-data-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Shape, inputs, targets and labels of a handle, through the C functions.
    fn read_back(ds: *const NnetDataset) -> (usize, usize, usize, Vec<f32>, Vec<f32>) {
        let (mut rows, mut n_in, mut n_out) = (0, 0, 0);
        let (mut xp, mut yp) = (null(), null());
        let (mut xl, mut yl) = (0, 0);
        // SAFETY: a live handle and pointers to live locals; the borrowed buffers are copied
        // while the handle is alive.
        unsafe {
            assert_eq!(
                nnet_dataset_shape(ds, &mut rows, &mut n_in, &mut n_out),
                NNET_OK
            );
            assert_eq!(nnet_dataset_inputs(ds, &mut xp, &mut xl), NNET_OK);
            assert_eq!(nnet_dataset_targets(ds, &mut yp, &mut yl), NNET_OK);
            assert_eq!((xl, yl), (rows * n_in, rows * n_out));
            let x = std::slice::from_raw_parts(xp, xl).to_vec();
            let y = std::slice::from_raw_parts(yp, yl).to_vec();
            (rows, n_in, n_out, x, y)
        }
    }

    #[test]
    fn fann_through_c_matches_the_rust_loader() {
        let path = data("fann-building/building.train");
        let want = read_fann(&path).unwrap();
        let mut ds = null_mut();
        let cpath = c(&path);
        // SAFETY: a NUL-terminated path and a pointer to a live local.
        let s = unsafe { nnet_dataset_load_fann(cpath.as_ptr(), &mut ds) };
        assert_eq!(s, NNET_OK);
        assert!(nnet_last_error().is_null());
        let (rows, n_in, n_out, x, y) = read_back(ds);
        assert_eq!((rows, n_in, n_out), (want.rows(), 14, 3));
        assert_eq!((&x[..], &y[..]), want.as_pair());
        // SAFETY: a live handle.
        assert_eq!(unsafe { nnet_dataset_num_classes(ds) }, 0);
        let (mut lp, mut ll) = (null(), 7usize);
        // SAFETY: a live handle and pointers to live locals.
        let s = unsafe { nnet_dataset_labels(ds, &mut lp, &mut ll) };
        assert_eq!(s, NNET_ERR_INVALID_ARGUMENT);
        assert!(last().contains("no class labels"));
        assert!(lp.is_null() && ll == 7);
        // SAFETY: a live handle, freed once; then NULL.
        unsafe {
            nnet_dataset_free(ds);
            nnet_dataset_free(null_mut());
        }
    }

    #[test]
    fn csv_by_name_and_by_index_agree() {
        let path = data("sklearn-iris/iris.train.csv");
        let want = read_csv(&path, &CsvOptions::one_hot("target")).unwrap();
        let (mut a, mut b) = (null_mut(), null_mut());
        let cols = [4usize];
        // SAFETY: NUL-terminated strings, a readable index and pointers to live locals.
        unsafe {
            let p = c(&path);
            assert_eq!(
                nnet_dataset_load_csv(
                    p.as_ptr(),
                    c"target".as_ptr(),
                    NNET_TARGETS_ONE_HOT,
                    0,
                    &mut a
                ),
                NNET_OK
            );
            assert_eq!(
                nnet_dataset_load_csv_columns(
                    p.as_ptr(),
                    cols.as_ptr(),
                    1,
                    NNET_TARGETS_ONE_HOT,
                    5,
                    &mut b
                ),
                NNET_OK
            );
        }
        let (rows, n_in, n_out, x, y) = read_back(a);
        assert_eq!((rows, n_in, n_out), (want.rows(), 4, 3));
        assert_eq!((&x[..], &y[..]), want.as_pair());
        let (_, _, n_out_b, xb, _) = read_back(b);
        assert_eq!((n_out_b, &xb[..]), (5, &x[..]));
        let (mut lp, mut ll) = (null(), 0usize);
        // SAFETY: live handles and pointers to live locals; the labels are read while `a`
        // is alive.
        unsafe {
            assert_eq!(nnet_dataset_num_classes(a), 3);
            assert_eq!(nnet_dataset_num_classes(b), 5);
            assert_eq!(nnet_dataset_labels(a, &mut lp, &mut ll), NNET_OK);
            assert_eq!(std::slice::from_raw_parts(lp, ll), want.labels().unwrap());
            nnet_dataset_free(a);
            nnet_dataset_free(b);
        }
        // regression on two columns by index, in the order given
        let mut r = null_mut();
        let cols = [3usize, 0];
        // SAFETY: as above.
        unsafe {
            let s = nnet_dataset_load_csv_columns(
                c(&path).as_ptr(),
                cols.as_ptr(),
                2,
                NNET_TARGETS_VALUES,
                0,
                &mut r,
            );
            assert_eq!(s, NNET_OK);
        }
        let (_, n_in, n_out, x, y) = read_back(r);
        assert_eq!((n_in, n_out), (3, 2));
        assert_eq!((y[0], y[1]), (want.inputs()[3], want.inputs()[0]));
        // the inputs are the remaining columns 1, 2 and 4 (the class id), in file order
        let label0 = want.labels().unwrap()[0] as f32;
        assert_eq!(&x[..3], &[want.inputs()[1], want.inputs()[2], label0]);
        // SAFETY: a live handle.
        unsafe { nnet_dataset_free(r) };
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// An IDX file of unsigned bytes with these dimensions and data.
    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn idx_pair_gzip_and_plain() {
        let dir = temp_dir("idx");
        let pixels = [0u8, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0];
        let img = dir.join("img.gz");
        let lab = dir.join("lab");
        std::fs::write(&img, gzip(&idx(&[3, 2, 2], &pixels))).unwrap();
        std::fs::write(&lab, idx(&[3], &[2, 0, 1])).unwrap();
        let mut ds = null_mut();
        // SAFETY: NUL-terminated paths and a pointer to a live local.
        let s = unsafe { nnet_dataset_load_idx(c(&img).as_ptr(), c(&lab).as_ptr(), 0, &mut ds) };
        assert_eq!(s, NNET_OK);
        let (rows, n_in, n_out, x, y) = read_back(ds);
        assert_eq!((rows, n_in, n_out), (3, 4, 3));
        assert_eq!(&x[..4], &[0.0, 1.0, 0.2, 0.4]);
        assert_eq!(&y[..3], &[-1.0, -1.0, 1.0]);
        let (mut lp, mut ll) = (null(), 0usize);
        // SAFETY: a live handle and pointers to live locals; read before the free.
        unsafe {
            assert_eq!(nnet_dataset_labels(ds, &mut lp, &mut ll), NNET_OK);
            assert_eq!(std::slice::from_raw_parts(lp, ll), &[2, 0, 1]);
            nnet_dataset_free(ds);
        }
        // a class count below the largest label, and an invalid one, leave `out` alone
        let mut h = null_mut();
        for (classes, want) in [
            (2, NNET_ERR_FORMAT),
            (1, NNET_ERR_INVALID_ARGUMENT),
            (MAX_CLASSES + 1, NNET_ERR_INVALID_ARGUMENT),
        ] {
            // SAFETY: as above.
            let s = unsafe {
                nnet_dataset_load_idx(c(&img).as_ptr(), c(&lab).as_ptr(), classes, &mut h)
            };
            assert_eq!(s, want, "classes {classes}: {}", last());
            assert!(h.is_null());
        }
        // counts that differ
        let lab2 = dir.join("lab2");
        std::fs::write(&lab2, idx(&[2], &[0, 1])).unwrap();
        // SAFETY: as above.
        let s = unsafe { nnet_dataset_load_idx(c(&img).as_ptr(), c(&lab2).as_ptr(), 0, &mut h) };
        assert_eq!(s, NNET_ERR_SHAPE_MISMATCH);
        assert!(h.is_null());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn split_is_seeded_and_keeps_labels() {
        let path = c(&data("sklearn-iris/iris.csv"));
        let mut ds = null_mut();
        // SAFETY: NUL-terminated strings and a pointer to a live local.
        let s = unsafe {
            nnet_dataset_load_csv(
                path.as_ptr(),
                c"target".as_ptr(),
                NNET_TARGETS_ONE_HOT,
                0,
                &mut ds,
            )
        };
        assert_eq!(s, NNET_OK);
        let (rows, ..) = read_back(ds);
        let split = |seed| {
            let (mut a, mut b) = (null_mut(), null_mut());
            // SAFETY: a live handle and pointers to live locals.
            let s = unsafe { nnet_dataset_split(ds, 0.8, seed, &mut a, &mut b) };
            assert_eq!(s, NNET_OK);
            let ra = read_back(a);
            let rb = read_back(b);
            // SAFETY: live handles.
            let k = unsafe { (nnet_dataset_num_classes(a), nnet_dataset_num_classes(b)) };
            // SAFETY: live handles, each freed once.
            unsafe {
                nnet_dataset_free(a);
                nnet_dataset_free(b);
            }
            (ra, rb, k)
        };
        let (a, b, k) = split(3);
        assert_eq!((a.0, b.0), (120, rows - 120));
        assert_eq!(k, (3, 3));
        assert_eq!((a.1, a.2, b.1, b.2), (4, 3, 4, 3));
        assert_eq!(split(3), (a.clone(), b.clone(), k));
        assert_ne!(split(4).0, a);
        // every row lands in exactly one part
        let mut all: Vec<Vec<u32>> =
            a.3.chunks(4)
                .chain(b.3.chunks(4))
                .map(|r| r.iter().map(|v| v.to_bits()).collect())
                .collect();
        let (_, _, _, x, _) = read_back(ds);
        let mut want: Vec<Vec<u32>> = x
            .chunks(4)
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect();
        all.sort();
        want.sort();
        assert_eq!(all, want);

        // bad fractions, the same out pointer twice, NULL outputs: nothing written
        let sentinel = 0x10 as *mut NnetDataset;
        let (mut a, mut b) = (sentinel, sentinel);
        for f in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY, 0.001] {
            // SAFETY: a live handle and pointers to live locals.
            let s = unsafe { nnet_dataset_split(ds, f, 1, &mut a, &mut b) };
            assert_eq!(s, NNET_ERR_INVALID_ARGUMENT, "fraction {f}");
            assert!(last().contains("split"));
            assert_eq!((a, b), (sentinel, sentinel));
        }
        // SAFETY: every call below has one NULL or aliased pointer and otherwise valid ones.
        unsafe {
            assert_eq!(
                nnet_dataset_split(ds, 0.5, 1, &mut a, &mut a),
                NNET_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                nnet_dataset_split(ds, 0.5, 1, null_mut(), &mut b),
                NNET_ERR_NULL_POINTER
            );
            assert_eq!(
                nnet_dataset_split(ds, 0.5, 1, &mut a, null_mut()),
                NNET_ERR_NULL_POINTER
            );
            assert_eq!(
                nnet_dataset_split(null(), 0.5, 1, &mut a, &mut b),
                NNET_ERR_NULL_POINTER
            );
            assert_eq!((a, b), (sentinel, sentinel));
            nnet_dataset_free(ds);
        }
    }

    #[test]
    fn strings_and_enums_are_validated() {
        let iris = c(&data("sklearn-iris/iris.csv"));
        let sentinel = 0x10 as *mut NnetDataset;
        let mut h = sentinel;
        let bad = CString::new(vec![b'd', 0xff, b'.', b'c']).unwrap();
        let target = c"target".as_ptr();
        // every call fails with `want`, names `part` in its message and leaves `h` alone
        macro_rules! fails {
            ($call:expr, $want:expr, $part:expr) => {{
                // SAFETY: every string is NUL-terminated or NULL, every pointer valid or NULL.
                let got = unsafe { $call };
                assert_eq!(got, $want, "{}", stringify!($call));
                let m = last();
                assert!(m.contains($part), "{m:?} lacks {:?}", $part);
                assert_eq!(h, sentinel, "{}", stringify!($call));
            }};
        }
        use nnet_dataset_load_csv as csv;
        use nnet_dataset_load_csv_columns as cols;
        const INV: NnetStatus = NNET_ERR_INVALID_ARGUMENT;
        const NUL: NnetStatus = NNET_ERR_NULL_POINTER;
        let ip = iris.as_ptr();
        fails!(csv(null(), target, 0, 0, &mut h), NUL, "path");
        fails!(csv(ip, null(), 0, 0, &mut h), NUL, "target");
        fails!(csv(ip, target, 0, 0, null_mut()), NUL, "out");
        fails!(
            csv(c"".as_ptr(), target, 0, 0, &mut h),
            INV,
            "path is empty"
        );
        fails!(csv(ip, c"".as_ptr(), 0, 0, &mut h), INV, "target is empty");
        fails!(csv(bad.as_ptr(), target, 0, 0, &mut h), INV, "UTF-8");
        fails!(csv(ip, bad.as_ptr(), 0, 0, &mut h), INV, "UTF-8");
        fails!(csv(ip, target, 3, 0, &mut h), INV, "target encoding 3");
        fails!(csv(ip, target, u32::MAX, 0, &mut h), INV, "4294967295");
        fails!(
            csv(ip, target, NNET_TARGETS_VALUES, 3, &mut h),
            INV,
            "got 3"
        );
        fails!(
            csv(ip, target, NNET_TARGETS_BINARY, 3, &mut h),
            INV,
            "got 3"
        );
        fails!(
            csv(ip, target, NNET_TARGETS_BINARY, 0, &mut h),
            NNET_ERR_FORMAT,
            "class id 2"
        );
        fails!(
            csv(ip, target, NNET_TARGETS_ONE_HOT, 1, &mut h),
            INV,
            "got 1"
        );
        fails!(
            csv(ip, target, NNET_TARGETS_ONE_HOT, 2, &mut h),
            NNET_ERR_FORMAT,
            "class id 2"
        );
        fails!(csv(ip, c"species".as_ptr(), 0, 0, &mut h), INV, "species");
        let missing = c"/nonexistent-nnet/x.csv".as_ptr();
        fails!(
            csv(missing, target, 0, 0, &mut h),
            NNET_ERR_IO,
            "/nonexistent-nnet/x.csv"
        );
        let (four, nine, twice, two) = ([4usize], [9usize], [1usize, 1], [0usize, 1]);
        fails!(cols(ip, null(), 1, 0, 0, &mut h), NUL, "columns");
        fails!(
            cols(ip, four.as_ptr(), 0, 0, 0, &mut h),
            INV,
            "n_columns is 0"
        );
        fails!(cols(ip, nine.as_ptr(), 1, 0, 0, &mut h), INV, "index 9");
        fails!(cols(ip, twice.as_ptr(), 2, 0, 0, &mut h), INV, "twice");
        fails!(cols(ip, two.as_ptr(), 2, 1, 0, &mut h), INV, "exactly one");
        fails!(
            cols(ip, four.as_ptr(), 1, 7, 0, &mut h),
            INV,
            "target encoding 7"
        );
        fails!(nnet_dataset_load_fann(null(), &mut h), NUL, "path");
        fails!(nnet_dataset_load_fann(bad.as_ptr(), &mut h), INV, "UTF-8");
        fails!(nnet_dataset_load_fann(ip, null_mut()), NUL, "out");
        fails!(
            nnet_dataset_load_fann(ip, &mut h),
            NNET_ERR_FORMAT,
            "header"
        );
        fails!(nnet_dataset_load_idx(null(), ip, 0, &mut h), NUL, "images");
        fails!(nnet_dataset_load_idx(ip, null(), 0, &mut h), NUL, "labels");
        fails!(
            nnet_dataset_load_idx(ip, ip, 0, &mut h),
            NNET_ERR_FORMAT,
            "not an IDX file"
        );
        // the getters on NULL
        let (mut n, mut xp) = (5usize, null::<f32>());
        fails!(
            nnet_dataset_shape(null(), &mut n, &mut n, &mut n),
            NUL,
            "data set"
        );
        fails!(
            nnet_dataset_inputs(null(), &mut xp, &mut n),
            NUL,
            "data set"
        );
        fails!(
            nnet_dataset_targets(null(), &mut xp, &mut n),
            NUL,
            "data set"
        );
        assert_eq!((n, xp), (5, null()));
        // SAFETY: NULL is documented to give 0.
        assert_eq!(unsafe { nnet_dataset_num_classes(null()) }, 0);
    }
}
