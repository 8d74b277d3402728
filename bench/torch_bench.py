#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torch_bench.py - PyTorch's side of `make bench`: the same subcommands, recipes, data,
warm-up and output line as bench/nb_bench.c ("NAME VALUE UNIT key=value ...", the last key
peak_rss_kb, this process's peak resident memory at the end). bench/run.sh runs both.

usage: torch_bench.py CMD [--threads N] [--data DIR] [--words DIR] [--rows N] [--steps N]
                          [--batches N] [--init FILE]
  CMD: mlp-epoch cnn-epoch lstm-epoch words-epoch mlp-infer cnn-infer lstm-infer tiny logreg
       mlp-check cnn-check
words-epoch is bench/torch_words.py's recipe, with its code (imported, one copy).
The OpenBLAS thread count is chosen by the caller through OPENBLAS_NUM_THREADS (it must be
set before the library loads); torch's own intra-op thread count is --threads.
"""
import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import torch_words  # bench/torch_words.py, next to this file (sys.path[0])

BATCH = 64
INFER_BATCH = 1000
CHECK_STEPS = 10


def now():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(data, split, kind):
    """All images of a split as float32 pixel / 255, the whole set in memory (PyTorch's idiom;
    nabla keeps the bytes and turns each batch into the same floats, see bench/README.md)."""
    prefix = "train" if split == "train" else "t10k"
    x = idx(f"{data}/{prefix}-images-idx3-ubyte.gz")
    y = idx(f"{data}/{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(x.astype(np.float32) / np.float32(255.0))
    # the CNN: (1, 28, 28) images; the LSTM: 28 steps (rows) of 28 features; the MLP: 784
    x = x.reshape(-1, 1, 28, 28) if kind == 1 else x.reshape(-1, 28, 28) if kind == 2 else x.reshape(-1, 784)
    return x, torch.from_numpy(y.astype(np.int64))


class FashionLSTM(torch.nn.Module):
    """nabla's `lstm 128; dense 10` on (28, 28) samples: the last step's hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(28, 128, batch_first=True)
        self.dense = torch.nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.dense(h[-1])


def reference_model(kind):
    if kind == 2:
        return FashionLSTM()
    if kind == 1:
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10))
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 128), torch.nn.ReLU(),
                               torch.nn.Linear(128, 10))


def reference_optim(kind, model):
    if kind:
        return torch.optim.Adam(model.parameters(), lr=1e-3)
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train_step(model, opt, loss_fn, xb, yb):
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
    return loss.item()


def loss_ends(losses):
    k = max(1, len(losses) // 10)
    return sum(losses[:k]) / k, sum(losses[-k:]) / k


def print_train(name, value, unit, losses, rows, secs):
    first, last = loss_ends(losses)
    print(f"{name} {value:.6g} {unit} steps={len(losses)} rows={rows} measured_s={secs:.4f} "
          f"loss_first={first:.6g} loss_last={last:.6g} torch={torch.__version__} "
          f"peak_rss_kb={peak_rss_kb()}")


def cmd_epoch(a, kind):
    x, y = load_fashion(a.data, "train", kind)
    full = len(x)
    rows = a.rows if 0 < a.rows < full else full
    x, y = x[:rows], y[:rows]
    torch.manual_seed(1)
    model = reference_model(kind)
    opt = reference_optim(kind, model)
    model.train()
    train_step(model, opt, F.cross_entropy, x[:BATCH], y[:BATCH])  # warm-up
    losses = []
    t0 = now()
    perm = torch.randperm(rows)
    for first in range(0, rows, BATCH):
        sel = perm[first:first + BATCH]
        losses.append(train_step(model, opt, F.cross_entropy, x[sel], y[sel]))
    secs = now() - t0
    print_train(a.cmd, secs * full / rows, "s/epoch", losses, rows, secs)


def cmd_words(a):
    """words-epoch: torch_words.py's recipe, one epoch (or its first --rows words, the time scaled
    to the whole file); the same output keys as nb_bench's line."""
    words, langs = torch_words.read_csv(f"{a.words}/train.csv")
    vocab = torch_words.vocabulary(words)
    classes = sorted(set(langs))
    cls = {c: i for i, c in enumerate(classes)}
    ids, lengths = torch_words.encode(words, vocab)
    y = torch.tensor([cls[c] for c in langs])
    full = len(y)
    rows = a.rows if 0 < a.rows < full else full
    ids, lengths, y = ids[:rows], lengths[:rows], y[:rows]
    torch.manual_seed(1)
    model = torch_words.WordLang(len(vocab) + 2, len(classes))
    opt = torch.optim.Adam(model.parameters(), lr=torch_words.LR)
    model.train()

    def step(sel):
        x, l = torch_words.batch(ids, lengths, sel)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x, l), y[sel])
        loss.backward()
        opt.step()
        return loss.item()

    step(torch.arange(min(BATCH, rows)))  # warm-up
    losses = []
    t0 = now()
    perm = torch.randperm(rows)
    for first in range(0, rows, BATCH):
        losses.append(step(perm[first:first + BATCH]))
    secs = now() - t0
    lo, hi = loss_ends(losses)
    print(f"{a.cmd} {secs * full / rows:.6g} s/epoch steps={len(losses)} rows={rows} epoch_rows={full} "
          f"mean_len={float(lengths.float().mean()):.4f} max_len={ids.shape[1]} vocab={len(vocab) + 2} "
          f"measured_s={secs:.4f} loss_first={lo:.6g} loss_last={hi:.6g} torch={torch.__version__} "
          f"peak_rss_kb={peak_rss_kb()}")


