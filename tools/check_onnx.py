#!/usr/bin/env python3
"""Checks nnet's ONNX export with an independent runtime.

For every DIR/NAME.onnx written by `cargo run --release --example onnx_export -- --out DIR`:
onnx.checker.check_model (full check, with shape inference) accepts the model, its opset and
IR version are those of SPEC section 9, and onnxruntime's outputs on DIR/NAME.x.f32 match
nnet's predictions DIR/NAME.y.f32 to 1e-5 relative (|a - b| <= 1e-5 * max(|b|, 1) per value).
Then every fixture in tests/fixtures/onnx/*.onnx that has expected outputs runs under
onnxruntime and must match them the same way. Exits non-zero on any failure.

    python3 tools/check_onnx.py DIR
"""
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(3)

RTOL = 1e-5
ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(model_path, x):
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x})[0]


def compare(what, got, want):
    if got.shape != want.shape:
        print(f"FAIL {what}: onnxruntime shape {got.shape}, expected {want.shape}")
        return False
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = RTOL * np.maximum(np.abs(want.astype(np.float64)), 1.0)
    worst = float(np.max(err / bound))
    ok = bool(np.all(err <= bound))
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {want.shape[0]} rows, max |diff| {err.max():.3e}, "
          f"{worst:.3f} of the 1e-5 relative bound")
    return ok


def check_export(path):
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    opset = {o.domain: o.version for o in model.opset_import}
    if model.ir_version < 8 or opset.get("", 0) < 13:
        print(f"FAIL {path.name}: IR {model.ir_version}, opset {opset}")
        return False
    d_in = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    d_out = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    x = np.fromfile(path.with_suffix(".x.f32"), dtype="<f4").reshape(-1, d_in)
    want = np.fromfile(path.with_suffix(".y.f32"), dtype="<f4").reshape(-1, d_out)
    ops = [n.op_type for n in model.graph.node]
    print(f"     {path.name}: checker ok, IR {model.ir_version}, opset {opset['']}, nodes {ops}")
    return compare(path.name, run(path, x), want)


def check_fixtures():
    ok = True
    for path in sorted((ROOT / "tests/fixtures/onnx").glob("*.onnx")):
        expected = path.with_suffix(".expected.txt")
        if not expected.exists():
            continue
        x, y = read_expected(expected)
        ok &= compare(f"fixture {path.name}", run(path, x), y)
    return ok


def read_expected(path):
    """The fixture's inputs and outputs: lines `x v v ...` and `y v v ...`, one row each."""
    xs, ys = [], []
    for line in path.read_text().splitlines():
        kind, *vals = line.split()
        (xs if kind == "x" else ys).append([float(v) for v in vals])
    return np.array(xs, dtype=np.float32), np.array(ys, dtype=np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    exported = sorted(pathlib.Path(sys.argv[1]).glob("*.onnx"))
    if not exported:
        sys.exit(f"no .onnx files in {sys.argv[1]}")
    ok = all([check_export(p) for p in exported])
    ok &= check_fixtures()
    if not ok:
        sys.exit("ONNX check failed")
    print("ONNX check passed")


if __name__ == "__main__":
    main()
