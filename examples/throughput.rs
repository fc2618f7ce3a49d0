//! Training (or inference) throughput on synthetic data, in samples per second.
//!
//! ```sh
//! cargo run --release --example throughput -- --layers 784-256-256-10 --batch 256 --threads 1 --epochs 3
//! cargo run --release --example throughput -- --layers 784-256-256-10 --batch 256 --infer
//! cargo run --release --example throughput -- --batch 256 --threads 1 --optimizer adam
//! ```
//!
//! Options: `--layers A-B-...` (default 784-256-256-10), `--batch B` (default 256; 1 is
//! per-sample SGD), `--threads T` (default 1; 0 = all cores), `--epochs E` (default 3),
//! `--rows N` (default 10000), `--eta ETA`, `--isa scalar|avx2|avx512|neon`, `--infer`,
//! `--planned` (the GEMM blocked by the plan computed from this CPU's caches), `--optimizer
//! sgd|momentum|nesterov|adam|adamw|rprop` (default sgd, with the defaults of SPEC section 6;
//! rprop is full-batch, so `--batch` is then the number of rows).
//!
//! The data are made like the peer benchmarks': inputs uniform in [-1, 1], targets from a fixed
//! random teacher network of the same shape, linear output, rows in order (plain SGD unless
//! `--optimizer` says otherwise).
//! Training runs once for all epochs; an epoch's time is the time between two per-epoch
//! callbacks less the per-epoch evaluation of `E_in` (the fastest of 7 separate evaluations
//! on the same rows and threads, without the finite-value scan that `Network::error` adds), so
//! only the training passes count; the rate with the evaluation counted is printed on stderr.
//! Inference times `predict_into` over the rows in batches of `--batch` rows. Prints
//! `samples_per_sec=<median over epochs> isa=<isa> threads=<t> optimizer=<name>` (details on
//! stderr, among them
//! `plan: ...`, the path, batch and threads of `Network::train_plan`).

use std::ops::ControlFlow;
use std::time::Instant;

use nnet::{Isa, Kernels, Network, Optimizer, Order, Output, TrainConfig};

