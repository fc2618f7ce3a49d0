//! The optimizer part of the C ABI called from Rust: the defaults, the conversion of every
//! kind, steps that match the Rust `OptimizerState` bit for bit, the schedule's rate, and
//! errors that change nothing.

use std::ffi::CStr;
use std::ptr;

use nnet::capi::*;
use nnet::{Network, Optimizer, OptimizerState, Output, Schedule};

fn last_error() -> String {
    let p = nnet_last_error();
    assert!(!p.is_null(), "a failure leaves a message");
    // SAFETY: a non-NULL message is a NUL-terminated string owned by the library.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn new_net() -> *mut NnetNetwork {
    let layers = [3usize, 4, 2];
    let mut net = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let s = unsafe { nnet_network_new(layers.as_ptr(), 3, NNET_OUTPUT_LINEAR, 5, 0.5, &mut net) };
    assert_eq!(s, NNET_OK);
    net
}

fn weights(net: *const NnetNetwork) -> Vec<f32> {
    // SAFETY: a live handle.
    let n = unsafe { nnet_network_num_weights(net) };
    let mut w = vec![0.0; n];
    // SAFETY: `w` holds `n` floats.
    assert_eq!(
        unsafe { nnet_network_get_weights(net, w.as_mut_ptr(), n) },
        NNET_OK
    );
    w
}

#[test]
fn defaults_fill_every_field_with_the_spec_values() {
    let c = nnet_optimizer_config_default();
    assert_eq!(c.kind, NNET_OPT_SGD);
    assert_eq!(c.learning_rate, nnet::TrainConfig::default().learning_rate);
    assert_eq!(
        (c.momentum, c.beta1, c.beta2, c.eps),
        (0.9, 0.9, 0.999, 1e-8)
    );
    assert_eq!(c.weight_decay, 0.01);
    assert_eq!(
        (c.rprop_increase, c.rprop_decrease, c.rprop_delta0),
        (1.2, 0.5, 0.1)
    );
    assert_eq!((c.rprop_delta_min, c.rprop_delta_max), (0.0, 50.0));
    let s = nnet_schedule_config_default();
    assert_eq!(s.kind, NNET_SCHEDULE_CONSTANT);
    assert!(s.gamma > 0.0 && s.gamma <= 1.0 && s.step_epochs >= 1 && s.decay >= 0.0);
    assert_eq!(s.eta_min, 0.0);
}

#[test]
fn every_kind_steps_as_the_rust_state_does() {
    let kinds = [
        (NNET_OPT_SGD, Optimizer::Sgd),
        (NNET_OPT_MOMENTUM, Optimizer::momentum()),
        (NNET_OPT_NESTEROV, Optimizer::nesterov()),
        (NNET_OPT_ADAM, Optimizer::adam()),
        (NNET_OPT_ADAMW, Optimizer::adamw()),
        (NNET_OPT_RPROP, Optimizer::rprop()),
    ];
    for (kind, rust) in kinds {
        let net = new_net();
        let w0 = weights(net);
        let mut cfg = nnet_optimizer_config_default();
        cfg.kind = kind;
        cfg.learning_rate = 0.05;
        let mut opt = ptr::null_mut();
        // SAFETY: live handle, valid pointers.
        assert_eq!(unsafe { nnet_optimizer_new(net, &cfg, &mut opt) }, NNET_OK);
        let mut rnet = Network::from_weights(&[3, 4, 2], Output::Linear, &w0).unwrap();
        let mut state = OptimizerState::for_network(rust, &rnet).unwrap();
        for k in 0..4 {
            let g: Vec<f32> = (0..w0.len())
                .map(|i| ((i * 7 + k * 3) % 11) as f32 / 11.0 - 0.45)
                .collect();
            let eta = if k < 2 { 0.05 } else { 0.02 };
            if k == 2 {
                // SAFETY: a live handle.
                assert_eq!(
                    unsafe { nnet_optimizer_set_learning_rate(opt, eta) },
                    NNET_OK
                );
            }
            // SAFETY: live handles; `g` holds the network's weight count.
            let s = unsafe { nnet_optimizer_step(opt, net, g.as_ptr(), g.len()) };
            assert_eq!(s, NNET_OK);
            state.step_network(&mut rnet, &g, eta).unwrap();
            assert_eq!(weights(net), rnet.weights(), "kind {kind} step {k}");
        }
        // SAFETY: a live handle.
        assert_eq!(unsafe { nnet_optimizer_steps(opt) }, 4);
        assert_ne!(weights(net), w0);
        // SAFETY: a live handle.
        assert_eq!(unsafe { nnet_optimizer_reset(opt) }, NNET_OK);
        // SAFETY: a live handle.
        assert_eq!(unsafe { nnet_optimizer_steps(opt) }, 0);
        // SAFETY: handles from this library, freed once.
        unsafe {
            nnet_optimizer_free(opt);
            nnet_network_free(net);
        }
    }
}

