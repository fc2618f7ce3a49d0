//! Trains two networks and exports them as ONNX models, with the inputs and `predict`'s
//! outputs beside them for an independent runtime to compare (`tools/check_onnx.py`):
//! - `digits`: 64-32-10 tanh classifier on `data/sklearn-digits`, inputs standardized;
//! - `building`: 14-16-3 linear regression on `data/fann-building`, inputs and targets
//!   standardized.
//!
//! ```sh
//! cargo run --release --example onnx_export [-- --epochs 30 --out DIR]
//! python3 tools/check_onnx.py DIR
//! ```
//!
//! Writes `DIR/NAME.onnx`, `DIR/NAME.x.f32` (the test inputs) and `DIR/NAME.y.f32` (the
//! network's predictions), the last two as little-endian float32, row-major. Reads every
//! model back with `Network::from_onnx` and checks that the weights are unchanged.

mod common;

use std::path::Path;
use std::process::ExitCode;

use common::{data_path, fan_in_init, flag, out_dir};
use nnet::data::{CsvOptions, read_csv, read_fann};
use nnet::{Dataset, Network, Output, TrainConfig};

fn write_f32(path: &Path, values: &[f32]) -> nnet::Result<()> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes)
        .map_err(|e| nnet::Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// Exports `net`, the inputs of `test` and the predictions for them under `dir/name.*`.
fn export(net: &Network, test: &Dataset, dir: &Path, name: &str) -> nnet::Result<()> {
    let model = dir.join(format!("{name}.onnx"));
    net.save_onnx(&model)?;
    let back = Network::load_onnx(&model)?;
    if back.weights() != net.weights() || back.scaling() != net.scaling() {
        return Err(nnet::Error::Format(format!(
            "{} does not read back as the network that wrote it",
            model.display()
        )));
    }
    write_f32(&dir.join(format!("{name}.x.f32")), test.inputs())?;
    write_f32(
        &dir.join(format!("{name}.y.f32")),
        &net.predict(test.inputs())?,
    )?;
    println!(
        "{name}: {} network, {} test rows -> {}",
        net.layers()
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        test.rows(),
        model.display()
    );
    Ok(())
}

fn run() -> nnet::Result<()> {
    let epochs: u32 = flag("--epochs", 30);
    let dir = out_dir();

    let opts = CsvOptions::one_hot("target").num_classes(10);
    let train = read_csv(data_path("sklearn-digits/digits.train.csv"), &opts)?;
    let test = read_csv(data_path("sklearn-digits/digits.test.csv"), &opts)?;
    let mut digits = Network::new(&[64, 32, 10], Output::Tanh, 1, 0.2)?;
    digits.set_scaling(Some(train.fit_scaling(false)?))?;
    let cfg = TrainConfig {
        learning_rate: 0.01,
        epochs,
        ..TrainConfig::default()
    };
    digits.train(&cfg, train.inputs(), train.targets(), None)?;
    println!("digits: test accuracy {:.4}", test.accuracy(&digits)?);
    export(&digits, &test, &dir, "digits")?;

    let train = read_fann(data_path("fann-building/building.train"))?;
    let test = read_fann(data_path("fann-building/building.test"))?;
    let mut building = Network::new(&[14, 16, 3], Output::Linear, 1, 0.1)?;
    fan_in_init(&mut building, 1, 1.0)?;
    building.set_scaling(Some(train.fit_scaling(true)?))?;
    let cfg = TrainConfig {
        learning_rate: 0.002,
        epochs,
        ..TrainConfig::default()
    };
    building.train(&cfg, train.inputs(), train.targets(), None)?;
    println!("building: test MSE {:.6}", test.mse(&building)?);
    export(&building, &test, &dir, "building")?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
