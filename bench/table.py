#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""table.py - the checks and the table of `make bench` (bench/run.sh calls it; plain python3,
no torch). Input lines are "IMPL VARIANT NAME VALUE UNIT key=value ...", as run.sh writes
them from nb_bench / torch_bench.py output ("IMPL VARIANT FAILED NAME" for a failed run).

  table.py check CHECKS TORCH(0|1) MLP_REF      correctness before timing; exit 1 on failure
  table.py table RESULTS CHECKS OUT THREADS QUICK TORCH LOAD_BEFORE LOAD_AFTER BLAS_NOTE
  table.py distline JSON LOG NAME SETTING RANKS  one line of the distributed rows (bench/dist.sh)
"""
import json
import math
import os
import platform
import re
import struct
import sys
import time

# Per-step losses of 10 steps from the same initial weights: float32 on both sides, the BLAS
# and the convolution kernels sum in different orders, and 10 optimizer steps let the
# differences grow; 1e-4 relative is still 100x below the loss change between two steps.
CHECK_RTOL = 1e-4

ROWS = [  # name, label, bigger is better
    ("mlp-epoch", "MLP 784-256-128-10 train, SGD mom, b64", False),
    ("cnn-epoch", "CNN 2 conv + 2 dense train, Adam, b64", False),
    ("lstm-epoch", "LSTM 128 (28x28 rows) train, Adam, b64", False),
    ("words-epoch", "words emb32+LSTM128 train, Adam, b64", False),
    ("mlp-infer", "MLP inference, batch 1000", True),
    ("cnn-infer", "CNN inference, batch 1000", True),
    ("lstm-infer", "LSTM inference, batch 1000", True),
    ("tiny", "2-4-1 sigmoid net, BCE, SGD, batch 1", True),
    ("logreg", "logistic regr 784-10, SGD, batch 1", True),
]


def parse(path):
    """[(impl, variant, name, value or None, unit, {key: value})]"""
    out = []
    for raw in open(path):
        w = raw.split()
        if len(w) < 4:
            continue
        if w[2] == "FAILED":
            out.append((w[0], w[1], w[3], None, "", {}))
            continue
        kv = dict(x.split("=", 1) for x in w[5:] if "=" in x)
        try:
            value = float(w[3])
        except ValueError:
            value = None
        out.append((w[0], w[1], w[2], value, w[4] if len(w) > 4 else "", kv))
    return out


def losses_of(rec):
    try:
        return [float(v) for v in rec[5]["losses"].split(",")]
    except (KeyError, ValueError):
        return None


def reference_losses(path):
    """tests/ref/mlp_steps.txt: a comment, the initial weight sum, then PyTorch's losses."""
    try:
        vals = [float(x) for x in open(path) if x.strip() and not x.startswith("#")]
        return vals[1:]
    except (OSError, ValueError):
        return None


def run_checks(checks, torch, ref_path):
    """[(ok, text)] for every model checked."""
    recs = parse(checks)
    lines = []
    for model in ("mlp", "cnn"):
        name = model + "-check"
        mine = [r for r in recs if r[2] == name]
        if not mine:
            continue
        nb = next((r for r in mine if r[0] == "nabla"), None)
        nbl = losses_of(nb) if nb else None
        if not nbl or not all(math.isfinite(v) for v in nbl):
            lines.append((False, f"{name}: nabla's run failed or gave non-finite losses"))
            continue
        if torch:
            tr = next((r for r in mine if r[0] == "torch"), None)
            ref, what = (losses_of(tr) if tr else None), "PyTorch now"
        elif model == "mlp":
            ref, what = reference_losses(ref_path), f"PyTorch's committed {ref_path}"
        else:
            ref, what = None, None
        if ref is None and what is not None:
            lines.append((False, f"{name}: no reference losses from {what}"))
        elif ref is not None:
            if len(ref) != len(nbl):
                lines.append((False, f"{name}: {len(nbl)} nabla losses, {len(ref)} reference losses"))
                continue
            rel = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(nbl, ref))
            ok = rel <= CHECK_RTOL
            lines.append((ok, f"{name}: {len(nbl)} steps from the same initial weights, per-step loss "
                              f"vs {what}: max rel. diff {rel:.1e} (tol {CHECK_RTOL:.0e}) "
                              f"{'ok' if ok else 'MISMATCH'}"))
            if not ok:
                for i, (a, b) in enumerate(zip(nbl, ref)):
                    lines.append((False, f"    step {i + 1}: nabla {a:.9g}  reference {b:.9g}"))
        else:  # no PyTorch: at least the loss must fall
            ok = nbl[-1] < nbl[0]
            lines.append((ok, f"{name}: no PyTorch; loss {nbl[0]:.4f} -> {nbl[-1]:.4f} over "
                              f"{len(nbl)} steps {'falls: ok' if ok else 'does NOT fall'}"))
    return lines