#[test]
fn bad_values_are_rejected_and_change_nothing() {
    let net = new_net();
    let w0 = weights(net);
    let sentinel = 0x10 as *mut NnetOptimizer;
    let mut opt = sentinel;
    let mut cfg = nnet_optimizer_config_default();
    cfg.kind = 17;
    // SAFETY: live handle, valid pointers.
    assert_eq!(
        unsafe { nnet_optimizer_new(net, &cfg, &mut opt) },
        NNET_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("unknown optimizer 17"));
    cfg.kind = NNET_OPT_ADAM;
    cfg.beta2 = 1.0;
    // SAFETY: as above.
    assert_eq!(
        unsafe { nnet_optimizer_new(net, &cfg, &mut opt) },
        NNET_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("beta2"), "{}", last_error());
    assert_eq!(opt, sentinel);

    cfg = nnet_optimizer_config_default();
    cfg.kind = NNET_OPT_MOMENTUM;
    // SAFETY: as above.
    assert_eq!(unsafe { nnet_optimizer_new(net, &cfg, &mut opt) }, NNET_OK);
    assert!(nnet_last_error().is_null());
    let n = w0.len();
    let mut g = vec![0.5f32; n];
    // SAFETY: live handles, `g` holds `n` floats (`n - 1` and NULL are refused).
    unsafe {
        assert_eq!(
            nnet_optimizer_step(opt, net, g.as_ptr(), n - 1),
            NNET_ERR_SHAPE_MISMATCH
        );
        assert_eq!(
            nnet_optimizer_step(opt, net, ptr::null(), n),
            NNET_ERR_NULL_POINTER
        );
        g[1] = f32::NAN;
        assert_eq!(
            nnet_optimizer_step(opt, net, g.as_ptr(), n),
            NNET_ERR_NON_FINITE
        );
        assert!(last_error().contains("grad[1]"));
        assert_eq!(
            nnet_optimizer_set_learning_rate(opt, -1.0),
            NNET_ERR_INVALID_ARGUMENT
        );
        assert_eq!(nnet_optimizer_steps(opt), 0);
        // a huge rate overflows the weights: reported as divergence
        g[1] = 1e30;
        assert_eq!(nnet_optimizer_set_learning_rate(opt, 1e30), NNET_OK);
    }
    assert_eq!(weights(net), w0, "failed calls changed the network");
    // SAFETY: as above.
    assert_eq!(
        unsafe { nnet_optimizer_step(opt, net, g.as_ptr(), n) },
        NNET_ERR_DIVERGED
    );
    // SAFETY: handles from this library, freed once.
    unsafe {
        nnet_optimizer_free(opt);
        nnet_optimizer_free(ptr::null_mut());
        nnet_network_free(net);
    }
}

#[test]
fn the_schedule_rate_is_the_rust_one() {
    let cases = [
        (NNET_SCHEDULE_CONSTANT, Schedule::Constant),
        (
            NNET_SCHEDULE_STEP,
            Schedule::Step {
                gamma: 0.5,
                every: 3,
            },
        ),
        (
            NNET_SCHEDULE_EXPONENTIAL,
            Schedule::Exponential { gamma: 0.5 },
        ),
        (
            NNET_SCHEDULE_INVERSE_TIME,
            Schedule::InverseTime { decay: 0.25 },
        ),
        (NNET_SCHEDULE_COSINE, Schedule::Cosine { eta_min: 0.01 }),
    ];
    for (kind, rust) in cases {
        let c = NnetScheduleConfig {
            kind,
            gamma: 0.5,
            step_epochs: 3,
            decay: 0.25,
            eta_min: 0.01,
        };
        for e in 0..10 {
            let mut r = f32::NAN;
            // SAFETY: valid pointers.
            assert_eq!(
                unsafe { nnet_schedule_rate(&c, 0.2, e, 10, &mut r) },
                NNET_OK
            );
            assert_eq!(r, rust.rate(0.2, e, 10), "kind {kind} epoch {e}");
        }
    }
    let mut r = 7.0;
    let c = NnetScheduleConfig {
        kind: NNET_SCHEDULE_COSINE,
        eta_min: 0.3,
        ..nnet_schedule_config_default()
    };
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { nnet_schedule_rate(&c, 0.2, 0, 10, &mut r) },
        NNET_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("eta_min"));
    assert_eq!(r, 7.0);
}
