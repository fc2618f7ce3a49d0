//! Regression on FANN's `building` set (`data/fann-building`): 14 inputs (date, time and
//! weather), 3 outputs (a building's electricity, hot-water and cold-water use), 2104
//! training and 2104 test rows. A 14-16-3 network with a linear output, inputs and targets
//! standardized, per-sample SGD (by default) with early stopping on a validation split of the
//! training file (15%): the validation error chooses the epoch and, with `--restarts`, the
//! run; the test file is used once, at the end.
//!
//! ```sh
//! cargo run --release --example regression [-- --epochs 1000 --lr 0.002 --hidden 16 --seed 1 \
//!     --optimizer sgd --mu 0.9 --batch 1 --patience 100 --restarts 0 --out DIR]
//! ```
//!
//! `--optimizer` is one of sgd, momentum, nesterov, adam, adamw, rprop (SPEC section 6, with
//! their defaults; `--mu` for momentum and Nesterov); rprop always takes the full batch.
//! Prints the test MSE in the targets' own units (computed with `predict`, which undoes the
//! standardization) beside FANN's published table. Both use FANN's definition of MSE: the
//! mean of the squared error over every output of every test row,
//! `(1/(N * 3)) sum_n sum_k (y_nk - out_k)^2` (FANN's `fann_get_MSE`; its halving of the error
//! applies only to symmetric output activations, and the published run used logistic ones).
//! Writes the learning curve to `target/regression-learning-curve.{svg,csv}`.

mod common;

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Instant;

use common::{
    data_path, fan_in_init, flag, optimizer_flag, out_dir, print_beside_fann, write_curve,
};
use indicatif::{ProgressBar, ProgressStyle};
use nnet::data::read_fann;
use nnet::{Network, Output, TrainConfig};

fn run() -> nnet::Result<()> {
    let epochs: u32 = flag("--epochs", 1000);
    let lr: f32 = flag("--lr", 0.002);
    let hidden: usize = flag("--hidden", 16);
    let seed: u64 = flag("--seed", 1);
    let optimizer = optimizer_flag("sgd");
    let batch: usize = flag("--batch", 1);
    let patience: u32 = flag("--patience", 100);
    let restarts: u32 = flag("--restarts", 0);
    let out = out_dir();

    let train_all = read_fann(data_path("fann-building/building.train"))?;
    let test = read_fann(data_path("fann-building/building.test"))?;
    let (train, val) = train_all.split(0.85, seed)?;
    println!(
        "building: {} training, {} validation, {} test rows; {} inputs, {} outputs",
        train.rows(),
        val.rows(),
        test.rows(),
        train.num_inputs(),
        train.num_outputs()
    );

    let mut net = Network::new(&[14, hidden, 3], Output::Linear, seed, 0.1)?;
    fan_in_init(&mut net, seed, 1.0)?;
    // standardize inputs and targets with the training rows' statistics; training works in
    // standardized units, predict maps back to the targets' own
    net.set_scaling(Some(train.fit_scaling(true)?))?;
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs,
        batch_size: if optimizer.is_full_batch() {
            train.rows()
        } else {
            batch
        },
        optimizer,
        patience,
        restarts,
        init_range: 1.0 / 15f32.sqrt(),
        seed,
        ..TrainConfig::default()
    };
    println!(
        "network 14-{hidden}-3 (linear output), {} at batch {}; plan: {}",
        optimizer.name(),
        cfg.batch_size,
        net.train_plan(&cfg, train.rows())
    );

    let bar = ProgressBar::new(epochs as u64 * (restarts as u64 + 1));
    bar.set_style(
        ProgressStyle::with_template("epoch {pos}/{len} [{bar:30}] {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let start = Instant::now();
    let report = net.train_with_callback(
        &cfg,
        train.inputs(),
        train.targets(),
        Some(val.as_pair()),
        |e| {
            bar.inc(1);
            bar.set_message(format!(
                "E_in {:.4}  E_val {:.4} (standardized units)",
                e.train_error, e.validation_error
            ));
            if e.epoch % 50 == 0 {
                bar.suspend(|| {
                    println!(
                        "epoch {:4}  E_in {:.5}  E_val {:.5}  (standardized units)",
                        e.epoch, e.train_error, e.validation_error
                    )
                });
            }
            ControlFlow::Continue(())
        },
    )?;
    bar.finish_and_clear();
    println!(
        "kept run {} epoch {} of {} in {:.2} s",
        report.run,
        report.best_epoch,
        report.epochs_run,
        start.elapsed().as_secs_f64()
    );
    let train_mse = train_all.mse(&net)?;
    let test_mse = test.mse(&net)?;
    println!(
        "training file MSE (mean over rows x outputs, the targets' own units): {train_mse:.6}"
    );
    print_beside_fann(
        &format!("nnet 14-{hidden}-3 {}", optimizer.name()),
        test_mse,
        0,
    );
    write_curve(
        &report,
        &out,
        "regression-learning-curve",
        "building 14-16-3: learning curve (standardized units)",
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