def cmd_infer(a, kind):
    # one forward per batch of INFER_BATCH rows; nabla's side calls nb_model_predict per batch
    x, _ = load_fashion(a.data, "test", kind)
    torch.manual_seed(1)
    model = reference_model(kind)
    model.eval()
    nb = len(x) // INFER_BATCH
    with torch.inference_mode():
        p = torch.softmax(model(x[:INFER_BATCH]), dim=1)  # warm-up
        t0 = now()
        for b in range(a.batches):
            first = (b % nb) * INFER_BATCH
            p = torch.softmax(model(x[first:first + INFER_BATCH]), dim=1)
        secs = now() - t0
    print(f"{a.cmd} {a.batches * INFER_BATCH / secs:.6g} samples/s batch={INFER_BATCH} "
          f"batches={a.batches} measured_s={secs:.4f} prob_row_sum={float(p[0].sum()):.6f} "
          f"torch={torch.__version__} peak_rss_kb={peak_rss_kb()}")


def batch1_steps(a, model, loss_fn, x, y, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    train_step(model, opt, loss_fn, x[:1], y[:1])  # warm-up
    losses = []
    t0 = now()
    for i in torch.randperm(len(x)).tolist():
        losses.append(train_step(model, opt, loss_fn, x[i:i + 1], y[i:i + 1]))
    secs = now() - t0
    print_train(a.cmd, len(losses) / secs, "steps/s", losses, len(x), secs)


def cmd_tiny(a):
    i = np.arange(a.steps, dtype=np.int64)  # the same integer formula as nb_bench.c
    x0 = ((i * 37) % 101).astype(np.float32) / np.float32(50) - np.float32(1)
    x1 = ((i * 53) % 97).astype(np.float32) / np.float32(48) - np.float32(1)
    x = torch.from_numpy(np.stack([x0, x1], axis=1))
    y = torch.from_numpy((x0 > x1).astype(np.float32).reshape(-1, 1))
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1))
    batch1_steps(a, model, F.binary_cross_entropy_with_logits, x, y, 0.5)


def cmd_logreg(a):
    x, y = load_fashion(a.data, "train", False)
    x, y = x[:a.steps], y[:a.steps]
    torch.manual_seed(1)
    batch1_steps(a, torch.nn.Linear(784, 10), F.cross_entropy, x, y, 0.01)


def read_safetensors(path):
    """{name: float32 tensor} of an F32 safetensors file (json + numpy, as nabla writes it)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {e['dtype']}")
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[8 + n + b: 8 + n + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def cmd_check(a, kind):
    if not a.init:
        sys.exit(f"torch_bench {a.cmd}: --init FILE is required")
    x, y = load_fashion(a.data, "train", kind)
    model = reference_model(kind)
    # nabla names a tensor "layers.N.weight"; nn.Sequential's state_dict calls it "N.weight"
    state = {k[len("layers."):]: v for k, v in read_safetensors(a.init).items()}
    model.load_state_dict(state, strict=True)
    opt = reference_optim(kind, model)
    losses = [train_step(model, opt, F.cross_entropy, x[s * BATCH:(s + 1) * BATCH],
                         y[s * BATCH:(s + 1) * BATCH]) for s in range(CHECK_STEPS)]
    print(f"{a.cmd} {len(losses)} steps losses=" + ",".join(f"{v:.9g}" for v in losses) +
          f" torch={torch.__version__} peak_rss_kb={peak_rss_kb()}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["mlp-epoch", "cnn-epoch", "lstm-epoch", "words-epoch", "mlp-infer",
                                   "cnn-infer", "lstm-infer", "tiny", "logreg", "mlp-check", "cnn-check"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--words", default="build/words", help="words-epoch: the directory of `make words`")
    p.add_argument("--rows", type=int, default=0)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--init")
    a = p.parse_args()
    torch.set_num_threads(max(1, a.threads))
    torch.set_num_interop_threads(1)  # no inter-op parallelism in these eager loops
    kind = 1 if a.cmd.startswith("cnn") else 2 if a.cmd.startswith("lstm") else 0  # the model kind
    if a.cmd == "words-epoch":
        cmd_words(a)
    elif a.cmd.endswith("-epoch"):
        cmd_epoch(a, kind)
    elif a.cmd.endswith("-infer"):
        cmd_infer(a, kind)
    elif a.cmd.endswith("-check"):
        cmd_check(a, kind)
    elif a.cmd == "tiny":
        cmd_tiny(a)
    else:
        cmd_logreg(a)


if __name__ == "__main__":
    main()
