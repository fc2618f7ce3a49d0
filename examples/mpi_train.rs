//! Data-parallel training on MPI ranks: a synthetic MNIST-sized data set (784 inputs, 10
//! classes), each rank generating only the rows of its shard.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_train
//! mpirun -np 2 target/release/examples/mpi_train [--rows 12000] [--val 2000] [--epochs 5]
//!        [--batch 256] [--lr 0.05] [--hidden 256,256] [--save model.nnet] [--csv curve.csv]
//! ```
//!
//! `--batch` is the batch of each rank (the global batch is ranks x batch). Rank 0 prints the
//! per-epoch `E_in` and `E_val`, the epoch time, the time in the gradient allreduce and in the
//! wait for the slowest rank before it (a barrier, to tell the two apart), and at
//! the end the share of the step time spent in communication; it alone writes `--save` (the
//! checkpoint of the kept epoch) and `--csv`.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use mpi::traits::CommunicatorCollectives;
use nnet::distributed::{self, Collective, DistributedConfig, LocalData, Mpi, Shard, mpi};
use nnet::{Network, Order, Output, TrainConfig};

const INPUTS: usize = 784;
const CLASSES: usize = 10;

/// MPI ranks that measure the time of the gradient sums, split into the wait for the slowest
/// rank (a barrier first) and the allreduce itself.
struct Timed {
    inner: Mpi,
    wait: Cell<f64>,
    allreduce: Cell<f64>,
}

impl Collective for Timed {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn allreduce_sum(&self, buf: &mut [f32]) {
        let t = Instant::now();
        self.inner.communicator().barrier();
        self.wait.set(self.wait.get() + t.elapsed().as_secs_f64());
        let t = Instant::now();
        self.inner.allreduce_sum(buf);
        self.allreduce
            .set(self.allreduce.get() + t.elapsed().as_secs_f64());
    }
    fn allreduce_sum_f64(&self, buf: &mut [f64]) {
        self.inner.allreduce_sum_f64(buf)
    }
    fn allreduce_max(&self, buf: &mut [u64]) {
        self.inner.allreduce_max(buf)
    }
    fn broadcast(&self, root: usize, buf: &mut [u8]) {
        self.inner.broadcast(root, buf)
    }
}

/// splitmix64 of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(h: u64) -> f32 {
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// Rows `rows` of the synthetic set `set`: class prototypes (a random "image" per class) plus
/// noise, inputs in [-1, 1], targets +-1 one-hot. Row `i` depends only on `(set, i)`.
fn synthetic(set: u64, rows: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(rows.len() * INPUTS);
    let mut y = Vec::with_capacity(rows.len() * CLASSES);
    for i in rows {
        let h = mix(set << 32 ^ i as u64);
        let class = (h % CLASSES as u64) as usize;
        for j in 0..INPUTS {
            let proto = unit(mix(0xC1A5 ^ (class * INPUTS + j) as u64));
            let noise = unit(mix(h ^ j as u64)) - 0.5;
            x.push((proto + 0.8 * noise).clamp(0.0, 1.0) * 2.0 - 1.0);
        }
        y.extend((0..CLASSES).map(|k| if k == class { 1.0 } else { -1.0 }));
    }
    (x, y)
}

