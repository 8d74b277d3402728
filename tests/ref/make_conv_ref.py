#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch reference values for nabla's conv2d and pooling, forward and backward.

Each case draws x (and w, b) and an upstream gradient dy from a seeded numpy generator,
runs torch.nn.functional.conv2d / max_pool2d / avg_pool2d, backpropagates dy, and writes
inputs and results as text. tests/autograd/test_conv_ref.c rebuilds each case with nabla and compares.
Run: /usr/bin/python3 tests/ref/make_conv_ref.py > tests/ref/conv_ref.txt
"""
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(2026)


def t(shape):
    return torch.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)


def dump(name, x):
    a = x.detach().numpy().astype(np.float32)
    dims = " ".join(str(d) for d in a.shape)
    vals = " ".join(float(v).hex() for v in a.reshape(-1))
    print(f"tensor {name} {a.ndim} {dims} {vals}")


# name, op, x shape, w shape (conv), bias, kernel (pool), stride, pad, dilation
cases = [
    ("conv_3x3_pad1", "conv", (2, 3, 6, 6), (4, 3, 3, 3), True, None, (1, 1), (1, 1), (1, 1)),
    ("conv_2x3_stride2", "conv", (2, 2, 7, 8), (3, 2, 2, 3), True, None, (2, 2), (0, 1), (1, 1)),
    ("conv_dilated", "conv", (1, 2, 9, 7), (2, 2, 3, 2), False, None, (1, 2), (2, 1), (2, 2)),
    ("maxpool_2x2", "max", (2, 3, 6, 6), None, False, (2, 2), (2, 2), (0, 0), (1, 1)),
    ("maxpool_3x3_s2_p1", "max", (2, 2, 7, 5), None, False, (3, 3), (2, 2), (1, 1), (1, 1)),
    ("avgpool_3x2_s1_p1", "avg", (1, 2, 5, 6), None, False, (3, 2), (1, 1), (1, 1), (1, 1)),
]
print(f"# conv / pooling references from torch {torch.__version__}; see tests/autograd/test_conv_ref.c")
for name, op, xs, ws, bias, k, s, p, d in cases:
    x = t(xs)
    w = t(ws) if ws else None
    b = t((ws[0],)) if bias else None
    if op == "conv":
        y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
        kh, kw = ws[2], ws[3]
    elif op == "max":
        y = F.max_pool2d(x, k, stride=s, padding=p)
        kh, kw = k
    else:
        y = F.avg_pool2d(x, k, stride=s, padding=p)
        kh, kw = k
    dy = torch.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
    y.backward(dy)
    print(f"case {name} {op} {kh} {kw} {s[0]} {s[1]} {p[0]} {p[1]} {d[0]} {d[1]} {int(bias)}")
    dump("x", x)
    if w is not None:
        dump("w", w)
    if b is not None:
        dump("b", b)
    dump("dy", dy)
    dump("y", y)
    dump("dx", x.grad)
    if w is not None:
        dump("dw", w.grad)
    if b is not None:
        dump("db", b.grad)
