//! Standardization survives saving: a network trained with input and target scaling on the
//! building regression data, saved with `Network::save` and `Network::to_bytes` and loaded
//! back, holds an equal `Scaling` and the same weights and predicts bitwise the same values.

use std::path::{Path, PathBuf};

use nnet::data::{Dataset, read_fann};
use nnet::{Network, Output, TrainConfig};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// The mean squared error per sample (summed over outputs) of predicting the training mean.
fn mean_baseline(train: &Dataset, test: &Dataset) -> f64 {
    let k = train.num_outputs();
    let mut total = 0.0;
    for j in 0..k {
        let m = train
            .targets()
            .iter()
            .skip(j)
            .step_by(k)
            .map(|&v| v as f64)
            .sum::<f64>()
            / train.rows() as f64;
        total += test
            .targets()
            .iter()
            .skip(j)
            .step_by(k)
            .map(|&v| (v as f64 - m).powi(2))
            .sum::<f64>();
    }
    total / test.rows() as f64
}

/// Same bit patterns, element by element (so -0.0 != 0.0 and NaN == NaN of the same payload).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A 14-16-3 network trained on building.train with input and target standardization, and the
/// test set.
fn trained() -> (Network, Dataset, Dataset) {
    let all = read_fann(data("fann-building/building.train")).unwrap();
    let test = read_fann(data("fann-building/building.test")).unwrap();
    let (train, val) = all.split(0.75, 11).unwrap();
    let scaling = train.fit_scaling(true).unwrap();
    assert!(scaling.target_mean().is_some(), "targets are standardized");
    let mut net = Network::new(&[14, 16, 3], Output::Linear, 42, 0.2).unwrap();
    net.set_scaling(Some(scaling)).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.01,
        epochs: 15,
        seed: 7,
        ..TrainConfig::default()
    };
    net.train(&cfg, train.inputs(), train.targets(), Some(val.as_pair()))
        .unwrap();
    // the network learned something in raw units: well below predicting the mean
    let mse = test.error(&net).unwrap();
    let baseline = mean_baseline(&train, &test);
    assert!(
        mse.is_finite() && mse < 0.5 * baseline,
        "{mse} vs {baseline}"
    );
    (net, train, test)
}

#[test]
fn save_and_to_bytes_keep_the_scaling_and_the_predictions() {
    let (net, train, test) = trained();
    let want = net.predict(test.inputs()).unwrap();
    let on_train = net.predict(train.inputs()).unwrap();

    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scaling-roundtrip-{}.nnet", std::process::id()));
    net.save(&path).unwrap();
    let from_file = Network::load(&path).unwrap();
    let file_bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let bytes = net.to_bytes().unwrap();
    assert_eq!(bytes, file_bytes, "save writes the bytes of to_bytes");
    let from_bytes = Network::from_bytes(&bytes).unwrap();

    for (how, back) in [("load", &from_file), ("from_bytes", &from_bytes)] {
        assert_eq!(back.layers(), net.layers(), "{how}");
        assert_eq!(back.output(), net.output(), "{how}");
        assert_eq!(bits(back.weights()), bits(net.weights()), "{how}");
        let s = back.scaling().expect("the scaling is saved");
        assert_eq!(Some(s), net.scaling(), "{how}");
        let (a, b) = (s, net.scaling().unwrap());
        assert_eq!(bits(a.input_mean()), bits(b.input_mean()), "{how}");
        assert_eq!(bits(a.input_std()), bits(b.input_std()), "{how}");
        assert_eq!(
            bits(a.target_mean().unwrap()),
            bits(b.target_mean().unwrap()),
            "{how}"
        );
        assert_eq!(
            bits(a.target_std().unwrap()),
            bits(b.target_std().unwrap()),
            "{how}"
        );
        assert_eq!(
            bits(&back.predict(test.inputs()).unwrap()),
            bits(&want),
            "{how}: test predictions"
        );
        assert_eq!(
            bits(&back.predict(train.inputs()).unwrap()),
            bits(&on_train),
            "{how}: training predictions"
        );
        // the same error in raw units, computed from the reloaded network
        assert_eq!(
            test.error(back).unwrap().to_bits(),
            test.error(&net).unwrap().to_bits(),
            "{how}"
        );
        // saving the reloaded network gives the same bytes again
        assert_eq!(back.to_bytes().unwrap(), bytes, "{how}");
    }

    // the scaling matters: the same weights without it predict something else
    let mut bare = Network::from_bytes(&bytes).unwrap();
    bare.set_scaling(None).unwrap();
    assert_ne!(bits(&bare.predict(test.inputs()).unwrap()), bits(&want));
}

#[test]
fn input_only_scaling_round_trips_too() {
    let ds = read_fann(data("fann-building/building.test")).unwrap();
    let mut net = Network::new(&[14, 5, 3], Output::Tanh, 3, 0.4).unwrap();
    net.set_scaling(Some(ds.fit_scaling(false).unwrap()))
        .unwrap();
    assert!(net.scaling().unwrap().target_mean().is_none());
    let back = Network::from_bytes(&net.to_bytes().unwrap()).unwrap();
    assert_eq!(back.scaling(), net.scaling());
    assert!(back.scaling().unwrap().target_mean().is_none());
    assert_eq!(
        bits(&back.predict(ds.inputs()).unwrap()),
        bits(&net.predict(ds.inputs()).unwrap())
    );
}
