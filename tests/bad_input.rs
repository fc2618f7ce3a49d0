//! Every bad input of SPEC section 4 through the Rust API: an `Err` of the right kind, a
//! message that names the values, and nothing the caller owns changed (weights, output and
//! gradient buffers are bitwise the same after the failed call).

mod common;

use common::*;
use nnet::kernels::Kernels;
use nnet::{
    Error, Network, Order, Output, RegKind, Regularization, Scaling, TrainConfig, TrainReport,
};

/// Asserts that `r` is an error accepted by `kind` whose message contains every string of
/// `needles`; returns the message.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    r: nnet::Result<T>,
    kind: fn(&Error) -> bool,
    needles: &[&str],
) -> String {
    let e = r.expect_err("expected an error");
    assert!(kind(&e), "wrong kind of error: {e:?}");
    let msg = e.message().to_string();
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} does not name {n:?}");
    }
    // Display adds the category
    assert!(e.to_string().ends_with(&msg));
    msg
}

fn invalid(e: &Error) -> bool {
    matches!(e, Error::InvalidArgument(_))
}
fn shape(e: &Error) -> bool {
    matches!(e, Error::ShapeMismatch(_))
}
fn non_finite(e: &Error) -> bool {
    matches!(e, Error::NonFinite(_))
}
fn too_big(e: &Error) -> bool {
    matches!(e, Error::OutOfMemory(_) | Error::Overflow(_))
}

/// A 3-4-2 network, training rows for it, and a copy of its weights.
struct Fixture {
    net: Network,
    x: Vec<f32>,
    y: Vec<f32>,
    before: Vec<u32>,
}

fn fixture() -> Fixture {
    let net = Network::new(&[3, 4, 2], Output::Tanh, 7, 0.5).unwrap();
    let mut rng = TestRng::new(1);
    let x = rng.vec(5 * 3, -1.0, 1.0);
    let y = rng.vec(5 * 2, -1.0, 1.0);
    let before = bits(net.weights());
    Fixture { net, x, y, before }
}

fn cfg() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        ..TrainConfig::default()
    }
}

impl Fixture {
    /// Trains with `cfg` and the given data, expecting an error; checks the weights did not
    /// change and returns the error.
    #[track_caller]
    fn train_err(
        &mut self,
        cfg: &TrainConfig,
        x: &[f32],
        y: &[f32],
        val: Option<(&[f32], &[f32])>,
    ) -> nnet::Result<TrainReport> {
        let r = self.net.train(cfg, x, y, val);
        assert!(r.is_err(), "expected an error, got {r:?}");
        assert_eq!(bits(self.net.weights()), self.before, "the weights changed");
        r
    }

    #[track_caller]
    fn cfg_err(&mut self, cfg: &TrainConfig) -> nnet::Result<TrainReport> {
        let (x, y) = (self.x.clone(), self.y.clone());
        self.train_err(cfg, &x, &y, None)
    }

    /// The gradient call fails and leaves a caller's buffer untouched.
    #[track_caller]
    fn gradient_err(&self, x: &[f32], y: &[f32], reg: &Regularization) -> nnet::Result<f64> {
        let mut g = vec![7.5f32; self.net.num_weights()];
        let r = self.net.gradient_into(x, y, reg, &mut g);
        assert!(
            g.iter().all(|&v| v == 7.5),
            "the gradient buffer was written"
        );
        assert!(self.net.gradient(x, y, reg).is_err());
        r
    }

    /// predict_into fails and leaves a caller's buffer untouched.
    #[track_caller]
    fn predict_err(&self, x: &[f32], out_len: usize) -> nnet::Result<()> {
        let mut out = vec![-3.25f32; out_len];
        let r = self.net.predict_into(x, &mut out);
        assert!(
            out.iter().all(|&v| v == -3.25),
            "the output buffer was written"
        );
        r
    }
}

#[test]
fn empty_layer_list() {
    expect_err(
        Network::new(&[], Output::Linear, 1, 0.1),
        invalid,
        &["at least 2", "got 0"],
    );
    expect_err(
        Network::from_weights(&[], Output::Linear, &[]),
        invalid,
        &["got 0"],
    );
}

