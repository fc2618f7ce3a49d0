#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) on the stable toolchain
# (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use its nightly flags), starting from the committed seed
# corpora; installs cargo-fuzz when it is missing. Fails on any finding: the crashing input is
# left under fuzz/artifacts/<target>/; copy it to tests/fuzz_regressions/<target>/ so that
# `cargo test` replays it, and fix the cause.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=(model_file checkpoint csv fann idx train_config onnx)
cargo fuzz build
for t in "${targets[@]}"; do
  printf '\n=== fuzz %s for %ss\n' "$t" "$seconds"
  work=$(mktemp -d)
  cp fuzz/corpus/"$t"/* "$work"/
  # -timeout: a single input running longer than 10 s is a hang; -rss_limit_mb: an abort-sized
  # allocation is a finding
  # train_config runs the training thread pool: LeakSanitizer reports glibc's per-thread
  # destructor list (__cxa_thread_atexit_impl) of the pool's exited threads, 32 bytes each,
  # which no program code owns; leak detection stays on for every other target
  leaks=1
  [[ $t == train_config ]] && leaks=0
  status=0
  cargo fuzz run "$t" "$work" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks="$leaks" -print_final_stats=1 >"$work.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs|ERROR|SUMMARY|panicked' "$work.log" || true
  ((status == 0)) || tail -n 60 "$work.log" >&2
  rm -f "$work.log"
  rm -rf "$work"
  if ((status != 0)); then
    echo "fuzz target $t found a failing input (see fuzz/artifacts/$t/)" >&2
    exit 1
  fi
done