def cmd_check(argv):
    checks, torch, ref = argv[0], argv[1] == "1", argv[2]
    lines = run_checks(checks, torch, ref)
    for ok, text in lines:
        print(("bench: check " if ok else "bench: CHECK FAILED ") + text, file=sys.stderr)
    return 0 if all(ok for ok, _ in lines) else 1  # none when BENCH_ONLY has no MLP/CNN row


def ratio_words(ratio, bigger_better):
    if ratio is None:
        return ""
    faster = ratio > 1 if bigger_better else ratio < 1
    f = ratio if ratio >= 1 else 1 / ratio
    if abs(f - 1) < 0.005:
        return "same"
    return f"{f:.2f}x {'faster' if faster else 'slower'}"


def fmt(v):
    if v is None:
        return "FAILED"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def mb(kv):
    try:
        return int(kv["peak_rss_kb"]) / 1024
    except (KeyError, ValueError):
        return None


# AMD's families (cpuid's family + extended family): 23 is Zen, Zen+ and Zen 2; 25 Zen 3 and
# Zen 4; 26 Zen 5. Intel's family 6 is told apart by model number (the common server and
# desktop cores; others are named by number only).
AMD_FAMILIES = {23: "Zen/Zen 2", 25: "Zen 3/4", 26: "Zen 5"}
INTEL_MODELS = {0x3F: "Haswell", 0x4F: "Broadwell", 0x55: "Skylake-SP/Cascade Lake", 0x5E: "Skylake",
                0x6A: "Ice Lake-SP", 0x7E: "Ice Lake", 0x8C: "Tiger Lake", 0x8F: "Sapphire Rapids",
                0x97: "Alder Lake", 0x9A: "Alder Lake", 0xAD: "Granite Rapids", 0xB7: "Raptor Lake",
                0xBA: "Raptor Lake", 0xCF: "Emerald Rapids"}


def cpu_detected(text):
    """'AMD family 25 model 1 (Zen 3/4)' from /proc/cpuinfo's text, and the model name."""
    f = {}
    for x in text.splitlines():
        k, _, v = x.partition(":")
        k = k.strip()
        if k in ("vendor_id", "cpu family", "model", "model name") and k not in f:
            f[k] = v.strip()
        if not x.strip() and f:
            break
    vendor = {"AuthenticAMD": "AMD", "GenuineIntel": "Intel"}.get(f.get("vendor_id", ""), f.get("vendor_id", "?"))
    try:
        fam, mod = int(f.get("cpu family", "")), int(f.get("model", ""))
    except ValueError:
        return f"{vendor} (family/model unknown)", f.get("model name", "?")
    name = AMD_FAMILIES.get(fam) if vendor == "AMD" else INTEL_MODELS.get(mod) if vendor == "Intel" and fam == 6 else None
    return f"{vendor} family {fam} model {mod}" + (f" ({name})" if name else ""), f.get("model name", "?")


