#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reference per-step losses of the reference MLP recipe, computed by PyTorch.

784 -> 256 ReLU -> 128 ReLU -> 10, softmax cross-entropy, SGD lr 0.05 momentum 0.9, batch 64,
pixels / 255, on the first 640 Fashion-MNIST training images in file order (10 steps, no
shuffling). The initial weights are nabla's NB_INIT_TORCH with seed 1, regenerated here from
the published definition of nabla's generator (xoshiro256** seeded by splitmix64; uniform =
(x >> 40) * 2^-24; w = a * (2u - 1) with a = 1 / sqrt(fan_in), drawn weight then bias, layer
by layer), so PyTorch and nabla start from the same bits. Writes tests/ref/mlp_steps.txt:
the sum of the initial weights, then one loss per step.
Run: /usr/bin/python3 tests/ref/make_mlp_ref.py > tests/ref/mlp_steps.txt
"""
import gzip
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_rng_golden import Xoshiro  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def uniform_tensor(rng, shape, a):
    n = int(np.prod(shape))
    u = np.array([(rng.next() >> 40) for _ in range(n)], dtype=np.float64) * 2.0**-24
    u = u.astype(np.float32)
    w = np.float32(a) * (np.float32(2.0) * u - np.float32(1.0))
    return torch.from_numpy(w.astype(np.float32).reshape(shape))


def main():
    torch.set_num_threads(1)
    x = idx(f"{DATA}/train-images-idx3-ubyte.gz")[:640].reshape(640, 784)
    y = idx(f"{DATA}/train-labels-idx1-ubyte.gz")[:640]
    x = torch.from_numpy(x.astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(y.astype(np.int64))
    layers = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                 torch.nn.Linear(128, 10))
    rng = Xoshiro(1)
    total = 0.0
    with torch.no_grad():
        for lin in (layers[0], layers[2], layers[4]):
            a = np.float32(1.0) / np.sqrt(np.float32(lin.in_features))
            lin.weight.copy_(uniform_tensor(rng, tuple(lin.weight.shape), a))
            lin.bias.copy_(uniform_tensor(rng, tuple(lin.bias.shape), a))
            total += float(lin.weight.double().sum()) + float(lin.bias.double().sum())
    opt = torch.optim.SGD(layers.parameters(), lr=0.05, momentum=0.9)
    print(f"# initial weight sum, then the loss of each of 10 steps (torch {torch.__version__})")
    print(f"{total:.9g}")
    for step in range(10):
        xb, yb = x[step * 64:(step + 1) * 64], y[step * 64:(step + 1) * 64]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(layers(xb), yb)
        loss.backward()
        opt.step()
        print(f"{loss.item():.9g}")


if __name__ == "__main__":
    main()
