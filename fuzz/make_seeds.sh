#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the hand-made seeds of fuzz/corpus/ (small valid files and interesting edge
# cases for each target); inputs libFuzzer found and minimised sit beside them and are kept.
# Usage: fuzz/make_seeds.sh BUILD_DIR (a built nabla CLI writes two real model files; the
# checkpoint seeds come from BUILD_DIR/fuzz/replay_checkpoint, built by `make test`).
# Needs python3 (standard library only). Seeds are a few hundred bytes each.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-build}/nabla
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# two real model files from the CLI: an MLP on a CSV with categorical and string labels, and
# a small CNN on IDX images
printf 'color,w,h,species\nred,1.5,2,setosa\nblue,2.5,1,versicolor\ngreen,0.5,3,setosa\nred,3,4,virginica\n' >"$tmp/iris.csv"
"$cli" train --train "$tmp/iris.csv" --model "dense 3; relu; dense 3" --epochs 1 \
    --out "$tmp/mlp.safetensors" >/dev/null 2>&1
python3 fuzz/make_seeds.py "$tmp" "$tmp/mlp.safetensors"
"$cli" train --train "idx:$tmp/cnn-images,$tmp/cnn-labels" \
    --model "conv 2 3x3 pad 1; relu; maxpool 2; batchnorm; flatten; dropout 0.1; dense 3" \
    --epochs 1 --out "$tmp/cnn.safetensors" >/dev/null 2>&1
mkdir -p fuzz/corpus/safetensors
cp "$tmp/mlp.safetensors" fuzz/corpus/safetensors/seed-mlp-csv
cp "$tmp/cnn.safetensors" fuzz/corpus/safetensors/seed-cnn-idx
python3 fuzz/make_seeds.py --preproc "$tmp/mlp.safetensors" "$tmp/cnn.safetensors"
# ONNX seeds: the files tests/onnx/make_import_cases.py writes with onnx.helper (and the
# PyTorch fixtures of tests/onnx/torch/ when present)
python3 fuzz/make_seeds.py --onnx
# checkpoints of exactly the run fuzz_checkpoint resumes, written by the target itself
mkdir -p "$tmp/ckpt"
: >"$tmp/empty"
NB_FUZZ_CKPT_SEEDS="$tmp/ckpt" "${1:-build}/fuzz/replay_checkpoint" "$tmp/empty" >/dev/null 2>&1
python3 fuzz/make_seeds.py --checkpoint "$tmp/ckpt"
echo "seeds: $(find fuzz/corpus -type f | wc -l) files, $(du -sh fuzz/corpus | cut -f1)"