struct Args {
    layers: Vec<usize>,
    batch: usize,
    threads: usize,
    epochs: u32,
    rows: usize,
    eta: Option<f32>,
    isa: Option<Isa>,
    infer: bool,
    planned: bool,
    optimizer: Optimizer,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        layers: vec![784, 256, 256, 10],
        batch: 256,
        threads: 1,
        epochs: 3,
        rows: 10_000,
        eta: None,
        isa: None,
        infer: false,
        planned: false,
        optimizer: Optimizer::Sgd,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--layers" => {
                a.layers = value()?
                    .split('-')
                    .map(|s| s.parse().map_err(|e| format!("--layers: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--batch" => a.batch = num(value()?)?,
            "--threads" => a.threads = num(value()?)?,
            "--epochs" => a.epochs = num(value()?)? as u32,
            "--rows" => a.rows = num(value()?)?,
            "--eta" => a.eta = Some(value()?.parse().map_err(|e| format!("--eta: {e}"))?),
            "--isa" => {
                let v = value()?;
                a.isa = Some(Isa::from_name(&v).ok_or(format!("unknown ISA {v}"))?)
            }
            "--infer" => a.infer = true,
            "--planned" => a.planned = true,
            "--optimizer" => {
                let v = value()?;
                a.optimizer = Optimizer::from_name(&v).ok_or(format!("unknown optimizer {v}"))?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// Uniform in [-1, 1) from a 64-bit LCG.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Weights with `w_ij ~ U(-s, s) / sqrt(fan_in)` and biases `~ U(-b, b)`.
fn layered_weights(layers: &[usize], s: f32, b: f32, g: &mut Lcg) -> Vec<f32> {
    let mut w = Vec::new();
    for l in 1..layers.len() {
        let lim = s / (layers[l - 1] as f32).sqrt();
        for i in 0..=layers[l - 1] {
            for _ in 0..layers[l] {
                w.push(if i == 0 { b * g.next() } else { lim * g.next() });
            }
        }
    }
    w
}

/// CPU time of all threads of this process so far, in seconds (from /proc; 0 where missing).
fn cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        * 1e-9
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("throughput: {e}");
            std::process::exit(2);
        }
    };
    let (n_in, n_out) = (a.layers[0], *a.layers.last().unwrap());
    let mut g = Lcg(12345);
    let x: Vec<f32> = (0..a.rows * n_in).map(|_| g.next()).collect();
    // teacher: N(0, 1.5^2 / fan_in)-sized weights as uniform with the same spread
    let teacher_w = layered_weights(&a.layers, 1.5 * 3f32.sqrt(), 0.17, &mut g);
    let teacher = Network::from_weights(&a.layers, Output::Linear, &teacher_w).unwrap();
    let y = teacher.predict(&x).unwrap();
    let mut net = Network::from_weights(
        &a.layers,
        Output::Linear,
        &layered_weights(&a.layers, 1.0, 0.0, &mut g),
    )
    .unwrap();
    if let Some(isa) = a.isa {
        match Kernels::for_isa(isa) {
            Some(k) => net.set_kernels(k),
            None => {
                eprintln!("throughput: this CPU cannot run {isa}");
                std::process::exit(2);
            }
        }
    }
    if a.planned {
        let k = net.kernels();
        net.set_kernels(k.with_gemm_plan(&k.gemm_plan()).unwrap());
    }
    let threads = if a.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        a.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let isa = net.kernels().isa();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    eprintln!(
        "cpu: {cpu}; kernels {isa}; {:?}; gemm blocking (kc, mc, nc) {:?}; {:?}",
        nnet::kernels::cpu::CacheInfo::detect(),
        net.kernels().gemm_blocking(),
        net.kernels().gemm_plan()
    );
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    if a.infer {
        let mut out = vec![0.0f32; a.rows * n_out];
        pool.install(|| {
            for pass in 0..=a.epochs {
                let t = Instant::now();
                let c = cpu_seconds();
                for (xb, yb) in x
                    .chunks(a.batch * n_in)
                    .zip(out.chunks_mut(a.batch * n_out))
                {
                    net.predict_into(xb, yb).unwrap();
                }
                if pass > 0 {
                    rates.push(a.rows as f64 / t.elapsed().as_secs_f64());
                    cpu_rates.push(a.rows as f64 / (cpu_seconds() - c));
                }
            }
        });
    } else {
        let eta = a.eta.unwrap_or(match a.layers.as_slice() {
            [3, 5, 1] => 0.01,
            [64, 128, 128, 1] => 0.005,
            _ => 0.001,
        });
        let cfg = TrainConfig {
            learning_rate: eta,
            epochs: a.epochs,
            batch_size: if a.optimizer.is_full_batch() {
                a.rows
            } else {
                a.batch
            },
            order: Order::Sequential,
            optimizer: a.optimizer,
            threads,
            ..TrainConfig::default()
        };
        // the engine's choice of path, batch and threads for this run
        eprintln!("plan: {}", net.train_plan(&cfg, a.rows));
        let e0 = net.error(&x, &y).unwrap();
        let mut stamps = vec![(Instant::now(), cpu_seconds())];
        let report = net
            .train_with_callback(&cfg, &x, &y, None, |_| {
                stamps.push((Instant::now(), cpu_seconds()));
                ControlFlow::Continue(())
            })
            .unwrap();
        // the per-epoch evaluation of E_in on the training rows, timed on its own
        let mut evals = Vec::new();
        let mut cpu_evals = Vec::new();
        pool.install(|| {
            for _ in 0..7 {
                let t = Instant::now();
                let c = cpu_seconds();
                std::hint::black_box(net.error(&x, &y).unwrap());
                evals.push(t.elapsed().as_secs_f64());
                cpu_evals.push(cpu_seconds() - c);
            }
        });
        // `error` also checks that every input and target is finite, which the per-epoch
        // evaluation inside training does not: time that scan and leave it out
        let mut scans = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(x.iter().chain(&y).all(|v| v.is_finite()));
            scans.push(t.elapsed().as_secs_f64());
        }
        let scan = median(&mut scans);
        // the fastest evaluation: the least that can be taken off an epoch (other load only
        // slows a run down), so the training rate errs low
        let least = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let eval = (least(&evals) - scan).max(0.0);
        let cpu_eval = (least(&cpu_evals) - scan).max(0.0);
        let mut raw: Vec<f64> = stamps
            .windows(2)
            .map(|w| a.rows as f64 / (w[1].0 - w[0].0).as_secs_f64())
            .collect();
        eprintln!(
            "with the evaluation counted: {:.0} samples/s (median)",
            median(&mut raw)
        );
        for w in stamps.windows(2) {
            let dt = (w[1].0 - w[0].0).as_secs_f64() - eval;
            if dt > 0.0 {
                rates.push(a.rows as f64 / dt);
            }
            let dc = w[1].1 - w[0].1 - cpu_eval;
            if dc > 0.0 {
                cpu_rates.push(a.rows as f64 / dc);
            }
        }
        eprintln!(
            "E_in {e0:.5} -> {:.5} after {} epochs; evaluation {:.2} ms per epoch (subtracted)",
            report.train_error,
            report.epochs_run,
            eval * 1e3
        );
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!(
        "samples/s per epoch: {}; per CPU-second: {} (median {:.0})",
        list(&rates),
        list(&cpu_rates),
        median(&mut cpu_rates.clone())
    );
    println!(
        "samples_per_sec={:.0} isa={} threads={} optimizer={}",
        median(&mut rates),
        isa,
        threads,
        a.optimizer.name()
    );
}