def cpu_line(out):
    try:
        det, name = cpu_detected(open("/proc/cpuinfo").read())
    except OSError:
        det, name = "?", "?"
    kernel = "?"
    kp = os.path.join(out, "kernel.txt")
    if os.path.exists(kp):
        kernel = open(kp).read().strip() or "?"
    return f"CPU: {det}, \"{name}\"; nabla's GEMM kernel tier: {kernel}"


def xcore_lines(out):
    """bench/xcore's measurements at the start and end of the run (run.sh), as lines"""
    try:
        got = [x.strip().split(" ", 1) for x in open(os.path.join(out, "xcore.txt")) if " " in x]
    except OSError:
        return []
    return [f"{when} of the run, {what}" for when, what in got]


def header(res, threads, quick, load0, load1, blas, out=".", torch="1"):
    ver = "?"
    try:
        m = re.search(r'#define NB_VERSION_STRING "([^"]+)"', open("include/nabla/base.h").read())
        ver = m.group(1) if m else ver
    except OSError:
        pass
    tv = next((r[5]["torch"] for r in res if r[0] == "torch" and "torch" in r[5]), None)
    print()
    print(f"nabla {ver} vs {'PyTorch ' + tv if tv else 'no PyTorch'} on Fashion-MNIST, {threads} thread(s), "
          f"{os.cpu_count()} cores, {platform.node()}, {time.strftime('%Y-%m-%d %H:%M')}")
    print(cpu_line(out))
    for x in xcore_lines(out):
        print(x)
    print(f"load average before {load0}, after {load1}; {blas}")
    if torch != "1":
        print("PyTorch columns absent: install python3-torch (apt-get install python3-torch) to compare")
    if quick == "1":
        print("QUICK RUN (BENCH_QUICK=1): subsets and few steps, epoch times scaled to a full epoch;"
              " a smoke test, not a measurement")


# Floating-point operations per sample of each row's matrix products and convolutions (a
# multiply-add is 2; biases, activations, pooling and the optimizer left out). Training is the
# forward pass, every weight gradient and the input gradient of every layer but the first (no
# gradient is taken for the images).
def lstm_flops(T, F, H, train, first):
    """An LSTM layer's products per sample over T steps: each step's forward is 2 * 4H * (F + H)
    (the gates' input and recurrent products, as `nabla summary` counts them); training adds the
    weight gradients (the same again), the gradient through the recurrent weights (2 * 4H * H)
    and, unless the layer is the first (the images), its input gradient (2 * 4H * F)."""
    fwd = 2 * 4 * H * (F + H)
    if not train:
        return T * fwd
    return T * (2 * fwd + 2 * 4 * H * H + (0 if first else 2 * 4 * H * F))


# the words recipe's embedding is a lookup (no product), so its LSTM needs the input gradient;
# its steps per sample are the mean word length its runs print (mean_len)
def words_flops(kv):
    T = float(kv.get("mean_len", "nan"))
    return lstm_flops(T, 32, 128, True, False) + 2 * (128 * 9) * 3


FLOPS = {
    "lstm-infer": lstm_flops(28, 28, 128, False, True) + 2 * 128 * 10,
    "lstm-epoch": lstm_flops(28, 28, 128, True, True) + 2 * 128 * 10 * 3,
    "words-epoch": words_flops,
    "mlp-infer": 2 * (784 * 256 + 256 * 128 + 128 * 10),
    "mlp-epoch": 2 * (784 * 256 + 256 * 128 + 128 * 10) * 2 + 2 * (256 * 128 + 128 * 10),
    "cnn-infer": 2 * (28 * 28 * 16 * 9 + 14 * 14 * 32 * 16 * 9 + 1568 * 128 + 128 * 10),
    "cnn-epoch": 2 * (28 * 28 * 16 * 9 + 14 * 14 * 32 * 16 * 9 + 1568 * 128 + 128 * 10) * 2
                 + 2 * (14 * 14 * 32 * 16 * 9 + 1568 * 128 + 128 * 10),
}


