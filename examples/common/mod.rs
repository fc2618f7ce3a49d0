//! Helpers shared by the examples: epoch-at-a-time training with a per-epoch look at the
//! network, command-line flags, and where learning curves go.

#![allow(dead_code)]

use std::path::PathBuf;

use nnet::{Dataset, EpochInfo, Network, TrainConfig, TrainReport};

/// Trains `net` on `train` one epoch at a time, for at most `cfg.epochs` epochs, calling
/// `each(net, info)` after every epoch (to measure accuracy or move a progress bar). Keeps the
/// weights with the lowest validation error and stops after `cfg.patience` epochs without
/// improvement (0: run every epoch), like `Network::train` with a validation set. The learning
/// rate of epoch `t` (1-based) is `cfg.learning_rate * decay^(t-1)`.
pub fn train_epochs(
    net: &mut Network,
    cfg: &TrainConfig,
    decay: f32,
    train: &Dataset,
    val: &Dataset,
    mut each: impl FnMut(&Network, &EpochInfo),
) -> nnet::Result<TrainReport> {
    let mut history = Vec::new();
    let mut best: Option<(EpochInfo, Vec<f32>)> = None;
    let mut since_best = 0;
    for epoch in 1..=cfg.epochs {
        let one = TrainConfig {
            epochs: 1,
            learning_rate: cfg.learning_rate * decay.powi(epoch as i32 - 1),
            patience: 0,
            restarts: 0,
            // a new sample order every epoch
            seed: cfg.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64),
            ..cfg.clone()
        };
        let r = net.train(&one, train.inputs(), train.targets(), Some(val.as_pair()))?;
        let info = EpochInfo {
            epoch,
            ..r.history[0]
        };
        history.push(info);
        each(net, &info);
        if best
            .as_ref()
            .is_none_or(|(b, _)| info.validation_error < b.validation_error)
        {
            best = Some((info, net.weights().to_vec()));
            since_best = 0;
        } else {
            since_best += 1;
            if cfg.patience > 0 && since_best >= cfg.patience {
                break;
            }
        }
    }
    let (b, w) = best.expect("at least one epoch");
    net.set_weights(&w)?;
    Ok(TrainReport {
        epochs_run: history.len() as u32,
        best_epoch: b.epoch,
        train_error: b.train_error,
        validation_error: b.validation_error,
        history,
        run: 0,
        stopped_by_callback: false,
    })
}

/// The value after `--name` on the command line, parsed, or `default`.
pub fn flag<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => match args.get(i + 1).map(|v| v.parse::<T>()) {
            Some(Ok(v)) => v,
            _ => {
                eprintln!("error: {name} needs a value");
                std::process::exit(2);
            }
        },
        None => default,
    }
}

/// The folder for learning curves: `--out DIR`, else the crate's `target/`.
pub fn out_dir() -> PathBuf {
    let dir = PathBuf::from(flag(
        "--out",
        concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_string(),
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    dir
}

/// Writes `report`'s learning curve as `dir/name.svg` and `dir/name.csv`, and says where.
pub fn write_curve(
    report: &TrainReport,
    dir: &std::path::Path,
    name: &str,
    title: &str,
) -> nnet::Result<()> {
    let svg = dir.join(format!("{name}.svg"));
    let csv = dir.join(format!("{name}.csv"));
    nnet::atomic_file::write_bytes_atomic(&svg, report.to_svg_titled(title).as_bytes())?;
    report.write_csv(&csv)?;
    println!("learning curve: {} and {}", svg.display(), csv.display());
    Ok(())
}

/// A path inside the crate's `data/` folder.
pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data")).join(rel)
}

/// Re-draws the weights of every layer uniform in `[-scale/sqrt(d(l-1)+1), scale/sqrt(d(l-1)+1)]`
/// (small enough that no unit starts saturated, whatever the fan-in).
pub fn fan_in_init(net: &mut Network, seed: u64, scale: f32) -> nnet::Result<()> {
    net.randomize(seed, scale)?;
    let mut w = net.weights().to_vec();
    let mut start = 0;
    for l in 1..net.layers().len() {
        let fan_in = net.layers()[l - 1] + 1;
        let n = fan_in * net.layers()[l];
        for v in &mut w[start..start + n] {
            *v /= (fan_in as f32).sqrt();
        }
        start += n;
    }
    net.set_weights(&w)
}

/// The optimizer `--optimizer NAME` names (sgd, momentum, nesterov, adam, adamw, rprop; the
/// defaults of SPEC section 6, with `--mu M` for momentum and Nesterov), or `default`.
pub fn optimizer_flag(default: &str) -> nnet::Optimizer {
    use nnet::Optimizer;
    let name: String = flag("--optimizer", default.to_string());
    let mu: f32 = flag("--mu", 0.9);
    match name.as_str() {
        "sgd" => Optimizer::Sgd,
        "momentum" => Optimizer::Momentum { mu },
        "nesterov" => Optimizer::Nesterov { mu },
        "adam" => Optimizer::adam(),
        "adamw" => Optimizer::adamw(),
        "rprop" => Optimizer::rprop(),
        n => {
            eprintln!("error: unknown optimizer {n} (sgd, momentum, nesterov, adam, adamw, rprop)");
            std::process::exit(2);
        }
    }
}

/// FANN's published test MSEs (`fann-benchmark-results/BENCHMARKS.md`, best of 300 s, mean
/// of 4 runs; lwneuralnet's row from the same tables): name, building, two-spiral.
pub const FANN_TABLE: [(&str, f64, f64); 5] = [
    ("FANN incremental backprop + momentum", 0.005772, 0.2025),
    ("FANN iRPROP-", 0.006306, 0.2036),
    ("FANN batch backprop", 0.006799, 0.2458),
    ("FANN Cascade2", 0.0064, 0.1436),
    ("lwneuralnet", 0.00578, 0.1603),
];

/// Prints `ours` (a test MSE in the file's target units) beside FANN's rows of the table's
/// column `column` (0: building, 1: two-spiral).
pub fn print_beside_fann(label: &str, ours: f64, column: usize) {
    println!("test MSE (mean over rows x outputs, the file's target units):");
    println!("  {label:<38} {ours:.6}");
    for (name, building, spiral) in FANN_TABLE {
        let v = if column == 0 { building } else { spiral };
        println!("  {name:<38} {v}");
    }
}
