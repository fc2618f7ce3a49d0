//! The bodies of the fuzz targets: each takes arbitrary bytes and must return normally (an
//! error value is fine); a panic, an abort or a hang is a finding. The same functions replay
//! the committed corpora and regression inputs in `cargo test` (tests/fuzz_regressions.rs).

use std::ffi::c_void;

use nnet::Network;
use nnet::capi::{
    NNET_ERR_PANIC, NNET_OK, NnetEpochInfo, NnetNetwork, NnetTrainConfig, NnetTrainReport,
    nnet_network_free, nnet_network_new, nnet_network_num_weights, nnet_train,
    nnet_train_config_default,
};
use nnet::checkpoint::Checkpoint;
use nnet::data::{CsvOptions, TargetEncoding, parse_csv, parse_fann, parse_idx};

/// The names of the targets, as in fuzz/Cargo.toml and the corpus directories.
pub const TARGETS: [&str; 7] = [
    "model_file",
    "checkpoint",
    "csv",
    "fann",
    "idx",
    "train_config",
    "onnx",
];

/// Runs target `name` on `data`; `false` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "model_file" => model_file(data),
        "checkpoint" => checkpoint(data),
        "csv" => csv(data),
        "fann" => fann(data),
        "idx" => idx(data),
        "train_config" => train_config(data),
        "onnx" => onnx(data),
        _ => return false,
    }
    true
}

/// A model file: loads or fails; what loads saves back to the same bytes and predicts.
pub fn model_file(data: &[u8]) {
    if let Ok(net) = Network::from_bytes(data) {
        let again = net.to_bytes().expect("a loaded model saves");
        assert_eq!(again, data, "a loaded model saves to other bytes");
        let x = vec![0.5f32; net.num_inputs()];
        let y = net.predict(&x).expect("a loaded model predicts");
        assert_eq!(y.len(), net.num_outputs());
    }
}

/// ONNX bytes: a network or an error; a network that loads predicts two rows, and its own
/// export reads back as the same network (layers, output, weight bits, standardization).
pub fn onnx(data: &[u8]) {
    let Ok(net) = Network::from_onnx(data) else {
        return;
    };
    let x: Vec<f32> = (0..2 * net.num_inputs())
        .map(|i| (i % 5) as f32 * 0.5 - 1.0)
        .collect();
    let y = net.predict(&x).expect("an imported network predicts");
    assert_eq!(y.len(), 2 * net.num_outputs());
    let back = Network::from_onnx(&net.to_onnx()).expect("an imported network exports");
    assert_eq!(back.layers(), net.layers());
    assert_eq!(back.output(), net.output());
    let bits = |n: &Network| n.weights().iter().map(|w| w.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&back),
        bits(&net),
        "the exported weights read back differently"
    );
    assert_eq!(
        back.scaling(),
        net.scaling(),
        "the standardization does not survive the export"
    );
}

/// A checkpoint file: loads or fails; what loads saves back to the same bytes.
pub fn checkpoint(data: &[u8]) {
    if let Ok(c) = Checkpoint::from_bytes(data) {
        assert_eq!(c.to_bytes().expect("a loaded checkpoint saves"), data);
        for name in c.names() {
            assert!(c.get(name).is_some());
        }
        assert!(c.check_fields(&c).is_ok());
    }
}

/// CSV text; the first byte picks the target encoding and the delimiter.
pub fn csv(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut opts = match sel % 4 {
        0 => CsvOptions::default(),
        1 => CsvOptions::one_hot("target"),
        2 => CsvOptions::binary(nnet::data::Column::Last),
        _ => CsvOptions::values([0usize]),
    };
    if sel & 0x10 != 0 {
        opts = opts.num_classes(usize::from(sel >> 5) + 1);
    }
    if sel & 0x08 != 0 {
        opts = opts.delimiter(b';');
    }
    if let Ok(ds) = parse_csv(&text, "fuzz.csv", &opts) {
        assert_eq!(ds.inputs().len(), ds.rows() * ds.num_inputs());
        assert_eq!(ds.targets().len(), ds.rows() * ds.num_outputs());
        assert!(
            ds.inputs()
                .iter()
                .chain(ds.targets())
                .all(|v| v.is_finite())
        );
        if opts.encoding != TargetEncoding::Values {
            assert_eq!(ds.labels().map(<[usize]>::len), Some(ds.rows()));
        }
    }
}

/// FANN training-data text.
pub fn fann(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ds) = parse_fann(&text, "fuzz.data") {
        assert_eq!(ds.inputs().len(), ds.rows() * ds.num_inputs());
        assert_eq!(ds.targets().len(), ds.rows() * ds.num_outputs());
        assert!(
            ds.inputs()
                .iter()
                .chain(ds.targets())
                .all(|v| v.is_finite())
        );
    }
}

/// An IDX file, plain or gzip-compressed.
pub fn idx(data: &[u8]) {
    if let Ok(a) = parse_idx(data, "fuzz.idx") {
        let total = a.dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
        assert_eq!(total, Some(a.data.len()));
    }
}

