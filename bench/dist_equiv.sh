#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dist_equiv.sh BUILD [NP] - the README's reference MLP on Fashion-MNIST trained by one process
# and by `mpirun -np NP` (default 2) from the same seed: the largest weight difference after
# one step, 100 steps and one epoch (beside the same distance between two one-process runs
# whose learning rates differ by one float ulp: how far rounding alone carries this recipe), the test accuracy of both after the recipe's 10 epochs, and whether a repeat of
# the distributed run gives the same bytes (issue 16). Needs Open MPI, an MPI build and
# python3-numpy (the safetensors reader below). Not part of make test: about a minute.
set -euo pipefail
BUILD=${1:-build} NP=${2:-2}
D=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
recipe=(--train "$D" --test "$D" --val-split 0.1 --model "dense 256; relu; dense 128; relu; dense 10"
        --optimizer sgd --lr 0.05 --momentum 0.9 --quiet)
mpi=(mpirun --oversubscribe --bind-to none -np "$NP")
maxdiff() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], '<f4')
            for k, v in h.items() if k != '__metadata__'}
a, b = load(sys.argv[1]), load(sys.argv[2])
print('%.3g' % max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a))
PY
}
for rows in 64 6400; do # 1 and 100 steps
    "$BUILD/nabla" train "${recipe[@]}" --limit $rows --epochs 1 --out "$T/a.safetensors" >/dev/null 2>&1
    "${mpi[@]}" "$BUILD/nabla" train "${recipe[@]}" --limit $rows --epochs 1 --out "$T/b.safetensors" >/dev/null 2>&1
    echo "after $((rows / 64)) step(s): max |w(1 process) - w($NP ranks)| = $(maxdiff "$T/a.safetensors" "$T/b.safetensors")"
done
"$BUILD/nabla" train "${recipe[@]}" --epochs 1 --out "$T/one1.safetensors" >/dev/null 2>&1
"$BUILD/nabla" train "${recipe[@]}" --epochs 1 --lr 0.050000004 --out "$T/ulp.safetensors" >/dev/null 2>&1
"${mpi[@]}" "$BUILD/nabla" train "${recipe[@]}" --epochs 1 --out "$T/np1.safetensors" >/dev/null 2>&1
echo "after 1 epoch: max |w(1 process) - w($NP ranks)| = $(maxdiff "$T/one1.safetensors" "$T/np1.safetensors")"
echo "after 1 epoch: max |w(lr 0.05) - w(lr 0.050000004)|, both 1 process = $(maxdiff "$T/one1.safetensors" "$T/ulp.safetensors")"
"$BUILD/nabla" train "${recipe[@]}" --epochs 10 --out "$T/one.safetensors" >"$T/one.out" 2>&1
"${mpi[@]}" "$BUILD/nabla" train "${recipe[@]}" --epochs 10 --out "$T/np.safetensors" >"$T/np.out" 2>&1
"${mpi[@]}" "$BUILD/nabla" train "${recipe[@]}" --epochs 10 --out "$T/np2.safetensors" >/dev/null 2>&1
echo "after 10 epochs: 1 process $(grep '^test:' "$T/one.out")"
echo "after 10 epochs: $NP ranks   $(grep '^test:' "$T/np.out")"
echo "after 10 epochs: max |w(1 process) - w($NP ranks)| = $(maxdiff "$T/one.safetensors" "$T/np.safetensors")"
if cmp -s "$T/np.safetensors" "$T/np2.safetensors"; then echo "$NP ranks, repeated: the same bytes"
else echo "$NP ranks, repeated: DIFFERENT bytes"; exit 1; fi
