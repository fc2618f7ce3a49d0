#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (small valid and
near-valid inputs of every format). Run from anywhere: python3 tools/fuzz_seeds.py"""
import glob
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "fuzz", "corpus")
ONNX_FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "onnx")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def sealed(body):
    return body + struct.pack("<I", crc32c(body))


def model(layers, output, weights, scaling=None):
    flags = 0 if scaling is None else (1 if len(scaling) == 2 else 3)
    b = b"\x89NNET\r\n\x1a" + struct.pack("<IIII", 1, output, flags, len(layers))
    b += b"".join(struct.pack("<Q", d) for d in layers)
    b += struct.pack("<Q", len(weights))
    for part in scaling or []:
        b += b"".join(struct.pack("<f", v) for v in part)
    b += b"".join(struct.pack("<f", w) for w in weights)
    return sealed(b)


def checkpoint(fields):
    b = b"\x89NNCK\r\n\x1a" + struct.pack("<II", 1, len(fields))
    for name, kind, payload in fields:
        n = name.encode()
        b += bytes([len(n)]) + n + bytes([kind]) + struct.pack("<Q", len(payload)) + payload
    return sealed(b)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


# protobuf wire format, enough for the ONNX messages of src/onnx/proto.rs
def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(tag, v):
    return varint(tag << 3) + varint(v)


def field_bytes(tag, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(tag << 3 | 2) + varint(len(data)) + data


def onnx_tensor(name, dims, values):
    return (b"".join(field_varint(1, d) for d in dims) + field_varint(2, 1)
            + field_bytes(8, name) + field_bytes(9, b"".join(struct.pack("<f", v) for v in values)))


def onnx_value(name, width):
    dims = field_bytes(1, field_bytes(2, "N")) + field_bytes(1, field_varint(1, width))
    tensor_type = field_varint(1, 1) + field_bytes(2, dims)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def onnx_exported(layers, tanh_output, weights, scaling=None):
    """The model that Network::to_onnx writes (src/onnx/export.rs) for these weights."""
    nodes, inits, current = [], [], ["x"]

    def node(op, name, consts):
        out = name + "_out"
        nodes.append([[current[0], *consts], out, name, op])
        current[0] = out

    def const(name, dims, values):
        inits.append(onnx_tensor(name, dims, values))
        return name

    if scaling is not None:
        node("Sub", "input_sub", [const("input_mean", [layers[0]], scaling[0])])
        node("Div", "input_div", [const("input_std", [layers[0]], scaling[1])])
    at = 0
    for l in range(1, len(layers)):
        rows, cols = layers[l - 1], layers[l]
        w = weights[at:at + (rows + 1) * cols]
        at += (rows + 1) * cols
        node("Gemm", f"gemm{l}", [const(f"W{l}", [rows, cols], w[cols:]),
                                   const(f"b{l}", [cols], w[:cols])])
        if l < len(layers) - 1 or tanh_output:
            node("Tanh", f"tanh{l}", [])
    if scaling is not None and len(scaling) == 4:
        node("Mul", "target_mul", [const("target_std", [layers[-1]], scaling[3])])
        node("Add", "target_add", [const("target_mean", [layers[-1]], scaling[2])])
    nodes[-1][1] = "y"
    graph = field_bytes(2, "nnet")
    for ins, out, name, op in nodes:
        graph += field_bytes(1, b"".join(field_bytes(1, i) for i in ins) + field_bytes(2, out)
                             + field_bytes(3, name) + field_bytes(4, op))
    graph += b"".join(field_bytes(5, t) for t in inits)
    graph += field_bytes(11, onnx_value("x", layers[0]))
    graph += field_bytes(12, onnx_value("y", layers[-1]))
    return (field_varint(1, 8) + field_bytes(2, "nnet") + field_bytes(7, graph)
            + field_bytes(8, field_varint(2, 13)))


def seeds():
    w13 = [0.1 * (i - 6) for i in range(13)]
    w7 = [0.25 * (i - 3) for i in range(7)]
    yield "model_file", "2-3-1", model([2, 3, 1], 1, w13)
    yield "model_file", "2-1-scaled", model([2, 1], 0, [0.5, -0.5, 1.0],
                                            [[0.5, 1.0], [2.0, 3.0], [1.0], [4.0]])
    yield "model_file", "truncated", model([2, 3, 1], 1, w13)[:40]
    f64 = lambda v: struct.pack("<d", v)
    yield "checkpoint", "fields", checkpoint([
        ("epoch", 1, struct.pack("<Q", 3)),
        ("best_val", 2, f64(0.25)),
        ("weights", 3, b"".join(struct.pack("<f", w) for w in w7)),
        ("history", 4, f64(0.5) + f64(0.25)),
        ("order", 5, struct.pack("<QQQ", 2, 0, 1)),
        ("rng", 6, bytes(range(48))),
        ("optimizer", 7, b"adam"),
    ])
    yield "checkpoint", "empty", checkpoint([])
    yield "csv", "values", b"\x00a,b,target\n0.5,1,0.25\n1.5,2,-1\n"
    yield "csv", "one-hot", b"\x01a,b,target\n0.5,1,0\n1.5,2,2\n3,4,1\n"
    yield "csv", "binary-semicolon", b"\x0ax;y\n1;0\n2;1\n"
    yield "fann", "xor", b"4 2 1\n-1 -1\n-1\n-1 1\n1\n1 -1\n1\n1 1\n-1\n"
    yield "fann", "short", b"3 1 1\n0.5\n1\n"
    yield "idx", "labels", idx([3], [1, 0, 2])
    yield "idx", "images", idx([2, 2, 2], range(8))
    yield "idx", "images-gz", gzip.compress(idx([2, 2, 2], range(8)), mtime=0)
    cfg = (bytes([0b0100_1101, 1, 7, 2])          # 2-3-2 tanh, 8 rows, 2 validation rows
           + struct.pack("<fIIII", 0.05, 5, 2, 0, 1)  # eta, epochs, batch, order, reg kind
           + struct.pack("<ffB", 1e-3, 1.0, 1)        # lambda, w0, include_bias
           + struct.pack("<IIQfI", 2, 1, 42, 0.5, 1)  # patience, restarts, seed, r, threads
           + bytes([0]) + struct.pack("<f", 0.5) + bytes([0])
           + bytes((i * 37) % 256 for i in range(64)))
    yield "train_config", "small", cfg
    for path in sorted(glob.glob(os.path.join(ONNX_FIXTURES, "*.onnx"))):
        with open(path, "rb") as f:
            yield "onnx", "fixture-" + os.path.basename(path)[:-len(".onnx")], f.read()
    yield "onnx", "exported-2-3-1-tanh", onnx_exported([2, 3, 1], True, w13)
    yield "onnx", "exported-2-1-scaled", onnx_exported([2, 1], False, [0.5, -0.5, 1.0],
                                                       [[0.5, 1.0], [2.0, 3.0], [1.0], [4.0]])
    yield "train_config", "sgd-stop", bytes([0b0000_0100, 0, 3, 0]) + struct.pack(
        "<fIIII", 0.1, 3, 1, 1, 0) + bytes(40)


def main():
    for target, name, data in seeds():
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