#[test]
fn a_single_layer() {
    expect_err(
        Network::new(&[3], Output::Linear, 1, 0.1),
        invalid,
        &["at least 2", "got 1"],
    );
    expect_err(
        Network::from_weights(&[3], Output::Tanh, &[0.0; 4]),
        invalid,
        &["got 1"],
    );
}

#[test]
fn a_zero_layer_size() {
    for (layers, name) in [
        (&[0, 3, 1][..], "d(0)"),
        (&[3, 0, 1], "d(1)"),
        (&[3, 4, 0], "d(2)"),
        (&[0, 0], "d(0)"),
    ] {
        expect_err(
            Network::new(layers, Output::Linear, 1, 0.1),
            invalid,
            &[name, "is 0"],
        );
        expect_err(
            Network::from_weights(layers, Output::Linear, &[0.0; 4]),
            invalid,
            &[name],
        );
    }
}

#[test]
fn input_length_not_a_multiple_of_d0() {
    let net = Network::new(&[784, 2, 1], Output::Linear, 1, 0.1).unwrap();
    for n in [783usize, 785, 1] {
        let x = vec![0.5f32; n];
        expect_err(net.predict(&x), shape, &[&n.to_string(), "784"]);
        expect_err(net.classify(&x), shape, &[&n.to_string(), "784"]);
        expect_err(net.error(&x, &[0.0]), shape, &[&n.to_string(), "784"]);
    }
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    // 14 values are not whole rows of 3
    expect_err(f.predict_err(&x[..14], 8), shape, &["14", "3"]);
    expect_err(f.train_err(&cfg(), &x[..14], &y, None), shape, &["14", "3"]);
    expect_err(
        f.gradient_err(&x[..14], &y, &Regularization::none()),
        shape,
        &["14", "3"],
    );
}

#[test]
fn target_rows_do_not_match_input_rows() {
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    // 5 input rows, 4 target rows of 2
    expect_err(
        f.train_err(&cfg(), &x, &y[..8], None),
        shape,
        &["5 input rows", "4 target rows"],
    );
    expect_err(
        f.gradient_err(&x, &y[..8], &Regularization::none()),
        shape,
        &["5 input rows", "4 target rows"],
    );
    expect_err(f.net.error(&x, &y[..8]), shape, &["5", "4"]);
    // 9 target values are not whole rows of 2
    expect_err(f.train_err(&cfg(), &x, &y[..9], None), shape, &["9", "2"]);
    // the output buffer of predict_into must be rows x d(L)
    expect_err(f.predict_err(&x, 9), shape, &["10", "9"]);
    expect_err(f.predict_err(&x, 11), shape, &["10", "11"]);
    // the gradient buffer must be D long
    let mut g = vec![1.0f32; f.net.num_weights() - 1];
    expect_err(
        f.net.gradient_into(&x, &y, &Regularization::none(), &mut g),
        shape,
        &[
            &f.net.num_weights().to_string(),
            &(f.net.num_weights() - 1).to_string(),
        ],
    );
    assert!(g.iter().all(|&v| v == 1.0));
}

#[test]
fn validation_shapes() {
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    let (vx, vy) = (x[..6].to_vec(), y[..4].to_vec()); // 2 rows
    // inputs not whole rows
    expect_err(
        f.train_err(&cfg(), &x, &y, Some((&vx[..5], &vy))),
        shape,
        &["validation", "5", "3"],
    );
    // rows disagree
    expect_err(
        f.train_err(&cfg(), &x, &y, Some((&vx, &vy[..2]))),
        shape,
        &["validation", "2 input rows", "1 target rows"],
    );
    // targets not whole rows
    expect_err(
        f.train_err(&cfg(), &x, &y, Some((&vx, &vy[..3]))),
        shape,
        &["validation", "3", "2"],
    );
    // empty validation set
    expect_err(
        f.train_err(&cfg(), &x, &y, Some((&[], &[]))),
        invalid,
        &["validation", "empty"],
    );
    // NaN in the validation set
    let mut bad = vy.clone();
    bad[3] = f32::NAN;
    expect_err(
        f.train_err(&cfg(), &x, &y, Some((&vx, &bad))),
        non_finite,
        &["validation target[3]", "NaN"],
    );
}

