#!/usr/bin/env python3
"""Writes the ONNX import fixtures in tests/fixtures/onnx with the `onnx` package's helper API.

Accepted forms (each with NAME.expected.txt: input rows `x ...` and onnxruntime's outputs
`y ...` for them):
- gemm_tanh: 3-5-2, Gemm + Tanh, Gemm (linear output), weights in float_data, opset 13;
- matmul_add: 4-6-3-1, MatMul + Add (bias first in one Add), a weight from a Constant node,
  initializers also listed as graph inputs, raw_data, tanh output, scalar input
  standardization, opset 11;
- gemm_transb_standardized: 5-8-2, Gemm with transB = 1 (weights stored [out, in]), input
  Sub/Div and target Mul/Add with [1, d] constants, opset 17.
Refused forms (each with NAME.refused.txt: the node name the error must give):
- relu_hidden (a Relu between layers), residual (an Add of the graph input), gemm_alpha
  (Gemm with alpha = 0.5), sigmoid_output (a Sigmoid after the last layer).

    python3 tools/make_onnx_fixtures.py    # needs onnx, onnxruntime, numpy
"""
import pathlib

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(3)
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/onnx"
rng = np.random.default_rng(14)


def w(*shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def const(name, array, raw=False):
    if raw:
        return numpy_helper.from_array(array, name)
    return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.flatten().tolist())


def io(name, width):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", width])


def save(name, nodes, inits, d_in, d_out, opset=13, extra_inputs=(), refused=None):
    graph = helper.make_graph(nodes, name, [io("input", d_in), *extra_inputs],
                              [io("output", d_out)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="onnx.helper")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path = OUT / f"{name}.onnx"
    onnx.save(model, str(path))
    if refused is not None:
        (OUT / f"{name}.refused.txt").write_text(refused + "\n")
        return
    x = (rng.standard_normal((7, d_in)) * 2).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"input": x})[0]
    lines = [" ".join(["x"] + [f"{v:.9g}" for v in r]) for r in x]
    lines += [" ".join(["y"] + [f"{v:.9g}" for v in r]) for r in y]
    (OUT / f"{name}.expected.txt").write_text("\n".join(lines) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)

    save("gemm_tanh", [
        helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Gemm", ["a1", "W2", "b2"], ["output"], name="fc2"),
    ], [const("W1", w(3, 5)), const("b1", w(5)), const("W2", w(5, 2)), const("b2", w(2))], 3, 2)

    inits = [const("W1", w(4, 6), raw=True), const("b1", w(6), raw=True),
             const("b2", w(3), raw=True), const("W3", w(3, 1), raw=True),
             const("b3", w(1), raw=True), const("mean", np.array(0.25, np.float32), raw=True),
             const("std", np.array(1.5, np.float32), raw=True)]
    save("matmul_add", [
        helper.make_node("Sub", ["input", "mean"], ["s"], name="center"),
        helper.make_node("Div", ["s", "std"], ["z"], name="scale"),
        helper.make_node("MatMul", ["z", "W1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["b1", "m1"], ["h1"], name="bias1"),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Constant", [], ["W2"], name="w2_const",
                         value=numpy_helper.from_array(w(6, 3), "W2")),
        helper.make_node("MatMul", ["a1", "W2"], ["m2"], name="mm2"),
        helper.make_node("Add", ["m2", "b2"], ["h2"], name="bias2"),
        helper.make_node("Tanh", ["h2"], ["a2"], name="act2"),
        helper.make_node("MatMul", ["a2", "W3"], ["m3"], name="mm3"),
        helper.make_node("Add", ["m3", "b3"], ["h3"], name="bias3"),
        helper.make_node("Tanh", ["h3"], ["output"], name="act3"),
    ], inits, 4, 1, opset=11,
        extra_inputs=[helper.make_tensor_value_info(t.name, TensorProto.FLOAT, t.dims)
                      for t in inits])

    std_in = (rng.random((1, 5)) + 0.5).astype(np.float32)
    std_out = (rng.random((1, 2)) + 0.5).astype(np.float32)
    save("gemm_transb_standardized", [
        helper.make_node("Sub", ["input", "in_mean"], ["s"], name="in_sub"),
        helper.make_node("Div", ["s", "in_std"], ["z"], name="in_div"),
        helper.make_node("Gemm", ["z", "W1t", "b1"], ["h1"], name="fc1", transB=1),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Gemm", ["a1", "W2t", "b2"], ["h2"], name="fc2", transB=1,
                         alpha=1.0, beta=1.0),
        helper.make_node("Mul", ["h2", "out_std"], ["u"], name="out_mul"),
        helper.make_node("Add", ["u", "out_mean"], ["output"], name="out_add"),
    ], [const("in_mean", w(1, 5)), const("in_std", std_in), const("W1t", w(8, 5)),
        const("b1", w(8)), const("W2t", w(2, 8)), const("b2", w(2)),
        const("out_std", std_out), const("out_mean", w(1, 2))], 5, 2, opset=17)

    layer = [const("W1", w(3, 4)), const("b1", w(4)), const("W2", w(4, 2)), const("b2", w(2))]
    save("relu_hidden", [
        helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "W2", "b2"], ["output"], name="fc2"),
    ], layer, 3, 2, refused="relu1")
    save("residual", [
        helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Gemm", ["a1", "W2", "b2"], ["h2"], name="fc2"),
        helper.make_node("Add", ["h2", "input"], ["output"], name="skip"),
    ], [const("W1", w(3, 4)), const("b1", w(4)), const("W2", w(4, 3)), const("b2", w(3))],
        3, 3, refused="skip")
    save("gemm_alpha", [
        helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Gemm", ["a1", "W2", "b2"], ["output"], name="fc2_scaled", alpha=0.5),
    ], layer, 3, 2, refused="fc2_scaled")
    save("sigmoid_output", [
        helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Tanh", ["h1"], ["a1"], name="act1"),
        helper.make_node("Gemm", ["a1", "W2", "b2"], ["h2"], name="fc2"),
        helper.make_node("Sigmoid", ["h2"], ["output"], name="sigmoid_out"),
    ], layer, 3, 2, refused="sigmoid_out")


if __name__ == "__main__":
    main()
