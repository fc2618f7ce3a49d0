//! Results do not depend on the number of threads: training with 1, 2, 3 or 8 worker threads
//! gives bitwise identical weights, and batched prediction gives bitwise identical outputs.

use nnet::{Network, Order, Output, Regularization, TrainConfig};

fn data(rows: usize, n_in: usize, n_out: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut s = seed;
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
fn training_is_bitwise_independent_of_the_thread_count() {
    let cases: [(&[usize], Output, usize, usize); 5] = [
        (&[20, 48, 33, 3], Output::Linear, 300, 256),
        (&[20, 48, 33, 3], Output::Linear, 300, 100),
        (&[9, 70, 1], Output::Tanh, 257, 64),
        (&[31, 17, 40, 5], Output::Tanh, 200, 130),
        (&[4, 6, 2], Output::Linear, 90, 7),
    ];
    for &(layers, output, rows, batch) in &cases {
        let (x, y) = data(rows, layers[0], *layers.last().unwrap(), batch as u64);
        let (vx, vy) = data(50, layers[0], *layers.last().unwrap(), 99);
        for order in [Order::Shuffle, Order::Sequential, Order::RandomPick] {
            let mut first: Option<(Vec<u32>, f64)> = None;
            for threads in [1, 2, 3, 8] {
                let mut net = Network::new(layers, output, 3, 0.4).unwrap();
                let cfg = TrainConfig {
                    learning_rate: 0.03,
                    epochs: 3,
                    batch_size: batch,
                    order,
                    regularization: Regularization::l2(1e-3),
                    threads,
                    seed: 11,
                    ..TrainConfig::default()
                };
                let r = net.train(&cfg, &x, &y, Some((&vx, &vy))).unwrap();
                let got = (bits(net.weights()), r.validation_error);
                match &first {
                    None => first = Some(got),
                    Some(f) => {
                        assert!(
                            f.0 == got.0,
                            "{layers:?} batch {batch} {order:?}: weights differ with {threads} threads"
                        );
                        assert_eq!(f.1.to_bits(), got.1.to_bits(), "validation error differs");
                    }
                }
            }
        }
    }
}

#[test]
fn prediction_is_bitwise_independent_of_the_thread_count() {
    let net = Network::new(&[30, 64, 40, 4], Output::Linear, 8, 0.3).unwrap();
    let (x, y) = data(1000, 30, 4, 1);
    let mut first: Option<(Vec<u32>, u64)> = None;
    for threads in [1, 2, 3, 8] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (out, e) = pool.install(|| (net.predict(&x).unwrap(), net.error(&x, &y).unwrap()));
        let got = (bits(&out), e.to_bits());
        match &first {
            None => first = Some(got),
            Some(f) => assert!(*f == got, "prediction differs with {threads} threads"),
        }
    }
}

#[test]
fn every_optimizer_on_the_matrix_product_path_is_bitwise_independent_of_the_thread_count() {
    use nnet::{Optimizer, TrainPath};
    let layers: &[usize] = &[20, 48, 33, 3];
    let (x, y) = data(300, 20, 3, 5);
    let (vx, vy) = data(50, 20, 3, 99);
    let optimizers = [
        Optimizer::momentum(),
        Optimizer::nesterov(),
        Optimizer::adam(),
        Optimizer::adamw(),
        Optimizer::rprop(),
    ];
    for o in optimizers {
        // iRPROP- takes the full batch (five chunks, the last short)
        let batch = if o.is_full_batch() { 300 } else { 256 };
        let mut first: Option<(Vec<u32>, f64)> = None;
        for threads in [1, 2, 3, 8] {
            let mut net = Network::new(layers, Output::Tanh, 3, 0.4).unwrap();
            let cfg = TrainConfig {
                learning_rate: 0.01,
                epochs: 3,
                batch_size: batch,
                optimizer: o,
                regularization: Regularization::l2(1e-3),
                threads,
                seed: 11,
                ..TrainConfig::default()
            };
            let plan = net.train_plan(&cfg, 300);
            assert_eq!(plan.path, TrainPath::Gemm);
            // spread over the workers wherever there is more than one
            assert_eq!(plan.parallel_steps, plan.threads > 1);
            let r = net.train(&cfg, &x, &y, Some((&vx, &vy))).unwrap();
            let got = (bits(net.weights()), r.validation_error);
            match &first {
                None => first = Some(got),
                Some(f) => {
                    assert!(
                        f.0 == got.0,
                        "{}: weights differ with {threads} threads",
                        o.name()
                    );
                    assert_eq!(f.1.to_bits(), got.1.to_bits(), "{}", o.name());
                }
            }
        }
    }
}