#[test]
fn an_empty_training_set() {
    let mut f = fixture();
    expect_err(
        f.train_err(&cfg(), &[], &[], None),
        invalid,
        &["training", "empty"],
    );
    let y = f.y.clone();
    expect_err(f.train_err(&cfg(), &[], &y, None), invalid, &["empty"]);
    expect_err(
        f.gradient_err(&[], &[], &Regularization::none()),
        invalid,
        &["empty"],
    );
    expect_err(f.net.predict(&[]), invalid, &["empty"]);
    expect_err(f.predict_err(&[], 0), invalid, &["empty"]);
    expect_err(f.net.error(&[], &[]), invalid, &["empty"]);
}

#[test]
fn nan_and_infinity_in_inputs_and_targets() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let shown = bad.to_string(); // "NaN", "inf", "-inf"
        let mut f = fixture();
        let (mut x, mut y) = (f.x.clone(), f.y.clone());
        x[4] = bad;
        expect_err(
            f.train_err(&cfg(), &x, &f.y.clone(), None),
            non_finite,
            &["training input[4]", &shown],
        );
        expect_err(
            f.gradient_err(&x, &f.y, &Regularization::none()),
            non_finite,
            &["input[4]", &shown],
        );
        expect_err(f.net.predict(&x), non_finite, &["input[4]", &shown]);
        expect_err(f.predict_err(&x, 10), non_finite, &["input[4]", &shown]);
        expect_err(f.net.classify(&x), non_finite, &["input[4]", &shown]);
        expect_err(f.net.error(&x, &f.y), non_finite, &["input[4]", &shown]);
        y[7] = bad;
        expect_err(
            f.train_err(&cfg(), &f.x.clone(), &y, None),
            non_finite,
            &["training target[7]", &shown],
        );
        expect_err(
            f.gradient_err(&f.x, &y, &Regularization::l2(0.1)),
            non_finite,
            &["target[7]", &shown],
        );
        expect_err(f.net.error(&f.x, &y), non_finite, &["target[7]", &shown]);
    }
}

#[test]
fn nan_and_infinity_in_set_weights() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut f = fixture();
        let mut w = f.net.weights().to_vec();
        w[3] = bad;
        expect_err(
            f.net.set_weights(&w),
            non_finite,
            &["weights[3]", &bad.to_string()],
        );
        assert_eq!(bits(f.net.weights()), f.before);
        expect_err(
            Network::from_weights(&[3, 4, 2], Output::Tanh, &w),
            non_finite,
            &["weights[3]"],
        );
    }
    // a wrong length
    let mut f = fixture();
    let d = f.net.num_weights();
    for n in [0, d - 1, d + 1] {
        let w = vec![0.25f32; n];
        expect_err(
            f.net.set_weights(&w),
            shape,
            &[&format!("expected {d} weights, got {n}")],
        );
        assert_eq!(bits(f.net.weights()), f.before);
        expect_err(
            Network::from_weights(&[3, 4, 2], Output::Tanh, &w),
            shape,
            &[&d.to_string(), &n.to_string(), "3-4-2"],
        );
    }
    // a good call does change them
    let w = vec![0.25f32; d];
    f.net.set_weights(&w).unwrap();
    assert_eq!(f.net.weights(), &w[..]);
}

#[test]
fn a_negative_or_non_finite_init_range() {
    for r in [
        -0.1f32,
        -f32::MIN_POSITIVE,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let shown = r.to_string();
        expect_err(
            Network::new(&[2, 2, 1], Output::Linear, 1, r),
            invalid,
            &["init_range", &shown],
        );
        let mut f = fixture();
        expect_err(f.net.randomize(3, r), invalid, &["init_range", &shown]);
        assert_eq!(bits(f.net.weights()), f.before);
        // the restarts' range is checked before training starts
        expect_err(
            f.cfg_err(&TrainConfig {
                init_range: r,
                restarts: 1,
                ..cfg()
            }),
            invalid,
            &["init_range", &shown],
        );
    }
}

#[test]
fn a_zero_negative_or_non_finite_learning_rate() {
    let mut f = fixture();
    for eta in [
        0.0f32,
        -0.0,
        -0.01,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let msg = expect_err(
            f.cfg_err(&TrainConfig {
                learning_rate: eta,
                ..cfg()
            }),
            invalid,
            &["learning rate", &eta.to_string()],
        );
        assert!(msg.contains("> 0"), "{msg}");
    }
}

