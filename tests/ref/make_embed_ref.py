#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch reference values for nabla's embedding and sequence lengths.

A table (V, D) from a seeded numpy generator is loaded into torch.nn.Embedding(V, D,
padding_idx=0); a batch of right-padded id sequences (N, T), with repeated ids and an
all-padding row, is looked up, an upstream gradient dy is backpropagated, and ids, table, dy,
the output y, the table's gradient dtable and the lengths (1 + the last non-zero position)
are written as text. tests/autograd/test_embed.c rebuilds it with nabla and compares.
Run: /usr/bin/python3 tests/ref/make_embed_ref.py > tests/ref/embed_ref.txt
"""
import numpy as np
import torch

rng = np.random.default_rng(2026)
V, D = 7, 5


def dump(name, x):
    a = x.detach().numpy().astype(np.float32)
    dims = " ".join(str(d) for d in a.shape)
    vals = " ".join(float(v).hex() for v in a.reshape(-1))
    print(f"tensor {name} {a.ndim} {dims} {vals}")


ids = torch.tensor([[3, 1, 3, 6, 0, 0],   # id 3 twice: its gradient rows add
                    [0, 0, 0, 0, 0, 0],   # all padding: length 0
                    [2, 0, 5, 0, 0, 0],   # padding inside a row still counts in the length
                    [4, 4, 4, 1, 2, 6]])  # no padding
emb = torch.nn.Embedding(V, D, padding_idx=0)
with torch.no_grad():
    emb.weight.copy_(torch.tensor(rng.standard_normal((V, D)).astype(np.float32)))
table = emb.weight.detach().clone()
y = emb(ids)
dy = torch.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
y.backward(dy)
nz = (ids != 0).int()
pos = torch.arange(1, ids.shape[1] + 1)
lengths = (nz * pos).max(dim=1).values  # 1 + the last non-zero position, 0 if none

print(f"# embedding references from torch {torch.__version__}; see tests/autograd/test_embed.c")
dump("ids", ids.float())
dump("table", table)
dump("dy", dy)
dump("y", y)
dump("dtable", emb.weight.grad)
dump("lengths", lengths.float())
