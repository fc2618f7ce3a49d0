#!/usr/bin/env python3
"""nnet beside its peers, in one run, rows interleaved: samples/s and the ratio table.

    python3 benches/peers.py                      # every row, 2 rounds
    python3 benches/peers.py --rounds 3 --rows "784-256-256-10:256:1:train"
    python3 benches/peers.py --peers jax,numpy    # which peers (jax, numpy, torch)

It builds `examples/throughput` (release), copies the peer harness of `--peers-dir` (default
../shared/peers/py) into target/peers, creates its virtual environment there if missing (the
harness's pinned requirements; torch only when asked), and then, for every round and every row,
runs nnet and each peer one after the other with the same shape, batch, thread count and data
size. Each rate is the best of the rounds (the machines are shared: the best round is the one with
the least interference, for nnet and peers alike). Prints a Markdown table with the CPU model, the
kernel set and the plan nnet used, and writes it to target/peers/table.md.

One thread means pinned to core 0 with `taskset` (XLA and OpenBLAS told to use one thread);
nnet's 1-thread rows run `--threads 1` under the same pin.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

DEFAULT_ROWS = [
    # shape, batch, threads, mode
    ("3-5-1", 1, 1, "train"),
    ("64-128-128-1", 1, 1, "train"),
    ("64-128-128-1", 32, 1, "train"),
    ("64-128-128-1", 256, 1, "train"),
    ("784-256-256-10", 1, 1, "train"),
    ("784-256-256-10", 32, 1, "train"),
    ("784-256-256-10", 256, 1, "train"),
    ("64-128-128-1", 32, 2, "train"),
    ("64-128-128-1", 256, 2, "train"),
    ("784-256-256-10", 32, 2, "train"),
    ("784-256-256-10", 256, 2, "train"),
    ("784-256-256-10", 256, 1, "infer"),
    ("64-128-128-1", 256, 1, "infer"),
]


def sh(cmd, env=None, check=True):
    return subprocess.run(cmd, env=env, check=check, capture_output=True, text=True)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return sh(["uname", "-m"]).stdout.strip()


def pin(threads):
    if threads == 1 and shutil.which("taskset"):
        return ["taskset", "-c", "0"]
    return []


def setup_peers(src, dst, peers):
    if not dst.exists():
        shutil.copytree(src, dst)
    py = dst / ".venv" / "bin" / "python"
    req = dst / ("requirements.txt" if "torch" in peers else "requirements-notorch.txt")
    stamp = dst / ".venv" / ".nnet-installed"
    if not py.exists():
        sh([sys.executable, "-m", "venv", str(dst / ".venv")])
    if not stamp.exists() or stamp.read_text() != req.name:
        print(f"installing the peers' requirements ({req.name}) ...", file=sys.stderr)
        sh([str(py), "-m", "pip", "install", "-q", "-r", str(req)])
        stamp.write_text(req.name)
    return py


def nnet_rate(exe, shape, batch, threads, mode, n):
    cmd = pin(threads) + [str(exe), "--layers", shape, "--batch", str(batch),
                          "--threads", str(threads), "--rows", str(n), "--epochs", "7"]
    if mode == "infer":
        cmd.append("--infer")
    r = sh(cmd)
    out = dict(kv.split("=", 1) for kv in r.stdout.split() if "=" in kv)
    plan = next((l.split("plan:", 1)[1].strip() for l in r.stderr.splitlines() if "plan:" in l), "")
    return float(out["samples_per_sec"]), out.get("isa", "?"), plan


def peer_rates(py, peers_dir, peer, shape, batch, threads, mode, n):
    """The peer's best variant for the row (JAX: best of jit-step and scan)."""
    raw = peers_dir / "results" / "nnet-side-by-side.jsonl"
    raw.parent.mkdir(exist_ok=True)
    if raw.exists():
        raw.unlink()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), JAX_PLATFORMS="cpu")
    if peer == "jax" and threads == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if peer in ("numpy",):
        env.pop("OPENBLAS_CORETYPE", None)
    args = ["--threads", str(threads), "--shapes", shape, "--batches", str(batch), "--n", str(n),
            "--repeats", "5", "--out", str(raw)]
    if peer in ("numpy", "torch") and batch == 1:
        args += ["--n-b1", "2000"]
    cmd = pin(threads) + [str(py), "-W", "ignore", str(peers_dir / f"bench_{peer}.py")] + args
    r = sh(cmd, env=env, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{peer} failed:\n{r.stdout}\n{r.stderr}")
    best = 0.0
    for line in raw.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("mode") == mode and rec.get("batch") == batch and rec.get("shape") == shape \
                and "median" in rec:
            best = max(best, rec["median"])
    return best


def fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--peers", default="jax,numpy")
    ap.add_argument("--peers-dir", default=str(ROOT.parent / "shared" / "peers" / "py"))
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rows", default="", help="comma-separated shape:batch:threads:mode (default: all)")
    a = ap.parse_args()
    peers = [p for p in a.peers.split(",") if p]
    rows = DEFAULT_ROWS
    if a.rows:
        rows = [(s, int(b), int(t), m) for s, b, t, m in (r.split(":") for r in a.rows.split(","))]

    sh(["cargo", "build", "--release", "--example", "throughput"], env=dict(os.environ))
    exe = ROOT / "target" / "release" / "examples" / "throughput"
    work = ROOT / "target" / "peers"
    work.mkdir(parents=True, exist_ok=True)
    py = setup_peers(pathlib.Path(a.peers_dir), work / "py", peers)

    best = {}
    isa, plans = "?", {}
    for rnd in range(a.rounds):
        order = rows if rnd % 2 == 0 else list(reversed(rows))
        for row in order:
            shape, batch, threads, mode = row
            rate, isa, plan = nnet_rate(exe, shape, batch, threads, mode, a.n)
            plans[row] = plan
            best[(row, "nnet")] = max(best.get((row, "nnet"), 0.0), rate)
            for p in peers:
                if p == "numpy" and mode == "train" and batch == 1 and shape != "3-5-1":
                    continue  # the naive loop is far behind; it only costs time
                v = peer_rates(py, work / "py", p, shape, batch, threads, mode, a.n)
                best[(row, p)] = max(best.get((row, p), 0.0), v)
            print(f"round {rnd + 1}: {shape} B={batch} T={threads} {mode}: nnet {fmt(rate)}",
                  file=sys.stderr, flush=True)

    head = "| shape | batch | threads | mode | nnet | " + " | ".join(peers) + " | nnet / best peer |"
    lines = [f"CPU: {cpu_model()}; nproc {os.cpu_count()}; nnet kernels: {isa}; best of {a.rounds} rounds",
             "", head, "|" + " --- |" * 4 + " ---: |" * (len(peers) + 2)]
    for row in rows:
        shape, batch, threads, mode = row
        n = best[(row, "nnet")]
        vals = [best.get((row, p)) for p in peers]
        top = max((v for v in vals if v), default=0.0)
        cells = [fmt(v) if v else "-" for v in vals]
        ratio = f"{n / top:.2f}" if top else "-"
        lines.append(f"| {shape} | {batch} | {threads} | {mode} | {fmt(n)} | " + " | ".join(cells)
                     + f" | {ratio} |")
    lines.append("")
    for row in rows:
        if plans.get(row):
            lines.append(f"- plan {row[0]} B={row[1]} T={row[2]} {row[3]}: {plans[row]}")
    text = "\n".join(lines) + "\n"
    (work / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
