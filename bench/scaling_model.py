#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scaling_model.py - data-parallel scaling of the reference MLP and CNN on paper
(docs/DISTRIBUTED.md; plain python3, stdlib only). Prints markdown tables.

From measured figures:
  t1  compute time of one optimizer step, one process, one thread, global batch B (64):
      the distributed rows' 1p1t s/epoch / steps per epoch (bench/dist.sh)
  S   bytes each rank passes to the all-reduce per step (the gradients and a few figures)
and assumed ones (flags): a link bandwidth BW and a per-message latency L (10 Gbit/s with
20 us, 100 Gbit/s with 5 us: typical Ethernet / InfiniBand-class figures, not measured), it
models one step on N machines of one process each at a FIXED global batch B:
  ring all-reduce    T(N) = 2(N-1)/N * S / BW + 2(N-1) * L
                     (reduce-scatter + allgather, what nabla's MPI transport sends: each rank
                     sends and receives 2(N-1)/N * S; 2(N-1) messages in turn)
  compute            C(N) = t1 / N             (each rank computes B/N rows)
  exposed comm       no overlap: T(N); bucketed overlap: max(T_last, T(N) - h * C(N)), where
                     h is the share of a step that backward takes (the window in which buckets
                     are reduced, default 2/3: backward does about twice forward's products)
                     and T_last the all-reduce of the last bucket, which backward produces at
                     its very end and nothing can hide (--bucket-bytes, 0: no floor)
  step               t(N) = C(N) + exposed
  efficiency         E(N) = t1 / (N * t(N))
The batch below which a model stops scaling on N machines: the global batch whose per-rank
compute no longer covers the exposed all-reduce (E(N) < 50%): with c = t1 / B per row,
no overlap B_min = N * T(N) / c; overlap B_min = N * max(T_last, T(N) / (1 + h)) / c; at
least N (a row per machine). c is
taken at batch B: smaller per-rank batches run less efficiently, so the model is optimistic
there.

  scaling_model.py [--results runs/bench/results.txt] [--mlp-step-ms X] [--mlp-bytes S]
                   [--cnn-step-ms X] [--cnn-bytes S] [--batch 64] [--ranks 2,4,...]
                   [--links 10:20,100:5] [--backward-share 0.667] [--bucket-bytes 262144]
Flags override the figures read from --results, which override the built-in defaults.
"""
import argparse
import sys

# Built-in defaults: measured with bench/dist.sh's 1p1t setting (1 process, 1 thread, the
# recipe, batch 64, 938 steps per epoch) on the 2-core development VM on 2026-12-04, the best
# of two runs: MLP 0.450 s/epoch, CNN 5.78 s/epoch (docs/DISTRIBUTED.md). Bytes: the
# parameters x 4 (MLP 235146, CNN 206922 parameters), the gradients the all-reduce carries;
# the step's few figures (rank 0's line: 0.941 and 0.828 MB per step) are noise.
DEFAULTS = {
    "mlp": {"step_s": 0.450 / 938, "bytes": 940584, "label": "MLP 784-256-128-10 (SGD momentum)"},
    "cnn": {"step_s": 5.78 / 938, "bytes": 827688, "label": "CNN 2 conv + 2 dense (Adam)"},
}



def print_head(cells):
    """a markdown table's header and rule"""
    print("| " + " | ".join(cells) + " |")
    print("|" + "---|" * len(cells))

def read_results(path, models):
    """the 1p1t s/epoch and steps, and the N-rank payload, of the distributed rows' lines
    ("nabla SETTING NAME VALUE s/epoch key=value ...")"""
    found = {}
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        sys.exit(f"scaling_model: --results {path}: {e.strerror}")
    for x in lines:
        w = x.split()
        if len(w) < 5 or w[2] == "FAILED" or not w[2].endswith("-dist"):
            continue
        m = w[2][:-5]
        if m not in models:
            continue
        kv = dict(t.split("=", 1) for t in w[5:] if "=" in t)
        try:
            v = float(w[3])
            if w[1] == "1p1t" and "steps" in kv:
                # s/epoch of 60000 rows; steps counted on the rows actually run
                steps = int(kv["steps"]) * int(kv.get("epoch_rows", 60000)) / int(kv.get("rows", 60000))
                cur = found.setdefault(m, {})
                if "step_s" not in cur or v / steps < cur["step_s"]:
                    cur["step_s"] = v / steps
            if "payload_bytes" in kv:
                found.setdefault(m, {})["bytes"] = float(kv["payload_bytes"])
                found[m]["bytes_src"] = kv.get("payload_src", "?")
        except ValueError:
            continue
    return found


def ring(n, size, bw_bytes, lat):
    """seconds of a ring all-reduce (reduce-scatter + allgather) of size bytes over n ranks"""
    return 2 * (n - 1) / n * size / bw_bytes + 2 * (n - 1) * lat if n > 1 else 0.0


def step_time(t1, n, size, bw, lat, overlap, h, bucket):
    comm = ring(n, size, bw, lat)
    comp = t1 / n
    if not overlap:
        return comp + comm, comm
    last = ring(n, min(size, bucket), bw, lat) if bucket > 0 else 0.0
    return comp + max(last, comm - h * comp, 0.0), comm


def min_batch(t1, batch, n, size, bw, lat, overlap, h, bucket):
    """the global batch at which E(n) falls to 50%"""
    c = t1 / batch
    comm = ring(n, size, bw, lat)
    if not overlap:
        need = comm
    else:
        last = ring(n, min(size, bucket), bw, lat) if bucket > 0 else 0.0
        need = max(last, comm / (1 + h))
    return max(n * need / c, n)  # at least a row per rank


def per_rank(b):
    return f"{b:,.0f}" if b >= 10 else f"{b:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--results", help="bench result lines (runs/bench/results.txt of make bench)")
    for m in ("mlp", "cnn"):
        ap.add_argument(f"--{m}-step-ms", type=float, help=f"{m}: compute ms per step, 1 process, 1 thread")
        ap.add_argument(f"--{m}-bytes", type=float, help=f"{m}: bytes per step each rank passes to the all-reduce")
    ap.add_argument("--batch", type=int, default=64, help="the global batch the step time was measured at (64)")
    ap.add_argument("--ranks", default="2,4,8,16,32,64", help="machine counts (2,4,8,16,32,64)")
    ap.add_argument("--links", default="10:20,100:5",
                    help="GBIT_PER_S:LATENCY_US,... (10:20,100:5: assumed, not measured)")
    ap.add_argument("--backward-share", type=float, default=2 / 3,
                    help="share of a step in which buckets can be reduced (backward; 2/3)")
    ap.add_argument("--bucket-bytes", type=float, default=262144,
                    help="gradient bucket (the last one is never hidden; 0: no such floor)")
    a = ap.parse_args()
    try:
        ranks = [int(x) for x in a.ranks.split(",")]
        links = [(float(x.split(":")[0]), float(x.split(":")[1]) * 1e-6) for x in a.links.split(",")]
    except (ValueError, IndexError):
        ap.error("--ranks: integers separated by commas; --links: GBIT:LATENCY_US pairs")
    if any(n < 1 for n in ranks) or any(b <= 0 or lat < 0 for b, lat in links) or a.batch < 1:
        ap.error("ranks and the batch must be >= 1, bandwidths > 0, latencies >= 0")

    models = {k: dict(v, src="built-in default") for k, v in DEFAULTS.items()}
    if a.results:
        for m, f in read_results(a.results, models).items():
            models[m].update(f)
            models[m]["src"] = a.results
    for m in models:
        if getattr(a, f"{m}_step_ms") is not None:
            models[m]["step_s"], models[m]["src"] = getattr(a, f"{m}_step_ms") / 1e3, "flags"
        if getattr(a, f"{m}_bytes") is not None:
            models[m]["bytes"] = getattr(a, f"{m}_bytes")

    h, bucket = a.backward_share, a.bucket_bytes
    print(f"Assumptions: links {', '.join(f'{g:g} Gbit/s with {lat * 1e6:g} us per message' for g, lat in links)}; "
          f"ring all-reduce (reduce-scatter + allgather); global batch {a.batch} kept fixed (each of N "
          f"machines computes {a.batch}/N rows); overlap hides up to {h:.0%} of the compute "
          f"(backward), never the last {bucket / 1024:g} KiB bucket.")
    for m, f in models.items():
        t1, size = f["step_s"], f["bytes"]
        print(f"\n### {f['label']}: t1 = {t1 * 1e3:.3g} ms per step (1 process, 1 thread, batch {a.batch}), "
              f"S = {size / 1e6:.3g} MB per step ({f['src']})\n")
        print_head(["N", "compute ms"] + [c for g, _ in links
                                          for c in (f"{g:g}G all-reduce ms", f"{g:g}G E", f"{g:g}G E overlap")])
        for n in ranks:
            row = f"| {n} | {t1 / n * 1e3:.3g} |"
            for g, lat in links:
                bw = g * 1e9 / 8
                t_no, comm = step_time(t1, n, size, bw, lat, False, h, bucket)
                t_ov, _ = step_time(t1, n, size, bw, lat, True, h, bucket)
                row += f" {comm * 1e3:.3g} | {t1 / (n * t_no):.0%} | {t1 / (n * t_ov):.0%} |"
            print(row)
        print(f"\nGlobal batch below which E falls under 50% (the per-rank batch in brackets), "
              f"no overlap / overlap:\n")
        print_head(["N"] + [f"{g:g} Gbit/s" for g, _ in links])
        for n in ranks:
            row = f"| {n} |"
            for g, lat in links:
                bw = g * 1e9 / 8
                b0 = min_batch(t1, a.batch, n, size, bw, lat, False, h, bucket)
                b1 = min_batch(t1, a.batch, n, size, bw, lat, True, h, bucket)
                row += f" {b0:,.0f} ({per_rank(b0 / n)}) / {b1:,.0f} ({per_rank(b1 / n)}) |"
            print(row)
        for g, lat in links:
            bw = g * 1e9 / 8
            ok = [n for n in ranks if t1 / (n * step_time(t1, n, size, bw, lat, True, h, bucket)[0]) >= 0.5]
            print(f"\nAt batch {a.batch} over {g:g} Gbit/s: E >= 50% up to "
                  f"{str(max(ok)) + ' machines' if ok else 'none of the listed machine counts'} (with overlap).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