def fma_peak(out):
    """(1-thread, all-thread) GFLOP/s of gemm_bench's FMA loop, or None"""
    try:
        for x in open(os.path.join(out, "gemm.txt")):
            m = re.match(r"FMA peak .*?: ([0-9.]+) GFLOP/s on 1 thread, ([0-9.]+) on", x)
            if m:
                return float(m.group(1)), float(m.group(2))
    except OSError:
        pass
    return None


def products_alone(out):
    """{row: (1-thread %, 2-thread %)} of the peak from gemm_bench's block of a training step's
    products alone (the most that row's epoch could reach with everything else free), or {}"""
    got = {}
    try:
        for x in open(os.path.join(out, "gemm.txt")):
            m = re.match(r"\s+(\S+-epoch)\s.*?MFLOP a step: 1 thread .*?= ([0-9]+)% of the peak; "
                         r"2 threads .*?= ([0-9]+)% of the peak", x)
            if m:
                got[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    except OSError:
        pass
    return got


def arithmetic(res, out, threads):
    """What the epoch and inference rows compute per second, against the FMA peak: how close
    each library is to what the machine can do at all."""
    peak = fma_peak(out)
    if peak and peak[1] <= 0:
        peak = None
    alone = products_alone(out) if peak else {}
    lines = []
    for name, label, bigger in ROWS:
        if name not in FLOPS:
            continue
        got, per = {}, None
        for impl in ("nabla", "torch"):
            rs = [r for r in res if r[2] == name and r[0] == impl and r[3] is not None]
            if rs:
                best = (max if bigger else min)(rs, key=lambda r: r[3])
                v, kv = best[3], best[5]
                per = FLOPS[name](kv) if callable(FLOPS[name]) else FLOPS[name]
                # s/epoch rows: samples per second over the whole epoch (60000 images unless
                # the line names its epoch_rows)
                got[impl] = per * (v if bigger else float(kv.get("epoch_rows", 60000)) / v) * 1e-9
        if got and not math.isfinite(per):
            continue
        if got:
            txt = ", ".join(f"{k} {v:.0f}" + (f" ({100 * v / peak[1]:.0f}%)" if peak else "") for k, v in got.items())
            # The ceiling of the row's nabla/PyTorch speed ratio: what a library running at the
            # FMA peak itself would reach (a target above it needs less arithmetic, not speed).
            if peak and got.get("torch", 0) > 0:
                txt += f"; at the peak: {peak[1] / got['torch']:.2f}x PyTorch"
            if name in alone:
                txt += f"; its products alone: {alone[name][1 if int(threads) > 1 else 0]}%"
            lines.append(f"  {label:<38} {per / 1e6:6.3f} MFLOP/sample: {txt}")
    if lines:
        pk = f"{peak[1]:.0f} GFLOP/s measured on {threads} thread(s)" if peak else "not measured (no gemm row)"
        print(f"\nArithmetic rate, GFLOP/s of the rows' products (% of the FMA peak, {pk}; "
              "'at the peak': the FMA peak over PyTorch's rate, the most any library doing the row's arithmetic can be faster; "
              "'its products alone': the row's products each at its own rate in the GEMM table, the most the epoch could reach "
              "if everything else in it took no time):")
        for x in lines:
            print(x)


# ---------------------------------------------------------------- distributed rows (dist.sh)
DIST_ROWS = [("mlp-dist", "MLP 784-256-128-10, SGD mom, b64"), ("cnn-dist", "CNN 2 conv + 2 dense, Adam, b64")]
EPOCH_ROWS = 60000


def first_num(obj, keys):
    """the first of keys (dotted paths) that obj holds as a number, or None"""
    for k in keys:
        v = obj
        for part in k.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def comm_from_log(log):
    """(bytes per step, seconds reducing, share hidden, seconds waited) from rank 0's
    communication line, when the --metrics-json has none of them: 'communication: 0.941 MB per
    step per rank, 0.04 s reducing, 11% hidden behind backward (0.03 s waited)'"""
    b = s = h = w = None
    try:
        for x in open(log, errors="replace"):
            if not re.search(r"comm|reduc", x, re.I):
                continue
            m = re.search(r"([0-9.]+)\s*(MB|MiB|kB|KiB|bytes)\s*(?:per|/)\s*step", x)
            if m:
                f = {"MB": 1e6, "MiB": 1 << 20, "kB": 1e3, "KiB": 1024, "bytes": 1}[m.group(2)]
                b = float(m.group(1)) * f
            m = re.search(r"([0-9.]+)\s*s\s*waited", x)
            if m:
                w = float(m.group(1))
            m = re.search(r"([0-9.]+)\s*%\s*hidden", x)
            if m:
                h = float(m.group(1)) / 100
            m = re.search(r"([0-9.]+)\s*s\b[^,;]*reduc|reduc\w*\s*([0-9.]+)\s*s\b", x)
            if m:
                s = float(m.group(1) or m.group(2))
    except OSError:
        pass
    return b, s, h, w


def cmd_distline(argv):
    """One result line from a CLI run's --metrics-json (and its log for the communication
    figures when the JSON does not carry them); the time is the history's first epoch, scaled
    to 60000 rows."""
    path, log, name, setting, ranks = argv[:5]
    j = json.load(open(path))
    ep = j["epochs"][0]
    rows = int(j.get("epoch_samples") or j["train_rows"])
    steps = int(j["epoch_steps"])
    secs = float(ep["seconds"])
    n = int(ranks) if re.match(r"\d+r", setting) else 1
    kv = {"steps": steps, "rows": rows, "epoch_rows": EPOCH_ROWS, "measured_s": f"{secs:.4g}",
          "ranks": n, "train_loss": f"{float(ep['train_loss']):.6g}", "parameters": j.get("parameters")}
    if n > 1:
        pb = first_num(j, ["communication.bytes_per_step"])
        cs = first_num(j, ["communication.reduce_seconds"])
        ws = first_num(j, ["communication.wait_seconds"])
        src = "json"
        hidden = 1 - ws / cs if cs and ws is not None and cs > 0 else None
        if pb is None:
            pb, cs2, h2, ws2 = comm_from_log(log)
            src = "log"
            cs = cs if cs is not None else cs2
            ws = ws if ws is not None else ws2
            hidden = hidden if hidden is not None else h2
        if pb is None:  # the gradients alone: what the all-reduce carries at least
            pb, src = 4.0 * float(j["parameters"]), "params"
        kv.update(payload_bytes=int(pb), payload_src=src)
        if cs is not None:
            kv["comm_s"] = f"{cs:.4g}"
        if ws is not None:
            kv["wait_s"] = f"{ws:.4g}"
        if hidden is not None:
            kv["hidden"] = f"{hidden:.3f}"
    print(f"{name} {secs * EPOCH_ROWS / rows:.4g} s/epoch " + " ".join(f"{k}={v}" for k, v in kv.items()))
    return 0


def safetensors_f32(path):
    """{name: floats} of a safetensors file's F32 tensors (the model files of the runs)"""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in hdr.items():
        if k != "__metadata__" and v.get("dtype") == "F32":
            a, b = v["data_offsets"]
            out[k] = struct.unpack(f"<{(b - a) // 4}f", data[a:b])
    return out


def weight_diff(a, b):
    """max |a - b| over the parameters of two model files, or None"""
    try:
        x, y = safetensors_f32(a), safetensors_f32(b)
    except (OSError, ValueError, KeyError, struct.error):
        return None
    if not x or x.keys() != y.keys():
        return None
    return max(max((abs(p - q) for p, q in zip(x[k], y[k])), default=0.0) for k in x)


def dist_table(res, out):
    """The distributed rows: s/epoch per setting, the N-rank speed-ups, bytes per step."""
    bad = 0
    sp = os.path.join(out, "dist.skip")
    if os.path.exists(sp):
        print("\nDistributed rows: " + open(sp).read().strip())
        return 0
    recs = [r for r in res if r[2] in dict(DIST_ROWS)]
    if not recs:
        return 0

    def best(name, setting):
        rs = [r for r in recs if r[2] == name and r[1] == setting and r[3] is not None]
        return min(rs, key=lambda r: r[3]) if rs else None

    nr = next((r[1] for r in recs if re.match(r"\d+r1t$", r[1])), "2r1t")
    N = int(nr[:-3])
    print(f"\nDistributed (docs/DISTRIBUTED.md): the recipe trained by the CLI, one epoch of 60000 rows, "
          f"seconds per epoch; {N}r1t = mpirun -np {N} --oversubscribe --bind-to none, 1 thread per rank")
    hdr = (f"{'row':<34} {'1p x1t':>7} {'1p x2t':>7} {nr + ' ':>7} {'no ovl':>7} {'vs 1x1':>6} {'vs 1x2':>6} "
           f"{'MB/step':>7} {'wire MB':>7} {'comm s':>7} {'hidden':>6}")
    print(hdr)
    print("-" * len(hdr))
    notes = []
    for name, label in DIST_ROWS:
        if not any(r[2] == name for r in recs):
            continue
        a, b, c, d = (best(name, s) for s in ("1p1t", "1p2t", nr, nr + "-no"))
        for r in recs:
            if r[2] == name and r[3] is None:
                bad += 1
                notes.append(f"{name} {r[1]}: the run FAILED (its error is above)")
        v = [x[3] if x else None for x in (a, b, c, d)]
        kv = c[5] if c else {}
        pb = float(kv["payload_bytes"]) if "payload_bytes" in kv else None
        wire = pb * 2 * (N - 1) / N if pb is not None else None

        def f(x, w=7):
            return f"{x:>{w}.3g}" if x is not None else f"{'-':>{w}}"

        up1 = v[0] / v[2] if v[0] and v[2] else None
        up2 = v[1] / v[2] if v[1] and v[2] else None
        hid = float(kv["hidden"]) * 100 if "hidden" in kv else None
        cs = float(kv["comm_s"]) * EPOCH_ROWS / float(kv["rows"]) if "comm_s" in kv else None
        print(f"{label:<34} {f(v[0])} {f(v[1])} {f(v[2])} {f(v[3])} {f(up1, 6)} {f(up2, 6)} "
              f"{f(pb / 1e6 if pb is not None else None)} {f(wire / 1e6 if wire is not None else None)} "
              f"{f(cs)} {(f'{hid:.0f}%' if hid is not None else '-'):>6}")
        if c and kv.get("payload_src") != "json":
            src = ("rank 0's communication line" if kv.get("payload_src") == "log"
                   else "the parameter count x 4 (no communication figures in the JSON or the log)")
            notes.append(f"{name}: bytes per step from {src}")
        if a and c:
            la, lc = float(a[5].get("train_loss", "nan")), float(c[5].get("train_loss", "nan"))
            wd = weight_diff(os.path.join(out, "dist", f"{name}-1p1t.safetensors"),
                             os.path.join(out, "dist", f"{name}-{nr}.safetensors"))
            notes.append(f"{name}: epoch-1 training loss 1p1t {la:.6g}, {nr} {lc:.6g} (diff {abs(la - lc):.2g})"
                         + (f"; max |weight difference| {wd:.3g}" if wd is not None else ""))
    print(f"vs 1x1, vs 1x2: the {N}-rank speed-up over one process with 1 and 2 threads. MB/step: the floats "
          f"each rank passes to the all-reduce per step x 4 (gradients, batch-norm statistics, the step's figures); "
          f"wire MB: what each rank sends (and receives) per step in the reduce-scatter + allgather, "
          f"2(N-1)/N x MB/step. comm s: seconds per epoch reducing; hidden: 1 - wait/comm, the share "
          f"behind backward. no ovl: the reduction after backward.")
    np_ = os.path.join(out, "dist.nooverlap")
    if os.path.exists(np_):
        notes.append(open(np_).read().strip())
    for n in notes:
        print("  " + n)
    return bad


def cmd_table(argv):
    res_path, checks, out, threads, quick, torch, load0, load1, blas = argv[:9]
    res = parse(res_path)
    header(res, threads, quick, load0, load1, blas, out, torch)
    bad = 0
    print("\ncorrectness, before timing:")
    checked = run_checks(checks, torch == "1", "tests/ref/mlp_steps.txt")
    for ok, text in checked:
        print("  " + text)
        bad += not ok
    if not checked:
        print("  (no MLP or CNN row was run; the training rows' loss check follows the table)")

    main_rows = any(r[2] in {n for n, _, _ in ROWS} for r in res)
    hdr = (f"{'row':<38} {'unit':<9} {'nabla':>9} {'PyTorch':>9} {'nabla/PT':>8} {'nabla is':<13} "
           f"{'MB nabla':>8} {'MB PT':>6} {'ratio':>5}  {'PyTorch setting (others)'}")
    if main_rows:  # (BENCH_ONLY may name only the distributed rows)
        print("\n" + hdr)
        print("-" * len(hdr))
    notes = []
    for name, label, bigger in ROWS:
        recs = [r for r in res if r[2] == name]
        if not recs:
            continue
        nbs = [r for r in recs if r[0] == "nabla" and r[3] is not None]
        nb = (max if bigger else min)(nbs, key=lambda r: r[3]) if nbs else \
            next((r for r in recs if r[0] == "nabla"), None)
        tr = [r for r in recs if r[0] == "torch" and r[3] is not None]
        failed = [r for r in recs if r[3] is None]
        bad += len(failed)
        best = None
        if tr:
            best = (max if bigger else min)(tr, key=lambda r: r[3])
        unit = nb[4] if nb and nb[3] is not None else (best[4] if best else "")
        nv = nb[3] if nb else None
        tv = best[3] if best else None
        ratio = nv / tv if nv is not None and tv else None
        nmb, tmb = (mb(nb[5]) if nb else None), (mb(best[5]) if best else None)
        others = ", ".join(f"{r[1]} {fmt(r[3])}" for r in tr if r is not best)
        setting = (best[1] + (f" ({others})" if others else "")) if best else ""
        if len(nbs) > 1:
            setting += ("; " if setting else "") + "nabla runs " + ", ".join(fmt(r[3]) for r in nbs)
        print(f"{label:<38} {unit:<9} {fmt(nv):>9} {fmt(tv) if best else '-':>9} "
              f"{(f'{ratio:.3g}' if ratio else '-'):>8} {ratio_words(ratio, bigger):<13} "
              f"{(f'{nmb:.0f}' if nmb else '-'):>8} {(f'{tmb:.0f}' if tmb else '-'):>6} "
              f"{(f'{nmb / tmb:.2f}' if nmb and tmb else '-'):>5}  {setting}")
        for r in recs:  # training rows: the timed run must have learned
            kv = r[5]
            if r[3] is not None and "loss_first" in kv:
                first, last = float(kv["loss_first"]), float(kv["loss_last"])
                if not (math.isfinite(last) and last < first):
                    bad += 1
                    notes.append(f"{name} {r[0]} {r[1]}: loss did not fall ({first:.4g} -> {last:.4g})")
        for r in failed:
            notes.append(f"{name} {r[0]} {r[1]}: the run FAILED (its error is above)")
    for skip in ("words.skip",):
        sp = os.path.join(out, skip)
        if os.path.exists(sp):
            print(open(sp).read().strip())
    if main_rows:
        print("\nnabla/PT: nabla's value over PyTorch's best setting's (s/epoch: lower is better; "
              "samples/s, steps/s: higher is better; 'nabla is' says which way). MB: peak resident "
              "memory of each process; ratio nabla/PyTorch.")
        print("Training rows: the mean loss of the timed run's last tenth of steps is below its first "
              "tenth on both sides" + (" - except:" if notes else " (checked)."))
        for n in notes:
            print("  " + n)

    arithmetic(res, out, threads)
    bad += dist_table(res, out)

    print("\nGEMM (bench/gemm_bench):")
    gtxt, grc = os.path.join(out, "gemm.txt"), os.path.join(out, "gemm.rc")
    if os.path.exists(gtxt):
        lines = [x.rstrip() for x in open(gtxt) if x.strip()]
        rc = open(grc).read().strip() if os.path.exists(grc) else "?"
        for x in lines[:60]:
            print("  " + x)
        print(f"  self-check: {'passed (exit 0)' if rc == '0' else 'FAILED (exit ' + rc + ')'}")
        bad += rc != "0"
    else:
        skip = os.path.join(out, "gemm.skip")
        why = open(skip).read().strip() if os.path.exists(skip) else "no output"
        print(f"  not run: {why}")
    return 1 if bad else 0


def cmd_busy(argv):
    """The contended mode's tables (run.sh, BENCH_BUSY=1): per row, the best of the runs with
    --threads 1 and 2, as a time (s/epoch, ms per batch of 1000), and their ratio."""
    res_path, out, quick, load0, blas = argv[:5]
    res = parse(res_path)
    loads = {}
    for raw in open(res_path):
        w = raw.split()
        if len(w) >= 6 and w[0] == "load":
            loads.setdefault((w[1].split("-t")[0], w[2]), []).append(float(w[3]))
    print()
    print(f"nabla contended mode (BENCH_BUSY=1), {os.cpu_count()} cores, {platform.node()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(cpu_line(out))
    for x in xcore_lines(out):
        print(x)
    print(f"load average at the start {load0}; {blas}")
    if quick == "1":
        print("QUICK RUN (BENCH_QUICK=1): subsets and few steps; a smoke test, not a measurement")
    bad = 0
    for mode, title in (("quiet", "the machine as it is (no busy loop)"),
                        ("busy", f"one busy loop pinned to core {os.cpu_count() - 1}")):
        recs = [r for r in res if r[0] == "nabla" and r[1].startswith(mode + "-t")]
        if not recs:
            continue
        target = mode == "busy"
        print(f"\n{title}: best of the runs; time = s/epoch (training) or ms per batch of 1000 (inference)")
        hdr = f"{'row':<38} {'unit':<9} {'threads 1':>9} {'threads 2':>9} {'t2/t1':>6}  " + \
            (f"{'target':<15}  " if target else "") + "load (1-min average after each run: lowest-highest)"
        print(hdr)
        print("-" * len(hdr))
        for name, label, bigger in ROWS:
            best = {}
            for th in (1, 2):
                rs = [r for r in recs if r[2] == name and r[1] == f"{mode}-t{th}"]
                bad += sum(r[3] is None for r in rs)
                vals = [r[3] for r in rs if r[3] is not None]
                if vals:  # as a time: lower is better
                    best[th] = min(1e6 / v for v in vals) if bigger else min(vals)
            if not best:
                continue
            unit = "ms/batch" if bigger else "s/epoch"
            ratio = best[2] / best[1] if 1 in best and 2 in best else None
            verdict = ""
            if target:
                verdict = "<= 1.10 " + ("met" if ratio is not None and ratio <= 1.10 else "MISSED")
            la = loads.get((mode, name), [])
            ld = f"{min(la):.2f}-{max(la):.2f}" if la else "?"
            print(f"{label:<38} {unit:<9} {fmt(best.get(1)):>9} {fmt(best.get(2)):>9} "
                  f"{(f'{ratio:.2f}' if ratio else '-'):>6}  " + (f"{verdict:<15}  " if target else "") + ld)
    return 1 if bad else 0


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "busy":
        return cmd_busy(sys.argv[2:])
    if len(sys.argv) >= 5 and sys.argv[1] == "check":
        return cmd_check(sys.argv[2:])
    if len(sys.argv) >= 7 and sys.argv[1] == "distline":
        return cmd_distline(sys.argv[2:])
    if len(sys.argv) >= 11 and sys.argv[1] == "table":
        return cmd_table(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
