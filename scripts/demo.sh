#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the chain rule on the lecture notes' two graphs, then a real model trained from
# the command line: the reference MLP on Fashion-MNIST (about half a minute), scored once on
# the test set, exported to ONNX and read back, and its HTML report (runs/demo/mlp.report.html, its path printed last).
# Outputs go to runs/demo/.
set -euo pipefail
B=${1:-build}
out=runs/demo
mkdir -p "$out"
# run: print the command exactly as it runs (shell-quoted, copy-pasteable), then run it
run() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }
echo "== 1. The chain rule, by nabla's autodiff (lecture notes' worked examples)"
run "$B/examples/chain_rule" "$out/chain_rule.dot"
echo
run "$B/examples/sigmoid_neuron" "$out/sigmoid_neuron.dot"
if command -v dot >/dev/null; then
    run dot -Tpng "$out/sigmoid_neuron.dot" -o "$out/sigmoid_neuron.png" && echo "rendered $out/sigmoid_neuron.png"
else
    echo "(install graphviz and run: dot -Tpng $out/sigmoid_neuron.dot -o sigmoid_neuron.png)"
fi
echo
echo "== 2. Training the reference MLP on Fashion-MNIST with the nabla CLI"
data=/usr/share/datasets/fashion-mnist
spec="dense 256; relu; dense 128; relu; dense 10"
run "$B/nabla" train --train "$data" --test "$data" --val-split 0.1 --model "$spec" \
    --optimizer sgd --lr 0.05 --momentum 0.9 --batch-size 64 --epochs 10 --seed 1 \
    --threads "$(nproc)" --class-names "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot" \
    --out "$out/mlp.safetensors" --metrics-json "$out/metrics.json"
echo
echo "== 3. The saved model, summarised and used"
run "$B/nabla" summary --model "$out/mlp.safetensors"
echo
printf '$ %q predict --model %q --data %q > %q\n' "$B/nabla" "$out/mlp.safetensors" "$data" "$out/predictions.txt"
"$B/nabla" predict --model "$out/mlp.safetensors" --data "$data" >"$out/predictions.txt"
echo "first five test images, predicted (all 10000 in $out/predictions.txt):"
head -n 5 "$out/predictions.txt"
echo
echo "files: $out/ (model, mlp.history.csv, mlp.history.svg, metrics.json, the .dot graphs)"
echo
echo "== 4. The same model as ONNX (opset 13) for other runtimes; nabla reads it back"
run "$B/nabla" export --model "$out/mlp.safetensors" --onnx "$out/mlp.onnx"
printf '$ %q predict --model %q --data %q > %q\n' "$B/nabla" "$out/mlp.onnx" "$data" "$out/predictions.onnx.txt"
"$B/nabla" predict --model "$out/mlp.onnx" --data "$data" >"$out/predictions.onnx.txt"
if cmp -s "$out/predictions.txt" "$out/predictions.onnx.txt"; then
    echo "the 10000 predictions from mlp.onnx are those from mlp.safetensors"
else
    echo "demo: the predictions from mlp.onnx differ from mlp.safetensors' (a bug: please report it)" >&2
    exit 1
fi
echo
echo "== 5. The training report: one self-contained HTML page (open it in a browser)"
run "$B/nabla" report --model "$out/mlp.safetensors" --data "$data" --out "$out/mlp.report.html"
