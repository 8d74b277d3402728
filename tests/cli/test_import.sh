#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_import.sh - `nabla import`: PyTorch weights (tests/ref/make_import_ref.py: an MLP with
# BatchNorm1d and dropout, a CNN with conv, BatchNorm2d and max pooling, in eval mode) become
# model files whose predict --proba equals PyTorch's probabilities within 1e-5, and that eval
# and summary read like trained ones; a missing tensor, a misshapen one and an extra one are
# refused with messages naming the tensor.
set -u
BUILD=${BUILD:-build}
NABLA=$BUILD/nabla
R=tests/ref
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# the largest absolute difference of two CSV files of numbers with the same layout
maxdiff() {
    awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; n[FNR] = NF; rows = FNR; next }
        { if (NF != n[FNR]) { print "layout"; bad = 1; exit }
          for (i = 1; i <= NF; i++) { d = $i - a[FNR, i]; if (d < 0) d = -d; if (d > m) m = d } seen = FNR }
        END { if (!bad) print (seen == rows ? m + 0 : "rows") }' "$1" "$2"
}

MLP="dense 8; batchnorm; relu; dropout 0.3; dense 3"
CNN="conv 3 3x3 pad 1; batchnorm; relu; maxpool 2x2; flatten; dense 4"
mlp_args=(--weights $R/import_mlp.safetensors --data $R/import_mlp.csv --label y --class-names a,b,c
          --scale-mean 1,-2,0.5,3,0,10 --scale-std 2,0.5,1,4,1.5,5 --quiet)
cnn_args=(--weights $R/import_cnn.safetensors --data $R/import_cnn.csv --label y --input-shape 1x6x6
          --scale unit --quiet)

"$NABLA" import "${mlp_args[@]}" --model "$MLP" --out "$T/mlp.safetensors" || bad "import mlp: exit $?"
"$NABLA" predict --model "$T/mlp.safetensors" --data $R/import_mlp.csv --proba --no-proba-header >"$T/mlp.txt" || bad "predict mlp"
d=$(maxdiff $R/import_mlp_proba.txt "$T/mlp.txt")
awk -v d="$d" 'BEGIN { exit !(d != "" && d + 0 == d && d <= 1e-5) }' || bad "mlp: max |nabla - torch| = $d (want <= 1e-5)"

"$NABLA" import "${cnn_args[@]}" --model "$CNN" --out "$T/cnn.safetensors" || bad "import cnn: exit $?"
"$NABLA" predict --model "$T/cnn.safetensors" --data $R/import_cnn.csv --proba --no-proba-header >"$T/cnn.txt" || bad "predict cnn"
d=$(maxdiff $R/import_cnn_proba.txt "$T/cnn.txt")
awk -v d="$d" 'BEGIN { exit !(d != "" && d + 0 == d && d <= 1e-5) }' || bad "cnn: max |nabla - torch| = $d (want <= 1e-5)"

# the files are ordinary models: class names, eval and summary
"$NABLA" predict --model "$T/mlp.safetensors" --data $R/import_mlp.csv >"$T/names.txt" || bad "predict names"
[ "$(sort -u "$T/names.txt" | tr '\n' ' ')" = "$(sort -u "$T/names.txt" | grep -E '^[abc]$' | tr '\n' ' ')" ] &&
    [ "$(wc -l <"$T/names.txt")" -eq 24 ] || bad "predict: expected 24 class names a/b/c, got $(head -3 "$T/names.txt")"
"$NABLA" eval --model "$T/cnn.safetensors" --data $R/import_cnn.csv >"$T/eval.txt" || bad "eval cnn"
grep -q "accuracy" "$T/eval.txt" || bad "eval: no accuracy line"
"$NABLA" summary --model "$T/cnn.safetensors" >"$T/sum.txt" || bad "summary cnn"
grep -q "^parameters: 148$" "$T/sum.txt" || bad "summary: expected 148 parameters: $(cat "$T/sum.txt")"

# errors name the tensor (and the shapes); no model file is written
expect() { # expect CODE PATTERN ARGS...: exit code and one stderr line matching PATTERN
    local code=$1 pat=$2; shift 2
    "$NABLA" import "$@" --out "$T/bad.safetensors" 2>"$T/err"
    local rc=$?
    [ "$rc" -eq "$code" ] || bad "import $*: exit $rc, want $code ($(cat "$T/err"))"
    grep -qE -- "$pat" "$T/err" || bad "import $*: stderr '$(cat "$T/err")' lacks /$pat/"
    [ ! -e "$T/bad.safetensors" ] || bad "import $*: wrote a model file"
    rm -f "$T/bad.safetensors"
}
expect 5 "tensor 'layers.3.weight' is missing" "${mlp_args[@]}" --model "dense 8; batchnorm; relu; dense 3"
expect 5 "tensor 'layers.0.weight' has shape \(8, 6\), the model needs \(9, 6\)" "${mlp_args[@]}" --model "dense 9; batchnorm; relu; dropout 0.3; dense 3"
expect 5 "tensor 'layers.4.bias' is not part of the model" "${mlp_args[@]}" --model "dense 8; batchnorm; relu; dropout 0.3; dense 3 nobias"
expect 2 "scale-mean: 2 values for 6 features" "${mlp_args[@]}" --model "$MLP" --scale-mean 1,2
expect 2 "scale-mean and --scale-std go together" --weights $R/import_mlp.safetensors --data $R/import_mlp.csv --label y --model "$MLP" --scale-mean 1
expect 2 "--scale: expected none, unit, minmax or standard, got 'pixels'" "${cnn_args[@]}" --model "$CNN" --scale pixels
expect 2 "--weights FILE.safetensors is required" --model "$MLP" --data $R/import_mlp.csv

[ "$fail" -eq 0 ] && echo "test_import: ok"
exit "$fail"
