#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch references for whole recurrent models (tests/nn/test_rnn_model.c).

Two models over right-padded token ids (0 = padding), each held as the attribute `layers` (a
ModuleList) so the state_dict names are nabla's (layers.0.weight, layers.1.weight_ih_l0, ...):
  lstm: nn.Embedding(V, 8, padding_idx=0) + nn.LSTM(8, 16, batch_first=True) + nn.Linear(16, 3)
  gru:  nn.Embedding(V, 8, padding_idx=0) + nn.GRU(8, 16, batch_first=True, bidirectional=True)
        + nn.Linear(32, 3)
The recurrent layer runs packed (pack_padded_sequence, enforce_sorted=False, each row's length
1 + the position of its last non-zero id) and hands on its last state h_n ([fwd, rev] when
bidirectional). Biases are moved off their initial values and the output weights scaled by 6, so every tensor
matters and the probabilities are far from uniform. Writes
  tests/ref/rnn_model_<name>.safetensors  the state_dict (by hand: this torch has no
                                          safetensors package)
  tests/ref/rnn_model_ref.txt             the ids, then per model its softmax probabilities
                                          (lines "ids N T v..." and "proba <name> N C v...", hex floats)
Run: /usr/bin/python3 tests/ref/make_rnn_model_ref.py   (from the repository root)
"""
import json
import struct

import numpy as np
import torch
import torch.nn as nn

OUT = "tests/ref/"
V = 11
torch.manual_seed(15)


class Net(nn.Module):
    def __init__(self, rnn, out):
        super().__init__()
        self.layers = nn.ModuleList([nn.Embedding(V, 8, padding_idx=0), rnn, nn.Linear(out, 3)])

    def forward(self, ids):
        nz = (ids != 0).long()
        lengths = (nz * torch.arange(1, ids.shape[1] + 1)).max(dim=1).values
        x = self.layers[0](ids)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.layers[1](packed)
        if isinstance(h, tuple):  # LSTM: (h_n, c_n)
            h = h[0]
        h = torch.cat([h[d] for d in range(h.shape[0])], dim=1)  # (B, D H): [fwd, rev]
        return self.layers[2](h)


def save_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for name, t in sd.items():
        b = t.detach().cpu().numpy().astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def hexes(a):
    return " ".join(float(v).hex() for v in a.reshape(-1))


ids = torch.tensor([[3, 1, 4, 1, 5, 9, 2],   # no padding
                    [2, 7, 0, 0, 0, 0, 0],   # length 2
                    [6, 0, 10, 0, 0, 0, 0],  # padding inside a row counts: length 3
                    [8, 0, 0, 0, 0, 0, 0],   # length 1
                    [5, 5, 5, 5, 3, 0, 0]])  # length 5
lines = ["ids %d %d %s" % (ids.shape[0], ids.shape[1], hexes(ids.numpy().astype(np.float32)))]
models = {
    "lstm": Net(nn.LSTM(8, 16, batch_first=True), 16),
    "gru": Net(nn.GRU(8, 16, batch_first=True, bidirectional=True), 32),
}
for name, net in models.items():
    with torch.no_grad():
        for pname, p in net.named_parameters():
            if "bias" in pname:
                p.add_(0.1 * torch.randn_like(p))
        net.layers[2].weight.mul_(6.0)  # confident probabilities: every input matters
    net.eval()
    save_safetensors(OUT + f"rnn_model_{name}.safetensors", net.state_dict())
    with torch.no_grad():
        p = torch.softmax(net(ids), dim=1).numpy()
    lines.append("proba %s %d %d %s" % (name, p.shape[0], p.shape[1], hexes(p)))
with open(OUT + "rnn_model_ref.txt", "w") as f:
    f.write("\n".join(lines) + "\n")
