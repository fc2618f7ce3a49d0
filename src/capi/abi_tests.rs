//! Rust-side tests of the C ABI: NULL handling, unchanged outputs on failure, the training
//! outcomes. The exhaustive bad-input checks run from C (`c_examples/tests/bad_input.c`).

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use super::*;

fn last() -> String {
    let p = nnet_last_error();
    assert!(!p.is_null(), "expected an error message");
    // SAFETY: non-NULL results are NUL-terminated strings valid until the next call.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

fn new_net(layers: &[usize], output: u32) -> *mut NnetNetwork {
    let mut net = null_mut();
    // SAFETY: valid pointers to live locals.
    let s = unsafe { nnet_network_new(layers.as_ptr(), layers.len(), output, 3, 0.5, &mut net) };
    assert_eq!(s, NNET_OK);
    assert!(nnet_last_error().is_null());
    net
}

#[test]
fn null_pointers_are_reported_and_outputs_untouched() {
    let net = new_net(&[2, 3, 1], NNET_OUTPUT_TANH);
    let x = [0.5f32, -0.5];
    let mut y = [7.0f32];
    // SAFETY: every call passes NULL for one pointer and valid pointers otherwise.
    unsafe {
        assert_eq!(
            nnet_predict(null(), x.as_ptr(), 1, 2, y.as_mut_ptr(), 1),
            NNET_ERR_NULL_POINTER
        );
        assert!(last().contains("network"));
        assert_eq!(
            nnet_predict(net, null(), 1, 2, y.as_mut_ptr(), 1),
            NNET_ERR_NULL_POINTER
        );
        assert_eq!(
            nnet_predict(net, x.as_ptr(), 1, 2, null_mut(), 1),
            NNET_ERR_NULL_POINTER
        );
        assert_eq!(
            nnet_predict(net, x.as_ptr(), 1, 3, y.as_mut_ptr(), 1),
            NNET_ERR_SHAPE_MISMATCH
        );
        assert_eq!(
            nnet_predict(net, x.as_ptr(), usize::MAX, 2, y.as_mut_ptr(), 1),
            NNET_ERR_OVERFLOW
        );
        assert_eq!(y, [7.0]);
        let mut out = null_mut();
        let layers = [2usize, 0, 1];
        assert_eq!(
            nnet_network_new(layers.as_ptr(), 3, 0, 1, 0.1, &mut out),
            NNET_ERR_INVALID_ARGUMENT
        );
        assert!(out.is_null());
        assert!(last().contains("d(1)"));
        assert_eq!(
            nnet_network_new(layers.as_ptr(), 3, 0, 1, 0.1, null_mut()),
            NNET_ERR_NULL_POINTER
        );
        assert_eq!(
            nnet_network_new([2usize, 1].as_ptr(), 2, 9, 1, 0.1, &mut out),
            NNET_ERR_INVALID_ARGUMENT
        );
        assert!(last().contains("output kind 9"));
        assert_eq!(nnet_network_num_weights(null()), 0);
        assert!(nnet_network_isa(null()).is_null());
        nnet_network_free(null_mut());
        nnet_buffer_free(null_mut(), 5);
        // success clears the message
        assert_eq!(
            nnet_predict(net, x.as_ptr(), 1, 2, y.as_mut_ptr(), 1),
            NNET_OK
        );
        assert!(nnet_last_error().is_null());
        assert!(y[0].abs() < 1.0 && y[0] != 7.0);
        nnet_network_free(net);
    }
}

#[test]
fn predict_matches_rust_and_buffers_round_trip() {
    let net = new_net(&[3, 4, 2], NNET_OUTPUT_LINEAR);
    let x: Vec<f32> = (0..12).map(|i| i as f32 / 7.0 - 0.8).collect();
    let mut y = vec![0f32; 8];
    let mut buf = null_mut();
    let mut len = 0usize;
    let mut back = null_mut();
    let mut y2 = vec![0f32; 8];
    // SAFETY: valid pointers and sizes throughout; handles and buffers freed once.
    unsafe {
        assert_eq!(
            nnet_predict(net, x.as_ptr(), 4, 3, y.as_mut_ptr(), 2),
            NNET_OK
        );
        assert_eq!(y, (*net).net.predict(&x).unwrap());
        assert_eq!(nnet_save_to_buffer(net, &mut buf, &mut len), NNET_OK);
        assert_eq!(len, (*net).net.to_bytes().unwrap().len());
        assert_eq!(nnet_load_from_buffer(buf, len, &mut back), NNET_OK);
        assert_eq!(
            nnet_load_from_buffer(buf, len - 1, &mut back),
            NNET_ERR_FORMAT
        );
        assert!(last().contains("truncated"));
        nnet_buffer_free(buf, len);
        assert_eq!(
            nnet_predict(back, x.as_ptr(), 4, 3, y2.as_mut_ptr(), 2),
            NNET_OK
        );
        assert_eq!(y, y2);
        nnet_network_free(back);
        nnet_network_free(net);
    }
}

unsafe extern "C" fn stop_at_3(info: *const NnetEpochInfo, user: *mut c_void) -> i32 {
    // SAFETY: `info` is valid during the call; `user` points to the test's counter.
    unsafe {
        *(user as *mut u32) += 1;
        ((*info).epoch >= 3) as i32
    }
}

#[test]
fn training_outcomes() {
    let x = [-1.0f32, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    let y = [-1.0f32, 1.0, 1.0, -1.0];
    let net = new_net(&[2, 3, 1], NNET_OUTPUT_TANH);
    let mut calls = 0u32;
    let mut cfg = nnet_train_config_default();
    cfg.learning_rate = 0.1;
    cfg.epochs = 50;
    cfg.on_epoch = Some(stop_at_3);
    cfg.user = &mut calls as *mut u32 as *mut c_void;
    let mut report = NnetTrainReport {
        epochs_run: 99,
        best_epoch: 99,
        train_error: -1.0,
        validation_error: -1.0,
    };
    // SAFETY: valid pointers and sizes; the callback matches the declared signature.
    unsafe {
        let before = (*net).net.weights().to_vec();
        // a bad config changes nothing
        let mut bad = cfg;
        bad.order = 17;
        assert_eq!(
            nnet_train(
                net,
                &bad,
                x.as_ptr(),
                y.as_ptr(),
                4,
                2,
                1,
                null(),
                null(),
                0,
                &mut report
            ),
            NNET_ERR_INVALID_ARGUMENT
        );
        assert!(last().contains("17"));
        assert_eq!((*net).net.weights(), &before[..]);
        assert_eq!(report.epochs_run, 99);
        assert_eq!(calls, 0);
        // stopped by the callback: weights change, report written
        assert_eq!(
            nnet_train(
                net,
                &cfg,
                x.as_ptr(),
                y.as_ptr(),
                4,
                2,
                1,
                null(),
                null(),
                0,
                &mut report
            ),
            NNET_ERR_STOPPED
        );
        assert!(last().contains("callback"));
        assert_eq!(calls, 3);
        assert_eq!(report.epochs_run, 3);
        assert!(report.validation_error.is_nan());
        assert_ne!((*net).net.weights(), &before[..]);
        // divergence keeps the last finite weights and does not write the report
        let mut wild = nnet_train_config_default();
        wild.learning_rate = 1e30;
        wild.order = NNET_ORDER_SEQUENTIAL;
        let mut lin = new_net(&[2, 3, 1], NNET_OUTPUT_LINEAR);
        let yy = [1e30f32, -1e30, 1e30, -1e30];
        let before = (*lin).net.weights().to_vec();
        let mut r2 = report;
        r2.epochs_run = 1234;
        assert_eq!(
            nnet_train(
                lin,
                &wild,
                x.as_ptr(),
                yy.as_ptr(),
                4,
                2,
                1,
                null(),
                null(),
                0,
                &mut r2
            ),
            NNET_ERR_DIVERGED
        );
        assert!((*lin).net.weights().iter().all(|w| w.is_finite()));
        assert_eq!(
            (*lin).net.weights(),
            &before[..],
            "divergence in epoch 1 restores the starting weights"
        );
        assert_eq!(r2.epochs_run, 1234);
        nnet_network_free(lin);
        lin = null_mut();
        nnet_network_free(lin);
        nnet_network_free(net);
    }
}

unsafe extern "C" fn stop_at_2(_info: *const NnetEpochInfo, user: *mut c_void) -> i32 {
    // SAFETY: the test passes a pointer to a live u32 as `user`.
    let calls = unsafe { &mut *(user as *mut u32) };
    *calls += 1;
    i32::from(*calls == 2)
}

#[test]
fn a_stopped_run_resumes_to_the_uninterrupted_result() {
    let d = nnet_train_config_default();
    assert!(d.checkpoint_path.is_null());
    assert_eq!(d.checkpoint_every, 1);
    let x = [-1.0f32, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    let y = [-1.0f32, 1.0, 1.0, -1.0];
    let path = std::env::temp_dir().join(format!("nnet-abi-resume-{}.ckpt", std::process::id()));
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let mut cfg = nnet_train_config_default();
    cfg.learning_rate = 0.1;
    cfg.epochs = 6;
    cfg.optimizer.kind = crate::capi::optimizer::NNET_OPT_MOMENTUM;
    let want = new_net(&[2, 3, 1], NNET_OUTPUT_TANH);
    let got = new_net(&[2, 3, 1], NNET_OUTPUT_TANH);
    let zero = NnetTrainReport {
        epochs_run: 0,
        best_epoch: 0,
        train_error: 0.0,
        validation_error: 0.0,
    };
    let (mut r1, mut r2) = (zero, zero);
    let mut calls = 0u32;
    // SAFETY: live handles, 4 rows of 2 inputs and 1 target, writable reports; the path is
    // a C string alive for the calls; `user` points at `calls`.
    unsafe {
        let train = |net, cfg: &NnetTrainConfig, r: &mut NnetTrainReport, resume: bool| {
            let f = if resume {
                nnet_train_resume
            } else {
                nnet_train
            };
            f(
                net,
                cfg,
                x.as_ptr(),
                y.as_ptr(),
                4,
                2,
                1,
                null(),
                null(),
                0,
                r,
            )
        };
        assert_eq!(train(want, &cfg, &mut r1, false), NNET_OK);
        // resuming without a checkpoint path is an error that changes nothing
        assert_eq!(train(got, &cfg, &mut r2, true), NNET_ERR_INVALID_ARGUMENT);
        assert!(last().contains("checkpoint"));
        cfg.checkpoint_path = cpath.as_ptr();
        cfg.on_epoch = Some(stop_at_2);
        cfg.user = (&raw mut calls).cast();
        assert_eq!(train(got, &cfg, &mut r2, false), NNET_ERR_STOPPED);
        assert_eq!(r2.epochs_run, 2);
        cfg.on_epoch = None;
        assert_eq!(train(got, &cfg, &mut r2, true), NNET_OK);
        assert_eq!(r2.epochs_run, r1.epochs_run);
        assert_eq!(r2.train_error.to_bits(), r1.train_error.to_bits());
        assert_eq!((*got).net.weights(), (*want).net.weights());
        // another seed: refused by name
        cfg.seed = 5;
        assert_eq!(train(got, &cfg, &mut r2, true), NNET_ERR_INVALID_ARGUMENT);
        assert!(last().contains("`seed`"), "{}", last());
        cfg.seed = 0;
        cfg.checkpoint_every = 0;
        assert_eq!(train(got, &cfg, &mut r2, true), NNET_ERR_INVALID_ARGUMENT);
        nnet_network_free(want);
        nnet_network_free(got);
    }
    std::fs::remove_file(&path).unwrap();
}
