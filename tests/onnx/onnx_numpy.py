# SPDX-License-Identifier: MIT
"""onnx_numpy.py - a small reference evaluator of ONNX graphs in numpy, for exactly the opset-13
operators nabla's exporter writes (src/nn/onnx_export.c and the layers' onnx hooks). Written
from the ONNX operator specification (onnx.ai/onnx/operators, version 13 of each operator), not
from nabla's code, so it checks the exported graphs independently: tests/cli/test_export.sh
compares its outputs with `nabla predict --proba` for the kinds OpenCV cannot run.

Usage as a module: run(model_proto, {"input": array}) -> {output name: array}. Computes in
float64 (float32 inputs and weights, widened), so its own rounding is far below the 1e-5
tolerance of the comparisons.
"""
import functools

import numpy as np
from onnx import numpy_helper

DT = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}


def attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.STRING:
            out[a.name] = a.s.decode()
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.FLOATS:
            out[a.name] = list(a.floats)
        else:
            raise NotImplementedError("attribute type %d of %s" % (a.type, node.op_type))
    return out


def f64(x):
    return x.astype(np.float64) if x.dtype.kind == "f" else x


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def pads_of(a, n):
    p = a.get("pads", [0] * (2 * n))
    return p[:n], p[n:]


def windows(x, k, s, d, pb, pe, fill):
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw) windows over x padded with fill (floor mode)."""
    N, C, H, W = x.shape
    xp = np.full((N, C, H + pb[0] + pe[0], W + pb[1] + pe[1]), fill, dtype=x.dtype)
    xp[:, :, pb[0]:pb[0] + H, pb[1]:pb[1] + W] = x
    oh = (xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.empty((N, C, oh, ow, k[0], k[1]), dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            r0, c0 = i * d[0], j * d[1]
            out[..., i, j] = xp[:, :, r0:r0 + s[0] * (oh - 1) + 1:s[0], c0:c0 + s[1] * (ow - 1) + 1:s[1]]
    return out, xp.shape


def conv(x, w, b, a):
    k = a.get("kernel_shape", list(w.shape[2:]))
    s, d = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
    assert a.get("group", 1) == 1
    pb, pe = pads_of(a, 2)
    win, _ = windows(x, k, s, d, pb, pe, 0.0)  # (N, C, OH, OW, kh, kw)
    y = np.einsum("ncijkl,ockl->noij", win, w)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def pool(x, a, kind):
    k, s = a["kernel_shape"], a.get("strides", [1, 1])
    pb, pe = pads_of(a, 2)
    assert a.get("ceil_mode", 0) == 0
    if kind == "max":
        win, _ = windows(x, k, s, [1, 1], pb, pe, -np.inf)
        return win.max(axis=(4, 5))
    win, _ = windows(x, k, s, [1, 1], pb, pe, 0.0)
    if a.get("count_include_pad", 0):
        return win.sum(axis=(4, 5)) / (k[0] * k[1])
    ones, _ = windows(np.ones_like(x), k, s, [1, 1], pb, pe, 0.0)
    return win.sum(axis=(4, 5)) / ones.sum(axis=(4, 5))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def recurrent(op, ins, a):
    """RNN / LSTM / GRU with layout 0: X (T, N, F) -> Y (T, D, N, H), Y_h (D, N, H)."""
    X, W, R = ins[0], ins[1], ins[2]
    B = ins[3] if len(ins) > 3 and ins[3] is not None else None
    lens = ins[4] if len(ins) > 4 and ins[4] is not None else None
    T, N, _ = X.shape
    H = a["hidden_size"]
    direction = a.get("direction", "forward")
    D = 2 if direction == "bidirectional" else 1
    G = {"RNN": 1, "LSTM": 4, "GRU": 3}[op]
    lens = np.full(N, T, dtype=np.int64) if lens is None else lens.astype(np.int64)
    Y = np.zeros((T, D, N, H))
    Yh = np.zeros((D, N, H))
    for d in range(D):
        rev = direction == "reverse" or d == 1
        w, r = W[d], R[d]
        wb = B[d, :G * H] if B is not None else np.zeros(G * H)
        rb = B[d, G * H:] if B is not None else np.zeros(G * H)
        for n in range(N):
            h = np.zeros(H)
            c = np.zeros(H)
            L = int(lens[n])
            for step in range(L):
                t = L - 1 - step if rev else step
                x = X[t, n]
                if op == "RNN":  # Ht = tanh(Xt W^T + Ht-1 R^T + Wb + Rb)
                    h = np.tanh(x @ w.T + h @ r.T + wb + rb)
                elif op == "LSTM":  # gates i o f c
                    g = x @ w.T + h @ r.T + wb + rb
                    i, o, f, cc = (g[k * H:(k + 1) * H] for k in range(4))
                    i, o, f, cc = sigmoid(i), sigmoid(o), sigmoid(f), np.tanh(cc)
                    c = f * c + i * cc
                    h = o * np.tanh(c)
                else:  # GRU, gates z r h
                    gx = x @ w.T + wb
                    z = sigmoid(gx[:H] + h @ r[:H].T + rb[:H])
                    rr = sigmoid(gx[H:2 * H] + h @ r[H:2 * H].T + rb[H:2 * H])
                    if a.get("linear_before_reset", 0):
                        hh = np.tanh(gx[2 * H:] + rr * (h @ r[2 * H:].T + rb[2 * H:]))
                    else:
                        hh = np.tanh(gx[2 * H:] + (rr * h) @ r[2 * H:].T + rb[2 * H:])
                    h = (1 - z) * hh + z * h
                Y[t, d, n] = h
            Yh[d, n] = h
    return Y, Yh


def run(model, feeds):
    g = model.graph
    env = {t.name: f64(numpy_helper.to_array(t)) for t in g.initializer}
    env.update({k: f64(np.asarray(v)) for k, v in feeds.items()})
    for node in g.node:
        a = attrs(node)
        ins = [env[n] if n else None for n in node.input]
        op = node.op_type
        x = ins[0] if ins else None
        if op in ("Identity", "Dropout"):
            out = [x]
        elif op == "Add":
            out = [x + ins[1]]
        elif op == "Sub":
            out = [x - ins[1]]
        elif op == "Mul":
            out = [x * ins[1]]
        elif op == "Div":
            out = [x / ins[1]]
        elif op == "Max":
            out = [functools.reduce(np.maximum, ins)]
        elif op == "Relu":
            out = [np.maximum(x, 0)]
        elif op == "Sigmoid":
            out = [sigmoid(x)]
        elif op == "Tanh":
            out = [np.tanh(x)]
        elif op == "LeakyRelu":
            out = [np.where(x >= 0, x, a.get("alpha", 0.01) * x)]
        elif op == "Elu":
            out = [np.where(x >= 0, x, a.get("alpha", 1.0) * (np.exp(x) - 1))]
        elif op == "Softplus":
            out = [np.log(np.exp(x) + 1)]
        elif op == "PRelu":
            out = [np.where(x >= 0, x, ins[1] * x)]
        elif op == "Softmax":
            out = [softmax(x, a.get("axis", -1))]
        elif op == "LogSoftmax":
            out = [np.log(softmax(x, a.get("axis", -1)))]
        elif op == "Sign":
            out = [np.sign(x)]
        elif op == "Greater":
            out = [x > ins[1]]
        elif op == "Equal":
            out = [x == ins[1]]
        elif op == "Not":
            out = [np.logical_not(x)]
        elif op == "Cast":
            t = DT[a["to"]]
            out = [f64(x.astype(t))]
        elif op == "Gemm":
            A = x.T if a.get("transA", 0) else x
            Bm = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (A @ Bm)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
            out = [y]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            out = [x.reshape(int(np.prod(x.shape[:ax])), -1)]
        elif op == "Reshape":
            shape = [x.shape[i] if v == 0 else int(v) for i, v in enumerate(ins[1])]
            out = [x.reshape(shape)]
        elif op == "Transpose":
            out = [np.transpose(x, a.get("perm"))]
        elif op == "Unsqueeze":
            y = x
            for ax in sorted(int(v) for v in ins[1]):
                y = np.expand_dims(y, ax)
            out = [y]
        elif op == "ReduceMax":
            out = [x.max(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))]
        elif op == "ReduceSum":
            out = [x.sum(axis=tuple(int(v) for v in ins[1]), keepdims=bool(a.get("keepdims", 1)))]
        elif op == "Gather":
            out = [np.take(x, ins[1].astype(np.int64), axis=a.get("axis", 0))]
        elif op == "Conv":
            out = [conv(x, ins[1], ins[2] if len(ins) > 2 else None, a)]
        elif op == "MaxPool":
            out = [pool(x, a, "max")]
        elif op == "AveragePool":
            out = [pool(x, a, "avg")]
        elif op == "GlobalAveragePool":
            out = [x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)]
        elif op == "BatchNormalization":
            sh = (1, -1) + (1,) * (x.ndim - 2)
            sc, b, mean, var = (v.reshape(sh) for v in ins[1:5])
            out = [(x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * sc + b]
        elif op in ("RNN", "LSTM", "GRU"):
            out = list(recurrent(op, ins, a))
        else:
            raise NotImplementedError("operator %s (node %s)" % (op, node.name))
        for name, v in zip(node.output, out):
            if name:
                env[name] = v
    return {o.name: env[o.name] for o in g.output}
