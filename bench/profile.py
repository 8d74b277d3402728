#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/profile.py - the second half of `make profile` (bench/profile.sh): reads the flat
# symbol profiles that perf report wrote for each bench row and prints where the time went,
# in the categories below, as a share of all samples (every thread's) and as seconds per
# epoch or per batch of 1000 (the row's measured time split by those shares, times the
# threads that were busy). Usage: profile.py OUTDIR HZ ROW... (OUTDIR/ROW.txt: perf report's
# "percent symbol" lines; OUTDIR/ROW.line: nb_bench's result line; OUTDIR/ROW.samples: the
# number of samples; HZ: perf record's sampling frequency per running thread).
import os
import re
import sys

# (category, regex on the symbol): the first match wins; [k] symbols are the kernel's
CATEGORIES = [
    ("GEMM multiply-add (the kernels)", r"^(ukernel|gemm_block|kblock|tile|nb__gemm_small|dot_portable|sum16)"),
    ("conv: im2col / col2im", r"^(im2col|col2im|flat_setup|lower|pack_flat)"),
    ("GEMM packing and transposes", r"^(pack_|nb__gemm_pack|transpose|scale_c|epilogue)"),
    ("conv: permutes, bias, plane sums", r"^(copy_sum|pass_task|nb__conv_pass_run|finish|start)"),
    ("conv: direct first layer", r"^(fwd_avx|fwd_avx2|fwd_portable|fwd_block|bwd_avx|bwd_avx2|bwd_portable|fwd_task|bwd_task|dir_|bwd_tap|bwd_row|fwd_row|bwd_cols)"),
    ("pooling", r"^(maxpool|pairs_|pool_task|avgpool|zero_uncovered|rows_values|max4)"),
    ("activations", r"^(relu|act_task|sigmoid|tanh|exp_v|gate_tail|nb__act)"),
    ("bias adds and other elementwise", r"^(bin_|nb__binary|axpy|nb__sum_axis|sum_axis)"),
    ("softmax and loss", r"^(softmax|ce_|nb__softmax|__expf|__logf|expf|logf)"),
    ("optimizer (norm + update)", r"^(apply|sumsq|adam|sgd|momentum|rmsprop|nb__optim|nb_optim)"),
    ("batches: gather, convert, shuffle", r"^(bytes_|nb_dataset|nb_rng|record|gather|take|nb__model_batch)"),
    ("zeroing and copies (memset, memcpy)", r"^(__memset|__memmove|__memcpy|memset|memcpy|memmove)"),
    ("thread pool: waiting and hand-offs", r"^(worker_main|nb__parallel_for|run_claimed|wait_claimed|claim|next_gen|pthread_|__pthread|__GI___pthread|clock_gettime|__vdso_clock_gettime|__futex|futex|sched_yield)"),
    ("graph executor", r"^(nb_graph_|nb__node_view|nb__plan|conv_bwd|conv_fwd|maxpool_fwd|maxpool_bwd)"),
]
KERNEL = "kernel (page faults, timers, scheduling)"


def category(sym, kernel):
    if kernel:
        return KERNEL
    for name, rx in CATEGORIES:
        if re.match(rx, sym):
            return name
    return "other"


def read_profile(path):
    """{category: percent}, and the top symbols of 'other'"""
    cats, other = {}, []
    for line in open(path):
        m = re.match(r"\s*([0-9.]+)%\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        pct, kind, sym = float(m.group(1)), m.group(2), m.group(3)
        c = category(sym, kind == "k")
        cats[c] = cats.get(c, 0.0) + pct
        if c == "other":
            other.append((pct, sym))
    return cats, sorted(other, reverse=True)[:4]


def main():
    out, hz, rows = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    for row in rows:
        try:
            cats, other = read_profile(os.path.join(out, row + ".txt"))
            line = open(os.path.join(out, row + ".line")).read().split()
        except (OSError, IndexError):
            print(f"\n{row}: no profile (see {out})")
            continue
        value, unit = float(line[1]), line[2]
        kv = dict(x.split("=", 1) for x in line[3:] if "=" in x)
        # the threads busy over the timed span: a running thread is sampled hz times a second
        busy = None
        try:
            busy = int(open(os.path.join(out, row + ".samples")).read()) / (hz * float(kv["measured_s"]))
        except (OSError, ValueError, KeyError, ZeroDivisionError):
            pass
        if unit == "s/epoch":
            per, what = value, "s/epoch"
        else:  # samples/s: ms per batch of 1000
            per, what = 1000.0 / value * 1000.0, "ms/batch"
        total = sum(cats.values())
        head = f"\n{row}: {value:.4g} {unit}"
        if unit != "s/epoch":
            head += f" = {per:.3g} ms per batch of 1000"
        if busy:
            head += f"; {busy:.2f} threads busy on average"
        print(head)
        print(f"  {'where':<42} {'share':>6} {'CPU ' + what:>13}")
        for c, pct in sorted(cats.items(), key=lambda x: -x[1]):
            if pct < 0.5:
                continue
            print(f"  {c:<42} {pct:5.1f}% {per * pct / 100.0 * (busy or 1.0):13.4g}")
        rest = 100.0 - total
        if rest >= 0.5:
            print(f"  {'(symbols under 0.05% each)':<42} {rest:5.1f}%")
        if other:
            print("  'other' is mostly: " + ", ".join(f"{s} {p:.1f}%" for p, s in other))
        if kv.get("steps"):
            print(f"  ({kv['steps']} steps measured)")


if __name__ == "__main__":
    main()
