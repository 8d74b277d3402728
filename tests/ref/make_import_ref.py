#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch references for `nabla import` (tests/cli/test_import.sh).

Builds two small nn.Sequential models (as the attribute `layers` of a module, so the state_dict
names are nabla's: layers.<i>.weight), trains each a few steps in train mode (so the weights
and the batch-norm running statistics are not their initial values), switches to eval mode and
writes, per model, under tests/ref/:
  import_<name>.safetensors  the state_dict (written by hand: 8-byte little-endian header length,
                             JSON header, raw data; this torch has no safetensors package)
  import_<name>.csv          the raw input rows with a label column y (header line)
  import_<name>_proba.txt    PyTorch's eval-mode softmax probabilities, one row per input row
The inputs are scaled as `nabla import` is told to: mlp with --scale-mean/--scale-std
constants, cnn with --scale unit (pixels / 255).
Run: /usr/bin/python3 tests/ref/make_import_ref.py   (from the repository root)
"""
import json
import struct

import numpy as np
import torch
import torch.nn as nn

OUT = "tests/ref/"
torch.manual_seed(13)
rng = np.random.default_rng(13)


class Net(nn.Module):
    """nabla's tensor names are those of an nn.Sequential held as the attribute `layers`."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def save_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for name, t in sd.items():
        a = t.detach().cpu().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def train_a_little(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()


def write(name, model, raw, xin, y, fmt):
    save_safetensors(OUT + f"import_{name}.safetensors", model.state_dict())
    n, f = raw.shape
    with open(OUT + f"import_{name}.csv", "w") as fh:
        fh.write(",".join([f"f{j}" for j in range(f)] + ["y"]) + "\n")
        for i in range(n):
            fh.write(",".join([fmt % v for v in raw[i]] + [str(int(y[i]))]) + "\n")
    with torch.no_grad():
        p = torch.softmax(model(xin), dim=1).numpy()
    with open(OUT + f"import_{name}_proba.txt", "w") as fh:
        for row in p:
            fh.write(",".join("%.9g" % v for v in row) + "\n")


# MLP: 6 features, BatchNorm1d and dropout, 3 classes; inputs standardised with constants
mean = np.array([1.0, -2.0, 0.5, 3.0, 0.0, 10.0], dtype=np.float32)
std = np.array([2.0, 0.5, 1.0, 4.0, 1.5, 5.0], dtype=np.float32)
raw = (rng.standard_normal((24, 6)) * std + mean).round(3).astype(np.float32)
y = rng.integers(0, 3, 24)
mlp = Net(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))
xin = (torch.tensor(raw) - torch.tensor(mean)) / torch.tensor(std)
train_a_little(mlp, xin, torch.tensor(y))
write("mlp", mlp, raw, xin, y, "%.3f")

# CNN: 1x6x6 byte pixels, conv + BatchNorm2d + max pool, 4 classes; inputs / 255
raw = rng.integers(0, 256, (16, 36)).astype(np.float32)
y = rng.integers(0, 4, 16)
cnn = Net(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(27, 4))
xin = torch.tensor(raw).reshape(-1, 1, 6, 6) / 255.0
train_a_little(cnn, xin, torch.tensor(y))
write("cnn", cnn, raw, xin, y, "%.0f")
