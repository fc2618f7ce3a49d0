//! The README's main job: a 64-32-10 tanh network learns the 8x8 handwritten digits of
//! `data/sklearn-digits` (1347 training and 450 test images) with per-sample SGD.
//!
//! ```sh
//! cargo run --release --example digits [-- --epochs 60 --lr 0.01 --seed 1 --out DIR]
//! ```
//!
//! Prints E_in, E_val and the validation accuracy after every epoch, then the test accuracy,
//! and writes the learning curve to `target/digits-learning-curve.{svg,csv}` (or `--out DIR`).

mod common;

use std::process::ExitCode;
use std::time::Instant;

use common::{data_path, flag, out_dir, train_epochs, write_curve};
use nnet::data::{CsvOptions, read_csv};
use nnet::{Network, Output, TrainConfig};

fn run() -> nnet::Result<()> {
    let epochs: u32 = flag("--epochs", 60);
    let lr: f32 = flag("--lr", 0.01);
    let seed: u64 = flag("--seed", 1);
    let out = out_dir();

    // class ids 0..9 in the `target` column become ten +-1 outputs
    let opts = CsvOptions::one_hot("target").num_classes(10);
    let train_all = read_csv(data_path("sklearn-digits/digits.train.csv"), &opts)?;
    let test = read_csv(data_path("sklearn-digits/digits.test.csv"), &opts)?;
    // hold out 15% of the training set for E_val and early stopping
    let (train, val) = train_all.split(0.85, seed)?;
    println!(
        "digits: {} training, {} validation, {} test rows of {} pixels (0..16), {} classes",
        train.rows(),
        val.rows(),
        test.rows(),
        train.num_inputs(),
        train.num_classes().unwrap_or(0)
    );

    let mut net = Network::new(&[64, 32, 10], Output::Tanh, seed, 0.2)?;
    // standardize every pixel with the training rows' mean and deviation; predict applies it
    net.set_scaling(Some(train.fit_scaling(false)?))?;
    println!(
        "network 64-32-10 (tanh), {} weights, kernels: {}",
        net.num_weights(),
        net.kernels().isa().name()
    );
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs,
        patience: 15,
        seed,
        ..TrainConfig::default()
    };

    let start = Instant::now();
    println!("epoch      E_in     E_val  val. accuracy");
    let report = train_epochs(&mut net, &cfg, 1.0, &train, &val, |net, e| {
        let acc = val.accuracy(net).unwrap_or(f64::NAN);
        println!(
            "{:5}  {:8.5}  {:8.5}  {:12.4}",
            e.epoch, e.train_error, e.validation_error, acc
        );
    })?;
    let secs = start.elapsed().as_secs_f64();
    let acc = test.accuracy(&net)?;
    println!(
        "kept epoch {} of {} (E_val {:.5}); trained in {secs:.2} s",
        report.best_epoch, report.epochs_run, report.validation_error
    );
    println!(
        "test accuracy: {acc:.4} ({} of {} images)",
        (acc * test.rows() as f64).round(),
        test.rows()
    );
    write_curve(
        &report,
        &out,
        "digits-learning-curve",
        "digits 64-32-10: learning curve",
    )?;
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
