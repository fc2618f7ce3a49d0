//! Two interlocked spirals (`data/fann-two-spiral`, the CMU benchmark as FANN ships it): 2
//! inputs in [0, 1], 1 output (0 or 1), 193 training and 193 test rows (the test file is a
//! second sampling of the same spirals). The 2-20-10-1 network of FANN's benchmark, with tanh
//! units and a tanh output, trained full-batch with iRPROP- and a small L2 penalty, 24 runs
//! from different initializations.
//!
//! ```sh
//! cargo run --release --example two_spiral [-- --optimizer rprop --epochs 3000 --restarts 23 \
//!     --patience 0 --l2 1e-4 --input-scale 2 --init 0.5 --val 0.15 --batch 0 --lr 0.01 \
//!     --cosine 0 --seed 1 --verbose --out DIR]
//! ```
//!
//! Inputs are mapped to `(x - 0.5) * input_scale` (2: [-1, 1]) and the 0/1 targets to -1/+1,
//! both through the network's scaling, so `predict` answers in the file's units. A validation
//! split of the training file (`--val`, 15%, drawn with `--seed`) chooses the epoch of every
//! run and the run among the `--restarts` extra ones; the test file is used once, at the end.
//! Held-out points of a spiral are hard (its points lie farther apart along an arm than the
//! arms lie from each other): most runs fit the training rows without learning the spiral and
//! keep an early, nearly constant epoch, and the validation error picks the few runs that
//! learned it. `--batch 0` is the full batch; `--lr` and `--cosine 1` (a cosine schedule)
//! serve the other optimizers.
//! Prints the test MSE (mean over rows of `(target - output)^2`, FANN's `fann_get_MSE` in the
//! file's 0/1 units) beside FANN's table, and writes the learning curve (of the chosen run,
//! in the scaled units) to `target/two-spiral-learning-curve.{svg,csv}`.

mod common;

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Instant;

use common::{data_path, flag, optimizer_flag, out_dir, print_beside_fann, write_curve};
use nnet::data::read_fann;
use nnet::{Network, Output, Regularization, Scaling, Schedule, TrainConfig};

fn run() -> nnet::Result<()> {
    let optimizer = optimizer_flag("rprop");
    let epochs: u32 = flag("--epochs", 3000);
    let lr: f32 = flag("--lr", 0.01);
    let restarts: u32 = flag("--restarts", 23);
    let patience: u32 = flag("--patience", 0);
    let input_scale: f32 = flag("--input-scale", 2.0);
    let init: f32 = flag("--init", 0.5);
    let val_fraction: f64 = flag("--val", 0.15);
    let batch: usize = flag("--batch", 0);
    let cosine: bool = flag("--cosine", 0u8) != 0;
    let l2: f32 = flag("--l2", 1e-4);
    let seed: u64 = flag("--seed", 1);
    let verbose = std::env::args().any(|a| a == "--verbose");
    let out = out_dir();

    let train_all = read_fann(data_path("fann-two-spiral/two-spiral.train"))?;
    let test = read_fann(data_path("fann-two-spiral/two-spiral.test"))?;
    let (train, val) = train_all.split(1.0 - val_fraction, seed)?;
    println!(
        "two-spiral: {} training, {} validation, {} test rows",
        train.rows(),
        val.rows(),
        test.rows()
    );
    let layers = [2, 20, 10, 1];
    let mut net = Network::new(&layers, Output::Tanh, seed, init)?;
    net.set_scaling(Some(Scaling::from_parts(
        vec![0.5; 2],
        vec![1.0 / input_scale; 2],
        Some((vec![0.5], vec![0.5])),
    )?))?;
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs,
        // 0: the full batch (iRPROP- needs it)
        batch_size: if batch == 0 { train.rows() } else { batch },
        optimizer,
        schedule: if cosine {
            Schedule::Cosine { eta_min: 0.0 }
        } else {
            Schedule::Constant
        },
        regularization: if l2 > 0.0 {
            Regularization::l2(l2)
        } else {
            Regularization::none()
        },
        patience,
        restarts,
        init_range: init,
        seed,
        ..TrainConfig::default()
    };
    println!(
        "network 2-20-10-1 (tanh), {} weights; {} at batch {}, {} epochs, {} restarts; plan: {}",
        net.num_weights(),
        optimizer.name(),
        cfg.batch_size,
        epochs,
        restarts,
        net.train_plan(&cfg, train.rows())
    );
    let start = Instant::now();
    let report = net.train_with_callback(
        &cfg,
        train.inputs(),
        train.targets(),
        Some(val.as_pair()),
        |e| {
            if e.epoch == epochs && verbose {
                println!(
                    "run done: E_in {:.5}  E_val {:.5} (scaled units) at epoch {}",
                    e.train_error, e.validation_error, e.epoch
                );
            }
            ControlFlow::Continue(())
        },
    )?;
    println!(
        "kept run {} epoch {} (validation MSE {:.5} in 0/1 units) in {:.2} s",
        report.run,
        report.best_epoch,
        val.mse(&net)?,
        start.elapsed().as_secs_f64()
    );
    let test_mse = test.mse(&net)?;
    println!(
        "training file MSE {:.6}, accuracy {:.4}; test accuracy {:.4}",
        train_all.mse(&net)?,
        accuracy01(&net, &train_all)?,
        accuracy01(&net, &test)?
    );
    print_beside_fann(&format!("nnet 2-20-10-1 {}", optimizer.name()), test_mse, 1);
    write_curve(
        &report,
        &out,
        "two-spiral-learning-curve",
        "two-spiral 2-20-10-1: learning curve of the kept run (scaled units)",
    )?;
    Ok(())
}

/// The share of rows whose output is on the target's side of 0.5.
fn accuracy01(net: &Network, data: &nnet::Dataset) -> nnet::Result<f64> {
    let out = net.predict(data.inputs())?;
    let hits = out
        .iter()
        .zip(data.targets())
        .filter(|(o, t)| (**o > 0.5) == (**t > 0.5))
        .count();
    Ok(hits as f64 / data.rows() as f64)
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
