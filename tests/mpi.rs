//! The data-parallel checks of tests/data_parallel on MPI ranks. Run under mpirun (see
//! tools/mpi_tests.sh): `mpirun -np 4 target/release/deps/mpi-<hash>`; without mpirun it runs
//! as one rank.

mod data_parallel;

use nnet::distributed::{Collective, Mpi, mpi};

fn main() {
    let universe = mpi::initialize().expect("MPI initializes once");
    let c = Mpi::new(universe.world());
    if c.rank() == 0 {
        eprintln!(
            "data-parallel checks on {} MPI ranks (gradient allreduce in place: {})",
            c.size(),
            c.in_place()
        );
    }
    data_parallel::run_all(&c);
    if c.rank() == 0 {
        eprintln!("all data-parallel checks passed on {} ranks", c.size());
    }
}
