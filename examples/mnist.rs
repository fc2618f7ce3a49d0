//! A 784-128-10 tanh network on MNIST (60000 training and 10000 test images of 28x28
//! pixels) with per-sample SGD.
//!
//! ```sh
//! cargo run --release --example mnist -- /path/to/mnist [--epochs 10 --lr 0.01 --seed 1 --out DIR]
//! NNET_MNIST_DIR=/path/to/mnist cargo run --release --example mnist
//! ```
//!
//! The folder holds `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
//! `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (or the same names without
//! `.gz`). Prints the progress of every epoch, samples per second, wall time and the test
//! accuracy, and writes the learning curve to `target/mnist-learning-curve.{svg,csv}`.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::{fan_in_init, flag, out_dir, train_epochs, write_curve};
use indicatif::{ProgressBar, ProgressStyle};
use nnet::data::read_mnist;
use nnet::{Network, Output, TrainConfig};

/// The data folder: the first argument that is not a flag or a flag's value, else
/// `NNET_MNIST_DIR`.
fn data_dir() -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        if args[i].starts_with("--") {
            i += 2;
            continue;
        }
        return Some(PathBuf::from(&args[i]));
    }
    std::env::var_os("NNET_MNIST_DIR").map(PathBuf::from)
}

fn run(dir: PathBuf) -> nnet::Result<()> {
    let epochs: u32 = flag("--epochs", 10);
    let lr: f32 = flag("--lr", 0.01);
    let seed: u64 = flag("--seed", 1);
    let decay: f32 = flag("--decay", 0.8);
    let out = out_dir();
    let wall = Instant::now();

    let t = Instant::now();
    let (train_all, test) = read_mnist(&dir)?;
    // hold out 5000 training images for E_val and early stopping
    let (train, val) = train_all.split(55_000.0 / 60_000.0, seed)?;
    drop(train_all);
    println!(
        "mnist from {}: {} training, {} validation, {} test images of {} pixels (scaled to [0, 1]); loaded in {:.2} s",
        dir.display(),
        train.rows(),
        val.rows(),
        test.rows(),
        train.num_inputs(),
        t.elapsed().as_secs_f64()
    );

    let mut net = Network::new(&[784, 128, 10], Output::Tanh, seed, 0.05)?;
    // every layer uniform in +-1/sqrt(fan-in)
    fan_in_init(&mut net, seed, 1.0)?;
    println!(
        "network 784-128-10 (tanh), {} weights, kernels: {}",
        net.num_weights(),
        net.kernels().isa().name()
    );
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs,
        patience: 3,
        seed,
        ..TrainConfig::default()
    };

    let bar = ProgressBar::new(epochs as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} epoch {pos}/{len} [{bar:30}] {elapsed_precise} (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let train_start = Instant::now();
    let mut epoch_start = Instant::now();
    let mut rate_sum = 0.0;
    let report = train_epochs(&mut net, &cfg, decay, &train, &val, |net, e| {
        let secs = epoch_start.elapsed().as_secs_f64();
        let rate = train.rows() as f64 / secs;
        rate_sum += rate;
        let acc = val.accuracy(net).unwrap_or(f64::NAN);
        bar.suspend(|| {
            println!(
                "epoch {:3}  E_in {:.5}  E_val {:.5}  val. accuracy {:.4}  {:.1} s ({:.0} samples/s, evaluation included)",
                e.epoch, e.train_error, e.validation_error, acc, secs, rate
            )
        });
        bar.set_message(format!("val. accuracy {acc:.4}"));
        bar.inc(1);
        epoch_start = Instant::now();
    })?;
    bar.finish_and_clear();
    let train_secs = train_start.elapsed().as_secs_f64();
    let t = Instant::now();
    let acc = test.accuracy(&net)?;
    let predict_secs = t.elapsed().as_secs_f64();
    println!(
        "kept epoch {} of {} (E_val {:.5})",
        report.best_epoch, report.epochs_run, report.validation_error
    );
    println!(
        "training: {train_secs:.1} s for {} epochs, {:.0} samples/s per epoch on average (per-epoch E_in, E_val and accuracy included)",
        report.epochs_run,
        rate_sum / report.epochs_run as f64
    );
    println!(
        "test accuracy: {acc:.4} ({} images predicted in {predict_secs:.2} s, {:.0} samples/s)",
        test.rows(),
        test.rows() as f64 / predict_secs
    );
    write_curve(
        &report,
        &out,
        "mnist-learning-curve",
        "MNIST 784-128-10: learning curve",
    )?;
    println!("wall time: {:.1} s", wall.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let Some(dir) = data_dir() else {
        eprintln!(
            "error: no MNIST folder: give it as the first argument or in NNET_MNIST_DIR \
             (a folder with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, \
             t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz)"
        );
        return ExitCode::from(2);
    };
    if !dir.is_dir() {
        eprintln!(
            "error: the MNIST folder {} does not exist (give the folder holding the four *-ubyte.gz files)",
            dir.display()
        );
        return ExitCode::from(2);
    }
    match run(dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
