#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Load a nabla model file into PyTorch and compare predictions with nabla's.

Reads MODEL.safetensors with json + numpy, builds the equivalent torch.nn.Sequential from
the 'architecture' metadata (as a module whose Sequential is called 'layers', so the tensor
names match), loads the state dict strictly, runs the first N rows of the Fashion-MNIST test
set (pixels / 255) and compares the softmax probabilities with `nabla predict --proba`.
Needs python3-torch; it is a manual check, not part of make test.
Usage: /usr/bin/python3 scripts/torch_check_model.py MODEL [NABLA_BINARY] [N]
"""
import gzip
import json
import subprocess
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy())
    return tensors, meta


def size_pair(s):
    a = [int(v) for v in s.split("x")]
    return (a[0], a[-1])


def build(spec, in_shape):
    layers, shape = [], list(in_shape)
    for stmt in spec.split(";"):
        w = stmt.split()
        if not w:
            continue
        kind = w[0]
        opts = {w[i]: w[i + 1] for i in range(2 if kind in ("maxpool", "avgpool") else 3, len(w) - 1, 2)}
        if kind == "dense":
            n_in = int(np.prod(shape))
            if len(shape) > 1:  # nabla's dense flattens image input implicitly
                pass
            layers.append(torch.nn.Linear(n_in, int(w[1]), bias="nobias" not in w))
            shape = [int(w[1])]
        elif kind == "conv":
            k, s, p, d = size_pair(w[2]), size_pair(opts.get("stride", "1")), size_pair(opts.get("pad", "0")), size_pair(opts.get("dilation", "1"))
            conv = torch.nn.Conv2d(shape[0], int(w[1]), k, s, p, d, bias="nobias" not in w)
            layers.append(conv)
            h = (shape[1] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
            wd = (shape[2] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
            shape = [int(w[1]), h, wd]
        elif kind in ("maxpool", "avgpool"):
            k = size_pair(w[1])
            s = size_pair(opts.get("stride", w[1]))
            p = size_pair(opts.get("pad", "0"))
            layers.append((torch.nn.MaxPool2d if kind == "maxpool" else torch.nn.AvgPool2d)(k, s, p))
            shape = [shape[0], (shape[1] + 2 * p[0] - k[0]) // s[0] + 1, (shape[2] + 2 * p[1] - k[1]) // s[1] + 1]
        elif kind == "flatten":
            layers.append(torch.nn.Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "batchnorm":
            layers.append(torch.nn.BatchNorm2d(shape[0]) if len(shape) == 3 else torch.nn.BatchNorm1d(shape[0]))
        elif kind == "dropout":
            layers.append(torch.nn.Dropout(float(w[1])))
        elif kind == "relu":
            layers.append(torch.nn.ReLU())
        elif kind == "tanh":
            layers.append(torch.nn.Tanh())
        elif kind == "sigmoid":
            layers.append(torch.nn.Sigmoid())
        elif kind == "silu":  # canonical text: the alias swish is written back as silu
            layers.append(torch.nn.SiLU())
        elif kind == "embedding":  # a built model's text always says vocab V
            v = int(w[w.index("vocab") + 1])
            layers.append(torch.nn.Embedding(v, int(w[1]), padding_idx=None if "nopad" in w else 0))
            shape = shape + [int(w[1])]
        elif kind in ("rnn", "lstm", "gru"):
            # (T, F), or a one-channel image (1, H, W) as H steps of W features
            t, f = (shape[1], shape[2]) if len(shape) == 3 else (shape[0], shape[1])
            hidden, bidir = int(w[1]), "bidirectional" in w
            cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
            rnn = cls(f, hidden, batch_first=True, bidirectional=bidir)
            rnn.nabla_output = "sequence" if "sequence" in w else "mean" if "mean" in w else "last"
            layers.append(rnn)
            d = 2 if bidir else 1
            shape = [t, d * hidden] if rnn.nabla_output == "sequence" else [d * hidden]
        elif kind == "prelu":
            layers.append(torch.nn.PReLU(int(w[1]) if len(w) > 1 else 1))
        else:
            raise SystemExit(f"torch_check_model: layer '{kind}' not mapped in this script")
    return layers


class Net(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, x):
        lengths = None
        for layer in self.layers:
            if isinstance(layer, torch.nn.Linear) and x.dim() > 2:
                x = x.flatten(1)
            if isinstance(layer, torch.nn.Embedding):  # nabla's ids are whole floats
                x = x.long()
                if layer.padding_idx == 0:  # right-padded: each row's length, for the recurrent layers
                    lengths = ((x != 0).long() * torch.arange(1, x.shape[1] + 1)).max(dim=1).values
            if isinstance(layer, torch.nn.RNNBase):
                x = self.recurrent(layer, x.flatten(1, 2) if x.dim() == 4 else x, lengths)
                continue
            x = layer(x)
        return x

    @staticmethod
    def recurrent(layer, x, lengths):
        """nabla's rnn / lstm / gru: packed by each row's length (all T without an embedding)."""
        n, t = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((n,), t, dtype=torch.long)
        keep = lengths > 0  # a row of length 0 gives zeros (pack refuses it)
        d, h = (2 if layer.bidirectional else 1), layer.hidden_size
        seq, last = torch.zeros(n, t, d * h), torch.zeros(n, d * h)
        if keep.any():
            packed = torch.nn.utils.rnn.pack_padded_sequence(x[keep], lengths[keep], batch_first=True, enforce_sorted=False)
            out, hn = layer(packed)
            hn = hn[0] if isinstance(hn, tuple) else hn
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)
            seq[keep] = out
            last[keep] = torch.cat([hn[k] for k in range(d)], dim=1)
        if layer.nabla_output == "sequence":
            return seq
        if layer.nabla_output == "mean":
            return seq.sum(dim=1) / lengths.clamp(min=1).unsqueeze(1).to(seq.dtype)
        return last


def main():
    path = sys.argv[1]
    nabla = sys.argv[2] if len(sys.argv) > 2 else "build/nabla"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    tensors, meta = read_safetensors(path)
    in_shape = json.loads(meta["input_shape"])
    net = Net(build(meta["architecture"], in_shape))
    missing, unexpected = net.load_state_dict(tensors, strict=True), None
    net.eval()
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, *in_shape)[:n].astype(np.float32) / np.float32(255)
    with torch.no_grad():
        p_torch = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()
    out = subprocess.run([nabla, "predict", "--model", path, "--data", "/usr/share/datasets/fashion-mnist", "--proba"],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    out = out[1:n + 1]  # after the header line of class names
    p_nabla = np.array([[float(v) for v in line.split(",")] for line in out], dtype=np.float32)
    diff = float(np.abs(p_torch - p_nabla).max())
    agree = float((p_torch.argmax(1) == p_nabla.argmax(1)).mean())
    print(f"{path}: {len(tensors)} tensors loaded strictly into torch {torch.__version__}; "
          f"{n} test images: max |p_torch - p_nabla| = {diff:.2e}, same class for {100 * agree:.1f}%")
    sys.exit(0 if diff < 1e-4 and agree == 1.0 else 1)


if __name__ == "__main__":
    main()
