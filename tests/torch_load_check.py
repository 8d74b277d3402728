#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torch_load_check.py - manual check (not part of make test; needs PyTorch) that a nabla
safetensors file loads into a torch.nn.Linear state_dict via numpy and computes the same
function. Without FILE it asks the test binary to write its sample model:
    BIN --write-linear FILE   (weight (3, 4) = 0.25 * (4i + j) - 1, bias (3) = [0.5, -0.5, 1.5])

usage: torch_load_check.py [FILE] [--bin build/tests/io/test_safetensors]
                           [--weight NAME] [--bias NAME]
Exit status 0 on success.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_check import load  # noqa: E402


def main(argv):
    path, binary, wname, bname = None, "build/tests/io/test_safetensors", "fc.weight", "fc.bias"
    i = 1
    while i < len(argv):
        if argv[i] in ("--bin", "--weight", "--bias"):
            val = argv[i + 1]
            if argv[i] == "--bin":
                binary = val
            elif argv[i] == "--weight":
                wname = val
            else:
                bname = val
            i += 2
        else:
            path = argv[i]
            i += 1
    tmp = None
    sample = path is None
    if sample:
        tmp = tempfile.mkdtemp(prefix="nb_torch_")
        path = os.path.join(tmp, "linear.safetensors")
        subprocess.run([binary, "--write-linear", path], check=True)
    try:
        problems = []
        tensors, _ = load(path, problems)
        if problems:
            print("\n".join(problems))
            return 1
        w, b = tensors[wname], tensors[bname]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        lin.load_state_dict({"weight": torch.from_numpy(w.copy()),
                             "bias": torch.from_numpy(b.copy())})
        x = np.random.default_rng(0).standard_normal((5, w.shape[1])).astype(np.float32)
        y_torch = lin(torch.from_numpy(x)).detach().numpy()
        y_np = x @ w.T + b
        ok = np.allclose(y_torch, y_np, rtol=1e-6, atol=1e-6)
        if sample:
            want_w = (0.25 * np.arange(12, dtype=np.float32) - 1).reshape(3, 4)
            ok = ok and np.array_equal(w, want_w) and np.array_equal(
                b, np.array([0.5, -0.5, 1.5], dtype=np.float32))
        print("torch.nn.Linear(%d, %d) loaded from %s: %s"
              % (w.shape[1], w.shape[0], path, "ok" if ok else "MISMATCH"))
        return 0 if ok else 1
    finally:
        if tmp:
            for f in os.listdir(tmp):
                os.remove(os.path.join(tmp, f))
            os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
