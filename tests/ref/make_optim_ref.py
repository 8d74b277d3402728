#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate tests/ref/optim_ref.txt: reference runs of torch.optim for tests/optim/test_optim.c.

Run from the repository root:  /usr/bin/python3 tests/ref/make_optim_ref.py
Each case runs one optimizer (with L2, clipping, schedules) for a few steps on a fixed
7-element float32 parameter vector. The gradient at step k is computed from the current
parameters in float32 exactly as the C test computes it:
    g[j] = (w[j] * 2 - 1) + (0.125 * ((k + j) % 5) - 0.25)
Hyper-parameters are rounded to float32 first, because nabla's config holds floats; PyTorch
then sees the same numbers. Values are written with 9 significant digits, which round-trip
float32 exactly. make test only reads the output; it never needs PyTorch.
"""
import math
import os
import struct
import sys

import torch

N = 7
INIT = [0.5, -1.25, 2.0, 0.1, -0.3, 1.5, -2.0]


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def fmt(x):
    return "%.9g" % x


def offsets(k):
    return torch.tensor([0.125 * ((k + j) % 5) - 0.25 for j in range(N)], dtype=torch.float32)


# name, type, settings (defaults below), steps
DEFAULTS = dict(lr=0.01, momentum=0.0, l2=0.0, weight_decay=0.0, beta1=0.9, beta2=0.999,
                eps=1e-8, rms_alpha=0.99, clip_norm=0.0, schedule="constant", step_epochs=0,
                gamma=0.1, total_epochs=0, min_lr=0.0)
CASES = [
    ("sgd", "sgd", dict(lr=0.1), 5),
    ("sgd_l2_clip", "sgd", dict(lr=0.1, l2=0.01, clip_norm=1.0), 5),
    ("sgd_clip_inactive", "sgd", dict(lr=0.1, clip_norm=100.0), 5),
    ("momentum", "momentum", dict(lr=0.05, momentum=0.9), 5),
    ("momentum_l2", "momentum", dict(lr=0.05, momentum=0.8, l2=0.05), 5),
    ("nesterov", "nesterov", dict(lr=0.05, momentum=0.9), 5),
    ("nesterov_l2_clip", "nesterov", dict(lr=0.05, momentum=0.9, l2=0.01, clip_norm=2.0), 5),
    ("adam", "adam", dict(lr=0.01), 5),
    ("adam_l2_clip", "adam", dict(lr=0.01, l2=0.1, clip_norm=0.5, beta1=0.8, beta2=0.99,
                                  eps=1e-6), 5),
    ("adamw", "adamw", dict(lr=0.01, weight_decay=0.1), 5),
    ("adamw_default", "adamw", dict(lr=1e-3, weight_decay=0.01), 5),
    ("rmsprop", "rmsprop", dict(lr=0.01), 5),
    ("rmsprop_momentum_l2", "rmsprop", dict(lr=0.01, momentum=0.5, l2=0.01, rms_alpha=0.9), 5),
    ("rmsprop_clip", "rmsprop", dict(lr=0.01, clip_norm=1.0, eps=1e-4), 5),
    ("momentum_step", "momentum", dict(lr=0.1, momentum=0.9, schedule="step", step_epochs=2,
                                       gamma=0.5), 6),
    ("adam_cosine", "adam", dict(lr=0.01, schedule="cosine", total_epochs=5, min_lr=0.001), 6),
]


def make_optimizer(kind, s, p):
    if kind in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD([p], lr=s["lr"], momentum=s["momentum"], weight_decay=s["l2"],
                               nesterov=(kind == "nesterov"))
    if kind == "adam":
        return torch.optim.Adam([p], lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
                                weight_decay=s["l2"])
    if kind == "adamw":
        assert s["l2"] == 0.0  # AdamW has no coupled L2 term in PyTorch
        return torch.optim.AdamW([p], lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
                                 weight_decay=s["weight_decay"])
    if kind == "rmsprop":
        return torch.optim.RMSprop([p], lr=s["lr"], alpha=s["rms_alpha"], eps=s["eps"],
                                   weight_decay=s["l2"], momentum=s["momentum"])
    raise ValueError(kind)


def make_scheduler(opt, s):
    if s["schedule"] == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=s["step_epochs"], gamma=s["gamma"])
    if s["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s["total_epochs"],
                                                          eta_min=s["min_lr"])
    return None


STATE_KEYS = {  # nabla's state name -> PyTorch's state key
    "sgd": [], "momentum": [("momentum", "momentum_buffer")],
    "nesterov": [("momentum", "momentum_buffer")],
    "adam": [("adam.m", "exp_avg"), ("adam.v", "exp_avg_sq")],
    "adamw": [("adam.m", "exp_avg"), ("adam.v", "exp_avg_sq")],
    "rmsprop": [("rmsprop.square_avg", "square_avg"), ("rmsprop.momentum", "momentum_buffer")],
}


def run_case(out, name, kind, settings, steps):
    s = dict(DEFAULTS)
    s.update(settings)
    for k, v in s.items():
        if isinstance(v, float):
            s[k] = f32(v)
    p = torch.tensor(INIT, dtype=torch.float32, requires_grad=True)
    opt = make_optimizer(kind, s, p)
    sched = make_scheduler(opt, s)
    out.append("case %s type %s %s steps %d" % (
        name, kind, " ".join("%s %s" % (k, v if isinstance(v, str) else fmt(v))
                             for k, v in s.items()), steps))
    for k in range(steps):
        with torch.no_grad():
            g = (p.detach() * 2.0 - 1.0) + offsets(k)
        p.grad = g.clone()
        lr = opt.param_groups[0]["lr"]
        if s["clip_norm"] > 0:
            norm = float(torch.nn.utils.clip_grad_norm_([p], s["clip_norm"]))
        else:
            norm = float(torch.linalg.vector_norm(g.double()))
        opt.step()
        if sched is not None:
            sched.step()
        out.append("step %d lr %s norm %s w %s" % (k, fmt(lr), fmt(norm),
                                                   " ".join(fmt(x) for x in p.detach().tolist())))
    st = opt.state[p]
    for cname, key in STATE_KEYS[kind]:
        if key in st and st[key] is not None:
            out.append("state %s %s" % (cname, " ".join(fmt(x) for x in st[key].tolist())))
    out.append("end")


def main():
    torch.set_num_threads(1)
    out = ["# optim_ref.txt - reference runs of torch.optim %s, made by"
           " tests/ref/make_optim_ref.py;" % torch.__version__,
           "# do not edit. At step k: g[j] = (w[j] * 2 - 1) + (0.125 * ((k + j) % 5) - 0.25).",
           "# 'lr' is the learning rate used by step k, 'norm' the pre-clip gradient norm,",
           "# 'w' the parameters after step k; 'state' lines hold the state after the last step.",
           "n %d" % N, "init %s" % " ".join(fmt(f32(x)) for x in INIT)]
    for name, kind, settings, steps in CASES:
        run_case(out, name, kind, settings, steps)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_ref.txt")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote %s (%d cases)" % (path, len(CASES)), file=sys.stderr)


if __name__ == "__main__":
    main()