#[test]
fn batch_size_or_epochs_of_zero() {
    let mut f = fixture();
    expect_err(
        f.cfg_err(&TrainConfig {
            batch_size: 0,
            ..cfg()
        }),
        invalid,
        &["batch size", "got 0"],
    );
    expect_err(
        f.cfg_err(&TrainConfig { epochs: 0, ..cfg() }),
        invalid,
        &["epochs", "got 0"],
    );
}

#[test]
fn negative_or_non_finite_lambda() {
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    for lambda in [-0.5f32, -f32::MIN_POSITIVE, f32::NAN, f32::INFINITY] {
        for kind in [
            RegKind::None,
            RegKind::L2,
            RegKind::L1,
            RegKind::WeightElimination,
        ] {
            let reg = Regularization {
                kind,
                lambda,
                ..Default::default()
            };
            let shown = lambda.to_string();
            expect_err(reg.validate(), invalid, &["lambda", &shown]);
            expect_err(
                f.cfg_err(&TrainConfig {
                    regularization: reg,
                    ..cfg()
                }),
                invalid,
                &["lambda", &shown],
            );
            expect_err(f.gradient_err(&x, &y, &reg), invalid, &["lambda", &shown]);
        }
    }
}

#[test]
fn w0_not_positive_or_nan() {
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    for w0 in [0.0f32, -0.0, -1.0, f32::NAN, f32::INFINITY] {
        let reg = Regularization::weight_elimination(0.1, w0);
        let shown = w0.to_string();
        expect_err(reg.validate(), invalid, &["w0", &shown]);
        expect_err(
            f.cfg_err(&TrainConfig {
                regularization: reg,
                ..cfg()
            }),
            invalid,
            &["w0", &shown],
        );
        expect_err(f.gradient_err(&x, &y, &reg), invalid, &["w0", &shown]);
    }
}

#[test]
fn unknown_enum_values() {
    for v in [2u32, 3, 255, u32::MAX] {
        expect_err(Output::from_u32(v), invalid, &[&v.to_string(), "output"]);
    }
    for v in [4u32, 5, u32::MAX] {
        expect_err(
            RegKind::from_u32(v),
            invalid,
            &[&v.to_string(), "regularizer"],
        );
    }
    for v in [3u32, 4, u32::MAX] {
        expect_err(Order::from_u32(v), invalid, &[&v.to_string(), "order"]);
    }
    // and the known values round-trip
    for o in [Output::Linear, Output::Tanh] {
        assert_eq!(Output::from_u32(o.to_u32()).unwrap(), o);
    }
    for k in [
        RegKind::None,
        RegKind::L2,
        RegKind::L1,
        RegKind::WeightElimination,
    ] {
        assert_eq!(RegKind::from_u32(k.to_u32()).unwrap(), k);
    }
    for o in [Order::Shuffle, Order::Sequential, Order::RandomPick] {
        assert_eq!(Order::from_u32(o.to_u32()).unwrap(), o);
    }
    assert_eq!(
        [Output::Linear.to_u32(), Output::Tanh.to_u32()],
        [0, 1],
        "the C ABI constants"
    );
    assert_eq!(
        [
            RegKind::None,
            RegKind::L2,
            RegKind::L1,
            RegKind::WeightElimination
        ]
        .map(RegKind::to_u32),
        [0, 1, 2, 3]
    );
    assert_eq!(
        [Order::Shuffle, Order::Sequential, Order::RandomPick].map(Order::to_u32),
        [0, 1, 2]
    );
}

#[test]
fn sizes_whose_product_overflows() {
    let max = usize::MAX;
    let cases: [(&[usize], &str); 4] = [
        // d(0) + 1 overflows
        (&[max, 2], "d(0)"),
        // (d(0)+1) * d(1) overflows
        (&[2, max], &max.to_string()),
        (&[1 << 40, 1 << 40], &(1usize << 40).to_string()),
        // the sum over layers overflows
        (&[1, max / 2, 1], "overflows"),
    ];
    for (layers, needle) in cases {
        let e = Network::new(layers, Output::Linear, 1, 0.1).unwrap_err();
        assert!(matches!(e, Error::Overflow(_)), "{layers:?}: {e:?}");
        assert!(e.message().contains(needle), "{layers:?}: {e}");
        assert!(Network::from_weights(layers, Output::Linear, &[0.0]).is_err());
    }
}