/// Reads the fields of the fuzzed configuration; zeros once the input runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let n = N.min(self.0.len());
        a[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        a
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take())
    }
}

/// Stops training after `*user` epochs.
unsafe extern "C" fn stop_after(info: *const NnetEpochInfo, user: *mut c_void) -> i32 {
    // SAFETY: nnet_train passes a valid info and the `user` pointer of the configuration,
    // which `train_config` points at a live u32.
    let (epoch, limit) = unsafe { ((*info).epoch, *(user as *const u32)) };
    i32::from(epoch >= limit)
}

/// Arbitrary bytes as an `NnetTrainConfig` and a small data set, through the C ABI: an error
/// status or a trained network, never a panic (`NNET_ERR_PANIC` is a finding), a crash or a
/// hang. Sizes and epochs are capped so that one run is fast; every other field is taken as
/// it comes (NaN learning rates, unknown enum values, bad flags included).
pub fn train_config(data: &[u8]) {
    let mut b = Bytes(data);
    let shape = b.u8();
    let n_in = usize::from(shape & 3) + 1;
    let hidden = usize::from((shape >> 2) & 7);
    let n_out = usize::from(shape >> 5) % 3 + 1;
    let layers: Vec<usize> = if hidden == 0 {
        vec![n_in, n_out]
    } else {
        vec![n_in, hidden, n_out]
    };
    let output = u32::from(b.u8() & 1);
    let rows = usize::from(b.u8() % 24) + 1;
    let val_rows = usize::from(b.u8() % 8);

    let mut cfg: NnetTrainConfig = nnet_train_config_default();
    cfg.learning_rate = b.f32();
    cfg.epochs = b.u32() % 12;
    let batch = b.u32();
    cfg.batch_size = if batch & 0x8000_0000 != 0 {
        batch
    } else {
        batch % 32
    };
    cfg.order = b.u32() % 5;
    cfg.regularization.kind = b.u32() % 6;
    cfg.regularization.lambda = b.f32();
    cfg.regularization.w0 = b.f32();
    cfg.regularization.include_bias = b.u8() % 3;
    cfg.patience = b.u32() % 5;
    cfg.restarts = b.u32() % 3;
    cfg.seed = b.u64();
    cfg.init_range = b.f32();
    cfg.threads = b.u32() % 3;
    let mut stop_epoch = u32::from(b.u8() % 8);
    if stop_epoch > 0 {
        cfg.on_epoch = Some(stop_after);
        cfg.user = (&raw mut stop_epoch).cast();
    }
    let init_range = b.f32();

    // the data: inputs and targets from the remaining bytes (as small integers or raw floats)
    let raw_floats = b.u8() & 1 == 1;
    let mut value = || {
        if raw_floats {
            b.f32()
        } else {
            f32::from(b.u8() as i8) / 16.0
        }
    };
    let x: Vec<f32> = (0..rows * n_in).map(|_| value()).collect();
    let y: Vec<f32> = (0..rows * n_out).map(|_| value()).collect();
    let vx: Vec<f32> = (0..val_rows * n_in).map(|_| value()).collect();
    let vy: Vec<f32> = (0..val_rows * n_out).map(|_| value()).collect();

    let mut net: *mut NnetNetwork = std::ptr::null_mut();
    // SAFETY: `layers` holds `layers.len()` sizes; `net` is writable.
    let st = unsafe {
        nnet_network_new(
            layers.as_ptr(),
            layers.len(),
            output,
            cfg.seed,
            init_range,
            &mut net,
        )
    };
    assert_ne!(st, NNET_ERR_PANIC, "nnet_network_new panicked");
    if st != NNET_OK {
        assert!(net.is_null());
        return;
    }
    let mut report = NnetTrainReport {
        epochs_run: 0,
        best_epoch: 0,
        train_error: 0.0,
        validation_error: 0.0,
    };
    let (vxp, vyp) = if val_rows > 0 {
        (vx.as_ptr(), vy.as_ptr())
    } else {
        (std::ptr::null(), std::ptr::null())
    };
    // SAFETY: `net` is a live handle; `x`, `y`, `vx`, `vy` hold `rows` and `val_rows` rows of
    // `n_in` and `n_out` floats; `report` is writable; `cfg.user` (when set) points at
    // `stop_epoch`, alive for the call.
    let st = unsafe {
        nnet_train(
            net,
            &cfg,
            x.as_ptr(),
            y.as_ptr(),
            rows,
            n_in,
            n_out,
            vxp,
            vyp,
            val_rows,
            &mut report,
        )
    };
    assert_ne!(st, NNET_ERR_PANIC, "nnet_train panicked");
    if st == NNET_OK {
        assert!(report.epochs_run >= 1 && report.epochs_run <= cfg.epochs);
        assert!(report.best_epoch >= 1 && report.best_epoch <= report.epochs_run);
        assert!(report.train_error.is_finite());
    }
    // SAFETY: `net` is a live handle.
    assert!(unsafe { nnet_network_num_weights(net) } > 0);
    // SAFETY: `net` is a live handle, freed once.
    unsafe { nnet_network_free(net) };
}
