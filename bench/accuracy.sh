#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-accuracy: the long accuracy runs (not tests). Trains the reference recipes on
# Fashion-MNIST through the CLI and prints test accuracy, mean seconds per epoch and peak
# resident memory. (The speed comparison with PyTorch is bench/run.sh, `make bench`.)
#   BENCH_THREADS=N   threads for nabla (default: all cores)
#   BENCH_ONLY=name   run one recipe (mlp, logreg, cnn, cnn-bn)
#   BENCH_VAL=F       hold out a fraction F of the training set for validation
set -euo pipefail
B=${1:-build}
D=/usr/share/datasets/fashion-mnist
T=${BENCH_THREADS:-$(nproc)}
out=runs/bench
mkdir -p "$out"
[ -d "$D" ] || { echo "bench: $D missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
# All 60000 training images, as the recipes (and PyTorch's runs of them) use; the test set is
# scored once, at the end. BENCH_VAL=0.1 holds out a validation split instead.
common=(--train "$D" --test "$D" --batch-size 64 --seed 1 --threads "$T" --quiet)
[ -n "${BENCH_VAL:-}" ] && common+=(--val-split "$BENCH_VAL")
run() { # name, then training options
    local name=$1; shift
    [ -n "${BENCH_ONLY:-}" ] && [ "$BENCH_ONLY" != "$name" ] && return 0
    echo "bench: $name ..." >&2
    /usr/bin/time -f "%M" -o "$out/$name.rss" "$B/nabla" train "${common[@]}" "$@" \
        --out "$out/$name/model.safetensors" --metrics-json "$out/$name.json" >/dev/null
}
run logreg --model "dense 10" --optimizer sgd --lr 0.1 --epochs 10
run mlp --model "dense 256; relu; dense 128; relu; dense 10" --optimizer sgd --lr 0.05 --momentum 0.9 --epochs 10
run cnn --model "conv 16 3x3 pad 1; relu; maxpool 2; conv 32 3x3 pad 1; relu; maxpool 2; flatten; dense 128; relu; dense 10" \
    --optimizer adam --lr 1e-3 --epochs 5
run cnn-bn --model "conv 16 3x3 pad 1; batchnorm; relu; maxpool 2; conv 32 3x3 pad 1; batchnorm; relu; maxpool 2; flatten; dense 128; relu; dropout 0.25; dense 10" \
    --optimizer adam --lr 1e-3 --epochs 5
python3 - "$out" "$T" <<'PY'
import json, os, sys
out, threads = sys.argv[1], sys.argv[2]
print(f"\nFashion-MNIST through the nabla CLI, {threads} thread(s), {os.uname().nodename}")
print(f"{'recipe':8} {'epochs':>6} {'test acc':>9} {'s/epoch':>8} {'peak RSS':>9}  target")
targets = {"logreg": ">= 83%", "mlp": ">= 86.5%", "cnn": ">= 90.0%", "cnn-bn": "(reported)"}
for name in ("logreg", "mlp", "cnn", "cnn-bn"):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p):
        continue
    m = json.load(open(p))
    ep = m["epochs"]
    secs = sum(e["seconds"] for e in ep) / len(ep)
    rss = int(open(os.path.join(out, name + ".rss")).read().split()[-1]) / 1024
    print(f"{name:8} {len(ep):>6} {100 * m['test']['accuracy']:>8.2f}% {secs:>8.2f} {rss:>7.0f} MB  {targets[name]}")
PY
