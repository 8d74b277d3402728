#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ONNX files written by PyTorch's torch.onnx.export, for nabla's ONNX importer
(tests/onnx/test_torch_onnx.sh, tests/nn/test_onnx_torch.c). Never run by `make test`: its
outputs are committed under tests/onnx/torch/ (each .onnx a few KB).

Each model is an nn.Sequential of layers nabla has, trained a few steps on random data in train
mode (so the weights and the batch-norm running statistics are not their initial values),
switched to eval mode and exported with a dynamic batch axis: input "input" (batch, sample
shape...), output "logits" (or "probabilities" for the model ending in nn.Softmax). Per model NAME:
  NAME.onnx              the exported graph
  NAME.csv               the input rows (header f0..fN-1,y; values %.9g, so float32 exactly) and
                         a label column y holding every class at least once (eval reads it;
                         predict, through a model without a schema, takes the last column as the
                         label and ignores it)
  NAME_proba.txt         PyTorch's eval-mode softmax probabilities (%.9g), one row per input row
  NAME_metrics.txt       "loss L" (mean cross-entropy against y) and "accuracy A" (%.9g)
The C test reads NAME.csv and NAME_proba.txt too (%.9g gives the float32 values back exactly).
torch_mlp_opset17.onnx and torch_mlp_softmax.onnx are the MLP of torch_mlp.onnx (opset 17; with a
final nn.Softmax): they use torch_mlp's data and probabilities.
The CNN's images also go as IDX files (float32 images, type 0x0D; unsigned byte labels):
  torch_cnn-images-idx3-ubyte, torch_cnn-labels-idx1-ubyte  (nabla's idx:PREFIX form)
Refusals: torch_upsample.onnx (a CNN with nn.Upsample: ONNX "Resize", which nabla lacks) and
torch_gelu.onnx (an MLP with nn.GELU, which opset 13 writes as Div, Erf, Add, Mul).
Run: /usr/bin/python3 tests/onnx/make_torch_fixtures.py   (from the repository root)
"""
import os
import struct

import numpy as np
import onnx
import torch
import torch.nn as nn

OUT = "tests/onnx/torch/"
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(18)
rng = np.random.default_rng(18)


def train_a_little(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(15):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()


def export(model, x, name, opset=13, out_name="logits"):
    path = OUT + name + ".onnx"
    torch.onnx.export(model, x[:2], path, input_names=["input"], output_names=[out_name],
                      dynamic_axes={"input": {0: "batch"}, out_name: {0: "batch"}},
                      opset_version=opset, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    size = os.path.getsize(path)
    assert size < 200 * 1024, (path, size)
    print(f"{path}: opset {opset}, {size} bytes, ops {sorted({n.op_type for n in m.graph.node})}")


def labels_for(n, k):
    """every class at least once (so a dataset learned from the file has k classes)"""
    return rng.permutation(np.arange(n) % k)


def write_data(name, model, x, y):
    n = x.shape[0]
    flat = x.reshape(n, -1).numpy()
    with open(OUT + name + ".csv", "w") as fh:
        fh.write(",".join([f"f{j}" for j in range(flat.shape[1])] + ["y"]) + "\n")
        for i in range(n):
            fh.write(",".join(["%.9g" % v for v in flat[i]] + [str(int(y[i]))]) + "\n")
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)
    p = p.numpy()
    with open(OUT + name + "_proba.txt", "w") as fh:
        for row in p:
            fh.write(",".join("%.9g" % v for v in row) + "\n")
    # the loss in double from float32 probabilities, as a reference for `nabla eval`
    loss = -np.mean(np.log(p[np.arange(n), y].astype(np.float64)))
    acc = np.mean(np.argmax(p, axis=1) == y)
    with open(OUT + name + "_metrics.txt", "w") as fh:
        fh.write("loss %.9g\naccuracy %.9g\n" % (loss, acc))


def write_idx(prefix, images, labels):
    n, c, h, w = images.shape
    assert c == 1
    with open(prefix + "-images-idx3-ubyte", "wb") as fh:
        fh.write(bytes([0, 0, 0x0D, 3]) + struct.pack(">III", n, h, w))
        fh.write(images.astype(">f4").tobytes())
    with open(prefix + "-labels-idx1-ubyte", "wb") as fh:
        fh.write(bytes([0, 0, 0x08, 1]) + struct.pack(">I", n) + labels.astype(np.uint8).tobytes())


# (a) MLP, 20 features, 3 classes (Gemm, Relu, Tanh; eval-mode export drops the Dropout)
N = 24
x = torch.tensor(rng.standard_normal((N, 20)).astype(np.float32))
y = labels_for(N, 3)
mlp = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Dropout(0.2),
                    nn.Linear(16, 3))
train_a_little(mlp, x, torch.tensor(y))
export(mlp, x, "torch_mlp")
write_data("torch_mlp", mlp, x, y)
export(mlp, x, "torch_mlp_opset17", opset=17)

# the same MLP ending in nn.Softmax(dim=1): its output already is the probabilities
mlp_sm = nn.Sequential(*mlp, nn.Softmax(dim=1)).eval()
export(mlp_sm, x, "torch_mlp_softmax", out_name="probabilities")
with torch.no_grad():  # its output is the probabilities torch_mlp_proba.txt holds
    assert torch.allclose(mlp_sm(x), torch.softmax(mlp(x), dim=1), rtol=0, atol=1e-7)

# an MLP with BatchNorm1d (torch folds batch norm into a preceding Conv, not into a Linear, so
# this one keeps a BatchNormalization node) and LeakyReLU, Sigmoid, Softplus
x6 = torch.tensor(rng.standard_normal((N, 6)).astype(np.float32) * 2 + 1)
y6 = labels_for(N, 4)
mlp_bn = nn.Sequential(nn.Linear(6, 12), nn.BatchNorm1d(12), nn.LeakyReLU(0.05), nn.Linear(12, 8),
                       nn.Sigmoid(), nn.Linear(8, 8), nn.Softplus(), nn.Linear(8, 4))
train_a_little(mlp_bn, x6, torch.tensor(y6))
export(mlp_bn, x6, "torch_mlp_bn")
write_data("torch_mlp_bn", mlp_bn, x6, y6)

# (b) CNN on 1x14x14 images in [0, 1], 10 classes: 4x14x14 -> pool 4x7x7 -> conv 8x5x5 ->
# pool 8x2x2 -> 32 features. torch's eval-mode export folds BatchNorm2d into the first Conv.
xc = torch.tensor(rng.random((N, 1, 14, 14)).astype(np.float32))
yc = labels_for(N, 10)
cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(4, 8, 3), nn.ELU(), nn.AvgPool2d(2), nn.Flatten(),
                    nn.Linear(8 * 2 * 2, 16), nn.LeakyReLU(0.1), nn.Linear(16, 10))
train_a_little(cnn, xc, torch.tensor(yc))
export(cnn, xc, "torch_cnn")
write_data("torch_cnn", cnn, xc, yc)
write_idx(OUT + "torch_cnn", xc.numpy(), yc)

# refusals: operators nabla does not have
up = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2), nn.Flatten(),
                   nn.Linear(2 * 28 * 28, 3)).eval()
export(up, xc, "torch_upsample")
gelu = nn.Sequential(nn.Linear(20, 8), nn.GELU(), nn.Linear(8, 3)).eval()
export(gelu, x, "torch_gelu")
