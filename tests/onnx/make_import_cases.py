#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make_import_cases.py - the ONNX files tests/nn/test_onnx_import.c imports, written with
onnx.helper only (no nabla, no PyTorch), into tests/onnx/cases/:
  <name>.onnx + <name>.txt for each supported case: the .txt holds "rows features outputs task",
  then the input rows and the outputs nabla's predict must give (softmax / sigmoid / values)
  as numpy computes them in double precision;
  bad_<name>.onnx for each refusal (the test asserts the message).
Run: /usr/bin/python3 tests/onnx/make_import_cases.py (deterministic: seed 18)."""
import os
import numpy as np
import onnx
from onnx import helper, TensorProto as TP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
rng = np.random.default_rng(18)


def init(name, a, raw=True):
    a = np.asarray(a)
    dt = TP.INT64 if a.dtype.kind == "i" else TP.FLOAT
    a = a.astype(np.int64 if dt == TP.INT64 else np.float32)
    if raw:
        return helper.make_tensor(name, dt, a.shape, a.tobytes(), raw=True)
    return helper.make_tensor(name, dt, a.shape, a.flatten().tolist())


def model(nodes, inits, in_shape, n_out, opset=13, domain="", name="case"):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TP.FLOAT, ["batch"] + list(in_shape))],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TP.FLOAT, ["batch", n_out])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid(domain, opset)], producer_name="make_import_cases")


def save(name, m):
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def write_ref(name, x, y, task):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("%d %d %d %s\n" % (x.shape[0], x[0].size, y.shape[1], task))
        for r in x.reshape(x.shape[0], -1):
            f.write(" ".join("%.9g" % v for v in r) + "\n")
        for r in y:
            f.write(" ".join("%.9g" % v for v in r) + "\n")


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def W(*s):
    return rng.uniform(-0.8, 0.8, s).astype(np.float32)


def d(a):
    return np.asarray(a, np.float64)


def conv(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, d(w), axes=([1, 2, 3], [1, 2, 3]))
    return y + (0 if b is None else d(b)[None, :, None, None])


def pool(x, k, stride, pad, f):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=(-np.inf if f is np.max else 0))
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = f(x[:, :, i * stride:i * stride + k, j * stride:j * stride + k], axis=(2, 3))
    return y


def bn(x, s, b, m, v, eps=1e-5):
    sh = (1, -1) + (1,) * (x.ndim - 2)
    return (x - d(m).reshape(sh)) / np.sqrt(d(v).reshape(sh) + eps) * d(s).reshape(sh) + d(b).reshape(sh)


N = helper.make_node


def mlp_cases():
    x = rng.uniform(-2, 2, (5, 4)).astype(np.float32).astype(np.float64)
    # Gemm transB=1 (torch's Linear), Relu, Gemm transB=0, final Softmax -> classify
    w1, b1, w2, b2 = W(3, 4), W(3), W(3, 2), W(2)
    m = model([N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1), N("Relu", ["h1"], ["h2"], name="relu"),
               N("Gemm", ["h2", "w2", "b2"], ["logits"], name="fc2"), N("Softmax", ["logits"], ["probabilities"], name="sm", axis=1)],
              [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2, raw=False)], [4], 2)
    save("gemm_softmax", m)
    write_ref("gemm_softmax", x, softmax(np.maximum(x @ d(w1).T + d(b1), 0) @ d(w2) + d(b2)), "classify")
    # MatMul + Add (bias first in one of them), Tanh, Sigmoid at the end -> binary; opset 11
    w1, b1, w2, b2 = W(4, 3), W(3), W(3, 1), W(1)
    m = model([N("MatMul", ["input", "w1"], ["a"], name="mm1"), N("Add", ["a", "b1"], ["b"], name="add1"), N("Tanh", ["b"], ["c"], name="tanh"),
               N("MatMul", ["c", "w2"], ["e"], name="mm2"), N("Add", ["b2", "e"], ["f"], name="add2"), N("Sigmoid", ["f"], ["p"], name="sig")],
              [init("w1", w1, raw=False), init("b1", b1), init("w2", w2), init("b2", b2)], [4], 1, opset=11)
    save("matmul_binary", m)
    write_ref("matmul_binary", x, sigmoid(np.tanh(x @ d(w1) + d(b1)) @ d(w2) + d(b2)), "binary")
    # every activation, Dropout and Identity skipped, no final activation with 3 outputs -> classify
    ws = [W(5, 4), W(5, 5), W(5, 5), W(5, 5), W(5, 5), W(3, 5)]
    bs = [W(5), W(5), W(5), W(5), W(5), W(3)]
    slope = W(5)
    nodes, inits, cur = [], [], "input"
    acts = [("LeakyRelu", {"alpha": 0.2}), ("Elu", {"alpha": 0.5}), ("Softplus", {}), ("PRelu", {}), ("Sigmoid", {}), None]
    h = x
    for i in range(6):
        nodes.append(N("Gemm", [cur, "w%d" % i, "b%d" % i], ["g%d" % i], name="fc%d" % i, transB=1))
        inits += [init("w%d" % i, ws[i]), init("b%d" % i, bs[i])]
        h = h @ d(ws[i]).T + d(bs[i])
        cur = "g%d" % i
        if acts[i] is None:
            break
        op, at = acts[i]
        ins = [cur] + (["slope"] if op == "PRelu" else [])
        nodes.append(N(op, ins, ["a%d" % i], name=op.lower(), **at))
        cur = "a%d" % i
        if op == "LeakyRelu":
            h = np.where(h > 0, h, 0.2 * h)
            nodes.append(N("Dropout", [cur], ["dr"], name="drop"))
            nodes.append(N("Identity", ["dr"], ["id"], name="ident"))
            cur = "id"
        elif op == "Elu":
            h = np.where(h > 0, h, 0.5 * (np.exp(h) - 1))
        elif op == "Softplus":
            h = np.log1p(np.exp(h))
        elif op == "PRelu":
            h = np.where(h > 0, h, d(slope) * h)
        else:
            h = sigmoid(h)
    inits.append(init("slope", slope))
    save("activations", model(nodes, inits, [4], 3))
    write_ref("activations", x, softmax(h), "classify")
    # no final activation, 1 output -> regress
    w1, b1, w2, b2 = W(6, 4), W(6), W(1, 6), W(1)
    m = model([N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1), N("Relu", ["h"], ["r"], name="relu"),
               N("Gemm", ["r", "w2", "b2"], ["prediction"], name="fc2", transB=1)],
              [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)], [4], 1)
    save("regress", m)
    write_ref("regress", x, np.maximum(x @ d(w1).T + d(b1), 0) @ d(w2).T + d(b2), "regress")
    # final Sigmoid over 3 outputs -> multilabel; BatchNormalization 1-d after Gemm
    w1, b1, s, b, mu, var = W(3, 4), W(3), W(3), W(3), W(3), rng.uniform(0.5, 2, 3).astype(np.float32)
    m = model([N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
               N("BatchNormalization", ["h", "s", "b", "mu", "var"], ["n"], name="bn", epsilon=1e-5, momentum=0.9),
               N("Sigmoid", ["n"], ["p"], name="sig")],
              [init("w1", w1), init("b1", b1), init("s", s), init("b", b), init("mu", mu), init("var", var)], [4], 3, opset=15)
    save("multilabel_bn", m)
    write_ref("multilabel_bn", x, sigmoid(bn(x @ d(w1).T + d(b1), s, b, mu, var)), "multilabel")


def nabla_case():
    """a file as nabla's exporter writes it (docs/MODEL_FORMAT.md, "ONNX"): the model comes back
    from its metadata's spec and the initializers named as nabla's tensors, the graph is not
    interpreted (its nabla.* nodes included)"""
    x = rng.uniform(-2, 2, (4, 4)).astype(np.float32).astype(np.float64)
    w0, b0, w2, b2 = W(3, 4), W(3), W(2, 3), W(2)
    y = softmax(np.where(x @ d(w0).T + d(b0) > 0, 1, 0.1) * (x @ d(w0).T + d(b0)) @ d(w2).T + d(b2))
    m = model([N("Gemm", ["input", "layers.0.weight", "layers.0.bias"], ["h"], name="layers.0", transB=1),
               N("LeakyRelu", ["h"], ["r"], name="layers.1", alpha=0.1),
               N("Gemm", ["r", "layers.2.weight", "layers.2.bias"], ["logits"], name="layers.2", transB=1),
               N("Softmax", ["logits"], ["probabilities"], name="nabla.output.softmax", axis=1)],
              [init("layers.0.weight", w0), init("layers.0.bias", b0), init("layers.2.weight", w2), init("layers.2.bias", b2)], [4], 2)
    meta = {"nabla.format": "nabla", "nabla.format_version": "1", "nabla.architecture": "dense 3; leaky_relu 0.1; dense 2",
            "nabla.task": "classify", "nabla.input_shape": "[4]"}
    helper.set_model_props(m, meta)
    m.producer_name = "nabla"
    save("nabla_meta", m)
    write_ref("nabla_meta", x, y, "classify")
    del m.graph.initializer[3]
    save("bad_nabla_missing", m)


def cnn_cases():
    x = rng.uniform(-1, 1, (3, 1, 6, 6)).astype(np.float32).astype(np.float64)
    # Conv (pad 1) -> BatchNormalization 2-d -> Relu -> MaxPool 2 -> Conv 2x2 stride 1 ->
    # AveragePool 2 (pad 1, count_include_pad) -> Flatten -> Gemm -> LogSoftmax
    c1, cb1 = W(2, 1, 3, 3), W(2)
    s, b, mu, var = W(2), W(2), W(2), rng.uniform(0.5, 2, 2).astype(np.float32)
    c2, cb2 = W(3, 2, 2, 2), W(3)
    h = conv(x, c1, cb1, 1, 1)
    h = np.maximum(bn(h, s, b, mu, var), 0)
    h = pool(h, 2, 2, 0, np.max)          # 3x3
    h = conv(h, c2, None, 1, 0)           # 2x2
    h = pool(h, 2, 2, 1, np.mean)         # pad 1 -> 4x4 -> 2x2, zeros counted
    h = h.reshape(3, -1)                  # 12
    w, wb = W(2, 12), W(2)
    y = softmax(h @ d(w).T + d(wb))
    m = model([N("Conv", ["input", "c1", "cb1"], ["a"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], group=1),
               N("BatchNormalization", ["a", "s", "b", "mu", "var"], ["bn"], name="bn"), N("Relu", ["bn"], ["r"], name="relu"),
               N("MaxPool", ["r"], ["mp"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
               N("Conv", ["mp", "c2"], ["c"], name="conv2", kernel_shape=[2, 2]),
               N("AveragePool", ["c"], ["ap"], name="avg", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
               N("Flatten", ["ap"], ["f"], name="flat", axis=1), N("Gemm", ["f", "w", "wb"], ["logits"], name="fc", transB=1),
               N("LogSoftmax", ["logits"], ["lp"], name="lsm", axis=1)],
              [init("c1", c1), init("cb1", cb1), init("s", s), init("b", b), init("mu", mu), init("var", var), init("c2", c2), init("w", w), init("wb", wb)],
              [1, 6, 6], 2)
    save("cnn", m)
    write_ref("cnn", x, y, "classify")
    # Conv stride 2 -> Relu -> GlobalAveragePool -> Reshape by a Constant (0, -1) -> Gemm (3)
    c1, cb1 = W(4, 1, 2, 2), W(4)
    w, wb = W(3, 4), W(3)
    h = np.maximum(conv(x, c1, cb1, 2, 0), 0).mean(axis=(2, 3))
    y = softmax(h @ d(w).T + d(wb))
    m = model([N("Conv", ["input", "c1", "cb1"], ["a"], name="conv", strides=[2, 2]), N("Relu", ["a"], ["r"], name="relu"),
               N("GlobalAveragePool", ["r"], ["g"], name="gap"),
               N("Constant", [], ["shape"], name="const", value=init("shape_value", np.array([0, -1]))),
               N("Reshape", ["g", "shape"], ["f"], name="reshape"), N("Gemm", ["f", "w", "wb"], ["logits"], name="fc", transB=1)],
              [init("c1", c1), init("cb1", cb1), init("w", w), init("wb", wb)], [1, 6, 6], 3, opset=7)
    save("cnn_gap_reshape", m)
    write_ref("cnn_gap_reshape", x, y, "classify")


def bad_cases():
    w, b = W(2, 4), W(2)
    fc = lambda *extra: [N("Gemm", ["input", "w", "b"], ["h"], name="fc", transB=1)] + list(extra)
    ok_inits = [init("w", w), init("b", b)]
    save("bad_unknown_op", model(fc(N("Cos", ["h"], ["y"], name="cos0")), ok_inits, [4], 2))
    save("bad_lstm", model(fc(N("LSTM", ["h", "w", "w"], ["y"], name="lstm0")), ok_inits, [4], 2))
    save("bad_group", model([N("Conv", ["input", "c"], ["y"], name="conv", group=2), N("Flatten", ["y"], ["f"], name="fl")],
                            [init("c", W(2, 1, 3, 3))], [2, 5, 5], 18))
    save("bad_epsilon", model(fc(N("BatchNormalization", ["h", "b", "b", "b", "b"], ["y"], name="bn", epsilon=1e-3)), ok_inits, [4], 2))
    save("bad_avgpool_pad", model([N("AveragePool", ["input"], ["y"], name="avg", kernel_shape=[2, 2], pads=[1, 1, 1, 1])], [], [1, 4, 4], 2))
    save("bad_dangling", model([N("Gemm", ["input", "missing_w", "b"], ["h"], name="fc", transB=1)], ok_inits, [4], 2))
    save("bad_cycle", model([N("Relu", ["input"], ["x"], name="a"), N("Relu", ["x"], ["y"], name="b"), N("Relu", ["y"], ["x"], name="c")],
                            [], [4], 4))
    save("bad_domain", model(fc(), ok_inits, [4], 2, opset=1, domain="com.microsoft"))
    save("bad_opset", model(fc(), ok_inits, [4], 2, opset=19))
    ext = init("w", w)
    ext.ClearField("raw_data")
    ext.data_location = TP.EXTERNAL
    e = ext.external_data.add()
    e.key, e.value = "location", "weights.bin"
    save("bad_external", model(fc(), [ext, init("b", b)], [4], 2))
    # dims of 10^9 elements backed by 8 floats: refused before anything is sized from them
    big = init("w", np.zeros((2, 4)))
    big.ClearField("dims")
    big.dims.extend([1000000, 1000])
    save("bad_unbacked", model(fc(), [big, init("b", b)], [4], 2))
    save("bad_branch", model(fc(N("Relu", ["h"], ["r1"], name="r1"), N("Relu", ["h"], ["r2"], name="r2")), ok_inits, [4], 2))
    data = model(fc(), ok_inits, [4], 2).SerializeToString()
    with open(os.path.join(OUT, "bad_truncated.onnx"), "wb") as f:
        f.write(data[:len(data) // 2])


def pad_cases():
    """Pad nodes (as torch.onnx.export writes AvgPool2d, and as other exporters write a conv's
    padding): zeros on H and W folded into the Conv / AveragePool after them; last, so the
    other cases' random numbers stay as they were"""
    x = rng.uniform(-1, 1, (3, 1, 5, 5)).astype(np.float32).astype(np.float64)
    c1, cb1 = W(2, 1, 3, 3), W(2)
    h = np.maximum(conv(x, c1, cb1, 1, 2), 0)   # Pad 1 + Conv pads 1 -> 7x7
    h = pool(h, 2, 2, 1, np.mean)               # Pad 1 (pool pads 0) -> 9x9 -> 4x4
    h = h.reshape(3, -1)                        # 32
    w, wb = W(2, 32), W(2)
    y = softmax(h @ d(w).T + d(wb))
    pads = lambda name: init(name, np.array([0, 0, 1, 1, 0, 0, 1, 1]))
    m = model([N("Pad", ["input", "p1"], ["a"], name="pad1", mode="constant"),
               N("Conv", ["a", "c1", "cb1"], ["b"], name="conv", pads=[1, 1, 1, 1]), N("Relu", ["b"], ["r"], name="relu"),
               N("Pad", ["r", "p2", "zero"], ["pr"], name="pad2"),
               N("AveragePool", ["pr"], ["ap"], name="avg", kernel_shape=[2, 2], strides=[2, 2]),
               N("Flatten", ["ap"], ["f"], name="flat", axis=1), N("Gemm", ["f", "w", "wb"], ["logits"], name="fc", transB=1)],
              [pads("p1"), pads("p2"), init("zero", np.array([0.0])), init("c1", c1), init("cb1", cb1), init("w", w), init("wb", wb)],
              [1, 5, 5], 2)
    save("pad", m)
    write_ref("pad", x, y, "classify")
    # a Pad before a MaxPool pads with zeros where nabla's pool pads with -inf: refused
    save("bad_pad_maxpool", model([N("Pad", ["input", "p"], ["a"], name="pad"),
                                   N("MaxPool", ["a"], ["y"], name="max", kernel_shape=[2, 2]), N("Flatten", ["y"], ["f"], name="fl")],
                                  [pads("p")], [1, 4, 4], 2))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    mlp_cases()
    nabla_case()
    cnn_cases()
    bad_cases()
    pad_cases()
