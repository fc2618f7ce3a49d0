#!/usr/bin/env bash
# The data-parallel checks (tests/data_parallel) under mpirun with 1, 2 and 4 ranks, then the
# example with 2 ranks on a small set. Needs MPI (libopenmpi-dev openmpi-bin) and libclang-dev.
#
#   tools/mpi_tests.sh            build with --features mpi (release) and run
set -euo pipefail
cd "$(dirname "$0")/.."
# Open MPI refuses root without these (CI runs as root); --oversubscribe: more ranks than cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe)
exe=$(cargo test --release --features mpi --test mpi --no-run --message-format=json \
  | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[[ -x "$exe" ]] || { echo "mpi_tests.sh: no test executable found" >&2; exit 1; }
for np in 1 2 4; do
  echo "== mpirun -np $np tests/mpi.rs"
  "${MPIRUN[@]}" -np "$np" "$exe"
done
cargo build --release --features mpi --example mpi_train
echo "== mpirun -np 2 mpi_train (small)"
"${MPIRUN[@]}" -np 2 target/release/examples/mpi_train --rows 2000 --val 400 --epochs 2 \
  --batch 64 --hidden 32
