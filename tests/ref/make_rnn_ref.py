#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch reference values for nabla's fused recurrent operator (nb_rnn), forward and backward.

Each case builds torch.nn.RNN / LSTM / GRU (batch_first=True, one or two directions) with
seeded weights, runs a batch of variable-length rows through pack_padded_sequence
(enforce_sorted=False), forms nabla's output (SEQUENCE: the padded output; LAST: h_n as
[fwd, rev]; MEAN: the mean over each row's valid steps), backpropagates an upstream
gradient dy (the loss sum(y * dy)), and writes inputs and results as text (hex floats).
tests/autograd/test_rnn.c rebuilds each case with nabla and compares.
PyTorch refuses length 0, so lengths here are in [1, T]; test_rnn.c's own double-precision
checks cover length 0.
Run: /usr/bin/python3 tests/ref/make_rnn_ref.py > tests/ref/rnn_ref.txt
"""
import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

rng = np.random.default_rng(1515)
B, T, F, H = 3, 5, 3, 4
LENGTHS = [5, 2, 3]  # unsorted, one full row


def hexf(v):
    """a float32 as a short C99 hex float: float.hex without the mantissa's trailing zeros"""
    h = float(v).hex()
    m, e = h.split("p")
    return (m.rstrip("0").rstrip(".") if "." in m else m) + "p" + e


def dump(name, x):
    a = x.detach().numpy().astype(np.float32)
    dims = " ".join(str(d) for d in a.shape)
    vals = " ".join(hexf(v) for v in a.reshape(-1))
    print(f"tensor {name} {a.ndim} {dims} {vals}")


print(f"# nb_rnn references from torch {torch.__version__}; see tests/autograd/test_rnn.c")
for cell, cls in (("tanh", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
    for bidir in (0, 1):
        for output in ("last", "sequence", "mean"):
            torch.manual_seed(int(rng.integers(1 << 30)))
            m = cls(F, H, batch_first=True, bidirectional=bool(bidir))
            with torch.no_grad():  # wider weights than the default init, so gates saturate somewhat
                for p in m.parameters():
                    p.copy_(torch.tensor(rng.uniform(-0.8, 0.8, tuple(p.shape)).astype(np.float32)))
            x = torch.tensor(rng.standard_normal((B, T, F)).astype(np.float32), requires_grad=True)
            lengths = torch.tensor(LENGTHS)
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, hn = m(packed)
            if cell == "lstm":
                hn = hn[0]
            seq, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
            if output == "sequence":
                y = seq
            elif output == "last":
                y = hn.permute(1, 0, 2).reshape(B, -1)
            else:
                y = seq.sum(1) / lengths.to(torch.float32).unsqueeze(1)
            dy = torch.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
            y.backward(dy)
            print(f"case {cell}_{'bi' if bidir else 'uni'}_{output} {cell} {bidir} {output} {B} {T} {F} {H}")
            print("lengths " + " ".join(str(v) for v in LENGTHS))
            dump("x", x)
            names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            if bidir:
                names += [n + "_reverse" for n in names]
            params = dict(m.named_parameters())
            for n in names:
                dump("p", params[n])
            dump("dy", dy)
            dump("y", y)
            dump("dx", x.grad)
            for n in names:
                dump("dp", params[n].grad)