struct Args {
    rows: usize,
    val: usize,
    epochs: u32,
    batch: usize,
    lr: f32,
    hidden: Vec<usize>,
    save: Option<PathBuf>,
    csv: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        rows: 12_000,
        val: 2_000,
        epochs: 5,
        batch: 256,
        lr: 0.05,
        hidden: vec![256, 256],
        save: None,
        csv: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {v}: {e}");
        match flag.as_str() {
            "--rows" => a.rows = v.parse().map_err(|e| bad(&e))?,
            "--val" => a.val = v.parse().map_err(|e| bad(&e))?,
            "--epochs" => a.epochs = v.parse().map_err(|e| bad(&e))?,
            "--batch" => a.batch = v.parse().map_err(|e| bad(&e))?,
            "--lr" => a.lr = v.parse().map_err(|e| bad(&e))?,
            "--hidden" => {
                a.hidden = v
                    .split(',')
                    .map(|s| s.parse().map_err(|e| bad(&e)))
                    .collect::<Result<_, _>>()?
            }
            "--save" => a.save = Some(v.into()),
            "--csv" => a.csv = Some(v.into()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn main() {
    let universe = mpi::initialize().expect("MPI initializes once");
    let c = Timed {
        inner: Mpi::new(universe.world()),
        wait: Cell::new(0.0),
        allreduce: Cell::new(0.0),
    };
    let rank0 = c.rank() == 0;
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if rank0 {
                eprintln!("mpi_train: {e}");
            }
            std::process::exit(2);
        }
    };
    let shard = Shard::of(&c, args.rows).expect("rank below size");
    let vshard = Shard::of(&c, args.val).expect("rank below size");
    let (x, y) = synthetic(1, shard.rows());
    let (vx, vy) = synthetic(2, vshard.rows());
    let mut layers = vec![INPUTS];
    layers.extend(&args.hidden);
    layers.push(CLASSES);
    // the same seed on every rank: the same initial weights
    let mut net = Network::new(&layers, Output::Tanh, 42, 0.05).expect("network");
    let cfg = DistributedConfig {
        train: TrainConfig {
            learning_rate: args.lr,
            epochs: args.epochs,
            batch_size: args.batch,
            order: Order::Shuffle,
            seed: 1,
            ..TrainConfig::default()
        },
        checkpoint: args.save.as_deref(),
    };
    if rank0 {
        println!(
            "{} ranks, {:?} ({} weights), {} training rows ({} a rank), {} validation rows, \
             batch {} a rank ({} global), kernels {}",
            c.size(),
            layers,
            net.num_weights(),
            args.rows,
            shard.rows().len(),
            args.val,
            args.batch,
            args.batch * c.size(),
            net.kernels().isa().name()
        );
        println!("epoch      E_in     E_val   epoch_s  allreduce_s  wait_s");
    }
    let data = LocalData {
        x: &x,
        y: &y,
        validation: (args.val > 0).then_some((&vx[..], &vy[..])),
    };
    let mut t_epoch = Instant::now();
    let mut comm_before = 0.0;
    let mut wait_before = 0.0;
    let result =
        distributed::train_distributed(&mut net, data, &cfg, &c, distributed::sgd, |info, _| {
            let (comm, wait) = (c.allreduce.get(), c.wait.get());
            if rank0 {
                println!(
                    "{:5} {:9.5} {:9.5} {:9.3} {:12.4} {:7.4}",
                    info.epoch,
                    info.train_error,
                    info.validation_error,
                    t_epoch.elapsed().as_secs_f64(),
                    comm - comm_before,
                    wait - wait_before
                );
            }
            comm_before = comm;
            wait_before = wait;
            t_epoch = Instant::now();
            ControlFlow::Continue(())
        });
    match result {
        Ok(r) => {
            if rank0 {
                println!(
                    "kept epoch {} (E_in {:.5}, E_val {:.5}); {} steps, {:.2} ms a step; \
                     communication {:.1}% of the step time: {:.3} ms a step in the allreduce of \
                     {} floats, {:.3} ms waiting for the slowest rank",
                    r.report.best_epoch,
                    r.report.train_error,
                    r.report.validation_error,
                    r.steps,
                    1e3 * r.step_seconds / r.steps as f64,
                    100.0 * r.allreduce_seconds / r.step_seconds,
                    1e3 * c.allreduce.get() / r.steps as f64,
                    net.num_weights(),
                    1e3 * c.wait.get() / r.steps as f64
                );
                if let Some(p) = &args.csv
                    && let Err(e) = r.report.write_csv(p)
                {
                    eprintln!("mpi_train: {e}");
                    std::process::exit(1);
                }
            }
        }
        Err(e) => {
            // every rank holds the same error
            if rank0 {
                eprintln!("mpi_train: {e}");
            }
            std::process::exit(1);
        }
    }
}
