//! Data-parallel training with 1, 2 and 4 ranks as threads of one process (a `Collective`
//! over shared memory that adds the ranks' buffers in rank order), and with `SingleProcess`.
//! The same checks run under mpirun in tests/mpi.rs.

mod data_parallel;

use std::sync::{Arc, Condvar, Mutex};

use nnet::distributed::{Collective, Shard, SingleProcess};

/// What the ranks of a thread group share.
#[derive(Default)]
struct Shared {
    f32s: Vec<Vec<f32>>,
    f64s: Vec<Vec<f64>>,
    u64s: Vec<Vec<u64>>,
    bytes: Vec<u8>,
    arrived: usize,
    generation: u64,
    poisoned: bool,
}

struct Group {
    size: usize,
    /// Rank 1's gradient sums come out 1e-3 off in their first value (a broken allreduce).
    skew_rank1: bool,
    state: Mutex<Shared>,
    turn: Condvar,
}

/// One rank of a thread group.
struct ThreadRank {
    rank: usize,
    group: Arc<Group>,
}

impl ThreadRank {
    /// Waits until every rank has arrived; panics if a rank has panicked (no hang).
    fn barrier(&self) {
        let g = &self.group;
        let mut s = g.state.lock().unwrap_or_else(|e| e.into_inner());
        assert!(!s.poisoned, "another rank failed");
        let gen_ = s.generation;
        s.arrived += 1;
        if s.arrived == g.size {
            s.arrived = 0;
            s.generation += 1;
            g.turn.notify_all();
            return;
        }
        while s.generation == gen_ && !s.poisoned {
            s = g.turn.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        assert!(!s.poisoned, "another rank failed");
    }

    fn poison(&self) {
        let mut s = self.group.state.lock().unwrap_or_else(|e| e.into_inner());
        s.poisoned = true;
        self.group.turn.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.group.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Collective for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.group.size
    }
    fn allreduce_sum(&self, buf: &mut [f32]) {
        self.lock().f32s[self.rank] = buf.to_vec();
        self.barrier();
        {
            let s = self.lock();
            buf.copy_from_slice(&s.f32s[0]);
            for other in &s.f32s[1..] {
                for (b, o) in buf.iter_mut().zip(other) {
                    *b += o;
                }
            }
        }
        if self.group.skew_rank1 && self.rank == 1 {
            buf[0] += 1e-3;
        }
        self.barrier();
    }
    fn allreduce_sum_f64(&self, buf: &mut [f64]) {
        self.lock().f64s[self.rank] = buf.to_vec();
        self.barrier();
        {
            let s = self.lock();
            buf.copy_from_slice(&s.f64s[0]);
            for other in &s.f64s[1..] {
                for (b, o) in buf.iter_mut().zip(other) {
                    *b += o;
                }
            }
        }
        self.barrier();
    }
    fn allreduce_max(&self, buf: &mut [u64]) {
        self.lock().u64s[self.rank] = buf.to_vec();
        self.barrier();
        {
            let s = self.lock();
            for other in &s.u64s {
                for (b, o) in buf.iter_mut().zip(other) {
                    *b = (*b).max(*o);
                }
            }
        }
        self.barrier();
    }
    fn broadcast(&self, root: usize, buf: &mut [u8]) {
        if self.rank == root {
            self.lock().bytes = buf.to_vec();
        }
        self.barrier();
        if self.rank != root {
            buf.copy_from_slice(&self.lock().bytes);
        }
        self.barrier();
    }
}

/// Runs `f` on `size` thread ranks; a panic on any rank fails the test (the others stop).
fn on_threads(size: usize, f: fn(&dyn Collective)) {
    on_group(size, false, f)
}

fn on_group(size: usize, skew_rank1: bool, f: fn(&dyn Collective)) {
    let group = Arc::new(Group {
        size,
        skew_rank1,
        state: Mutex::new(Shared {
            f32s: vec![Vec::new(); size],
            f64s: vec![Vec::new(); size],
            u64s: vec![Vec::new(); size],
            ..Shared::default()
        }),
        turn: Condvar::new(),
    });
    let handles: Vec<_> = (0..size)
        .map(|rank| {
            let group = Arc::clone(&group);
            std::thread::spawn(move || {
                let me = ThreadRank { rank, group };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&me)));
                if r.is_err() {
                    me.poison();
                }
                r.is_ok()
            })
        })
        .collect();
    let ok: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(ok.iter().all(|&o| o), "ranks passed: {ok:?}");
}

#[test]
fn one_rank() {
    on_threads(1, data_parallel::run_all);
}

#[test]
fn two_ranks() {
    on_threads(2, data_parallel::run_all);
}

#[test]
fn four_ranks() {
    on_threads(4, data_parallel::run_all);
}

#[test]
fn single_process() {
    data_parallel::run_all(&SingleProcess);
}

#[test]
fn shards_cover_every_row_once() {
    for total in [0, 1, 5, 96, 97] {
        for size in 1..=5 {
            let mut seen = vec![0; total];
            for r in 0..size {
                let s = Shard::new(total, r, size).unwrap();
                let rows = s.rows();
                assert!(rows.len() == total / size || rows.len() == total / size + 1);
                for i in rows {
                    seen[i] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{total} rows on {size} ranks");
            for b in [1, 3, 64] {
                let mut order = Shard::new(total, 0, size).unwrap().global_order(b);
                order.sort_unstable();
                assert_eq!(order, (0..total).collect::<Vec<_>>());
            }
        }
    }
    assert!(Shard::new(4, 2, 2).is_err());
    let s = Shard::new(4, 1, 2).unwrap();
    assert_eq!(
        s.slice(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 2)
            .unwrap(),
        [4.0, 5.0, 6.0, 7.0]
    );
    assert!(s.slice(&[0.0; 7], 2).is_err());
}

#[test]
fn ranks_whose_weights_part_stop_with_an_error() {
    on_group(2, true, |c| {
        use nnet::Regularization;
        use nnet::distributed::{self, DistributedConfig, LocalData};
        use std::ops::ControlFlow;
        let (x, y) = data_parallel::data(data_parallel::ROWS, 1);
        let shard = Shard::of(c, data_parallel::ROWS).unwrap();
        let local = LocalData {
            x: shard.slice(&x, data_parallel::LAYERS[0]).unwrap(),
            y: shard.slice(&y, data_parallel::LAYERS[2]).unwrap(),
            validation: None,
        };
        let cfg = DistributedConfig {
            train: data_parallel::config(3, Regularization::none()),
            checkpoint: None,
        };
        let mut net = data_parallel::network();
        let e =
            distributed::train_distributed(&mut net, local, &cfg, c, distributed::sgd, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap_err();
        assert!(matches!(e, nnet::Error::Diverged(_)), "{e}");
        assert!(
            e.message().contains("different weights after epoch 1"),
            "{e}"
        );
    });
}
