//! The training plan (`Network::train_plan`): its choice of path, batch and threads, and the
//! clamp of the thread count to the machine (a huge count trains, with the same weights).

use nnet::{Network, Output, Regularization, TrainConfig, TrainPath};

fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn data(rows: usize, n_in: usize, n_out: usize) -> (Vec<f32>, Vec<f32>) {
    let mut s = 7u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let x: Vec<f32> = (0..rows * n_in).map(|_| u()).collect();
    let y: Vec<f32> = (0..rows * n_out).map(|_| 0.8 * u()).collect();
    (x, y)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn the_plan_chooses_the_path_from_batch_regularizer_and_size() {
    let big = Network::new(&[64, 128, 128, 1], Output::Linear, 1, 0.1).unwrap();
    let tiny = Network::new(&[3, 5, 1], Output::Linear, 1, 0.1).unwrap();
    let cfg = |batch_size, regularization| TrainConfig {
        batch_size,
        regularization,
        threads: 1,
        ..TrainConfig::default()
    };
    let none = Regularization::none();
    let l2 = Regularization::l2(1e-3);
    assert_eq!(big.train_plan(&cfg(1, none), 100).path, TrainPath::FusedSgd);
    assert_eq!(big.train_plan(&cfg(1, l2), 100).path, TrainPath::PerSample);
    // a zero lambda is no regularizer
    let off = Regularization::l2(0.0);
    assert_eq!(big.train_plan(&cfg(1, off), 100).path, TrainPath::FusedSgd);
    assert_eq!(
        big.train_plan(&cfg(2, none), 100).path,
        TrainPath::Accumulated
    );
    assert_eq!(big.train_plan(&cfg(3, none), 100).path, TrainPath::Gemm);
    assert_eq!(big.train_plan(&cfg(64, l2), 100).path, TrainPath::Gemm);
    // D = 26: batch * D >= 1024 from 40 rows on
    assert_eq!(
        tiny.train_plan(&cfg(39, none), 100).path,
        TrainPath::Accumulated
    );
    assert_eq!(tiny.train_plan(&cfg(40, none), 100).path, TrainPath::Gemm);
    // the batch is at most the rows; a batch of one row accumulates
    let p = big.train_plan(&cfg(500, none), 100);
    assert_eq!((p.path, p.batch), (TrainPath::Gemm, 100));
    let p = big.train_plan(&cfg(8, none), 1);
    assert_eq!((p.path, p.batch), (TrainPath::Accumulated, 1));
    // one thread never splits work
    let p = big.train_plan(&cfg(256, none), 10_000);
    assert!(!p.parallel_steps && !p.parallel_evaluation);
    assert!(
        p.to_string().contains("path=gemm batch=256 threads=1"),
        "{p}"
    );
}

#[test]
fn the_thread_count_is_clamped_to_the_machine() {
    let net = Network::new(&[20, 48, 33, 3], Output::Linear, 1, 0.1).unwrap();
    for (threads, expect) in [
        (0, available()),
        (1, 1),
        (10_000, available()),
        (usize::MAX, available()),
    ] {
        let cfg = TrainConfig {
            batch_size: 256,
            threads,
            ..TrainConfig::default()
        };
        let plan = net.train_plan(&cfg, 1000);
        assert_eq!(plan.threads, expect, "threads {threads}");
        // D = 2727: a step of 256 rows is 698 112 row-weight products, worth splitting
        assert_eq!(plan.parallel_steps, expect > 1, "threads {threads}");
    }
}

#[test]
fn an_absurd_thread_count_trains_the_same_weights_as_one_thread() {
    let layers = [20, 48, 33, 3];
    let (x, y) = data(600, 20, 3);
    for (batch_size, regularization) in [
        (256, Regularization::none()),
        (256, Regularization::l1(1e-3)),
        (1, Regularization::none()),
        (1, Regularization::l2(1e-3)),
        (5, Regularization::none()),
    ] {
        let mut weights = Vec::new();
        for threads in [1, 10_000] {
            let mut net = Network::new(&layers, Output::Linear, 3, 0.4).unwrap();
            let cfg = TrainConfig {
                learning_rate: 0.01,
                epochs: 2,
                batch_size,
                regularization,
                threads,
                ..TrainConfig::default()
            };
            let report = net.train(&cfg, &x, &y, None).unwrap();
            assert_eq!(report.epochs_run, 2);
            weights.push(bits(net.weights()));
        }
        assert_eq!(
            weights[0], weights[1],
            "batch {batch_size}, {regularization:?}"
        );
    }
}