#[test]
fn a_65536_65536_65536_network_is_an_error_not_an_abort() {
    // D = 2 * 65537 * 65536 = 8_590_065_664 weights, 34 GB
    let layers = [65536, 65536, 65536];
    let msg = expect_err(
        Network::new(&layers, Output::Linear, 1, 0.1),
        too_big,
        &["8590065664"],
    );
    assert!(msg.contains("65536-65536-65536"), "{msg}");
    expect_err(
        Network::from_weights(&layers, Output::Linear, &[0.0; 3]),
        too_big,
        &["8590065664"],
    );
    // 17 GB for a single layer: granted lazily by an overcommitting OS, so refused up front
    expect_err(
        Network::new(&[65536, 65536], Output::Tanh, 1, 0.1),
        too_big,
        &["4295032832"],
    );
    // the cap is documented and just above it is refused
    let cap = Network::MAX_WEIGHTS;
    assert!(cap >= 1 << 30);
    expect_err(
        Network::new(&[cap, 1], Output::Linear, 1, 0.1),
        too_big,
        &[&(cap + 1).to_string(), &cap.to_string()],
    );
}

#[test]
fn kernel_shapes_are_checked() {
    let k = Kernels::selected();
    let w = [1.0f32; 6];
    let mut y = [9.0f32; 3];
    expect_err(k.matvec(&w, 3, &[1.0; 3], &mut y), shape, &["6"]);
    expect_err(k.matvec(&w, 2, &[1.0; 2], &mut y), shape, &["6"]);
    assert_eq!(y, [9.0; 3]);
    let mut z = [9.0f32; 3];
    expect_err(k.matvec_t(&w, 3, &[1.0; 3], &mut z), shape, &["6"]);
    assert_eq!(z, [9.0; 3]);
    let mut wm = w;
    expect_err(
        k.rank1_update(&mut wm, 1.0, &[1.0; 3], &[1.0; 3]),
        shape,
        &["6"],
    );
    expect_err(
        k.matvec_t_rank1(&mut wm, &[1.0; 3], 1.0, &[1.0; 2], &mut [0.0; 1]),
        shape,
        &["matvec_t_rank1"],
    );
    assert_eq!(wm, w);
    expect_err(
        k.matvec(&w, usize::MAX, &[1.0; 2], &mut y),
        |e| matches!(e, Error::Overflow(_) | Error::ShapeMismatch(_)),
        &[],
    );
}

#[test]
fn mismatched_scaling_and_layer_index() {
    let mut f = fixture();
    let s = Scaling::from_parts(vec![0.0; 2], vec![1.0; 2], None).unwrap();
    expect_err(f.net.set_scaling(Some(s)), shape, &["2", "3"]);
    assert!(f.net.scaling().is_none());
    let s = Scaling::from_parts(
        vec![0.0; 3],
        vec![1.0; 3],
        Some((vec![0.0; 3], vec![1.0; 3])),
    )
    .unwrap();
    expect_err(f.net.set_scaling(Some(s)), shape, &["3", "2"]);
    assert!(f.net.scaling().is_none());
    expect_err(
        Scaling::from_parts(vec![0.0; 2], vec![1.0, 0.0], None),
        invalid,
        &["[1]"],
    );
    expect_err(
        Scaling::from_parts(vec![0.0, f32::NAN], vec![1.0; 2], None),
        non_finite,
        &["NaN"],
    );
    expect_err(f.net.layer_weights(0), invalid, &["0", "1..=2"]);
    expect_err(f.net.layer_weights(3), invalid, &["3", "1..=2"]);
}

#[test]
fn a_failed_call_leaves_a_trained_network_and_its_scaling_unchanged() {
    // a network that has been trained and carries a scaling: a bad call changes nothing
    let mut f = fixture();
    let (x, y) = (f.x.clone(), f.y.clone());
    let s = Scaling::fit(&x, 3, Some(&y), 2).unwrap();
    f.net.set_scaling(Some(s.clone())).unwrap();
    f.net.train(&cfg(), &x, &y, None).unwrap();
    f.before = bits(f.net.weights());
    let mut bad = y.clone();
    bad[0] = f32::NAN;
    f.train_err(&cfg(), &x, &bad, None).unwrap_err();
    f.cfg_err(&TrainConfig {
        learning_rate: -1.0,
        ..cfg()
    })
    .unwrap_err();
    assert_eq!(f.net.scaling(), Some(&s));
}
