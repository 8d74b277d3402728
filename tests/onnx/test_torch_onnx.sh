#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_torch_onnx.sh - ONNX files torch.onnx.export wrote (tests/onnx/make_torch_fixtures.py,
# committed under tests/onnx/torch/: an MLP at opsets 13 and 17 and ending in nn.Softmax, an MLP
# with BatchNorm1d, LeakyReLU, Sigmoid and Softplus, a CNN with conv (batch norm folded in by
# torch), max and average pooling, ELU, flatten and LeakyReLU) run in nabla: predict --proba
# equals PyTorch's probabilities within 1e-5 (CSV rows, and for the CNN IDX images too); summary
# reads them; eval's loss and accuracy are PyTorch's; train --init fine-tunes them (the loss goes
# down after one epoch); a graph with an operator nabla lacks (Resize from nn.Upsample; GELU,
# which opset 13 writes as Div, Erf, Add, Mul) is refused with exit 5 (NB_ERR_FORMAT) and one
# line naming the operator. Neither Python nor torch is needed here.
NAME=test_torch_onnx
. tests/cli/lib.sh
D=tests/onnx/torch

# the largest absolute difference of two CSV files of numbers with the same layout
maxdiff() {
    awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; n[FNR] = NF; rows = FNR; next }
        { if (NF != n[FNR]) { print "layout"; bad = 1; exit }
          for (i = 1; i <= NF; i++) { d = $i - a[FNR, i]; if (d < 0) d = -d; if (d > m) m = d } seen = FNR }
        END { if (!bad) print (seen == rows ? m + 0 : "rows") }' "$1" "$2"
}
within() { awk -v d="$1" -v t="$2" 'BEGIN { exit !(d != "" && d + 0 == d && d <= t) }'; }
# the number after a "loss" / "accuracy" line's label in `nabla eval`'s report (accuracy in %)
metric() { awk -v k="$1" '$1 == k { v = $2; sub(/%$/, "", v); print v; exit }' "$2"; }

# predict MODEL DATA REF: --proba within 1e-5 of PyTorch's probabilities
predict_matches() {
    run "$NABLA" predict --model "$1" --data "$2" --proba --no-proba-header
    if [ "$rc" -ne 0 ]; then bad "predict $1 on $2: exit $rc: $(head -c 300 "$T/err")"; return; fi
    local d; d=$(maxdiff "$3" "$T/out")
    if within "$d" 1e-5; then ok; else bad "predict $1 on $2: max |nabla - torch| = $d (want <= 1e-5)"; fi
}

predict_matches $D/torch_mlp.onnx $D/torch_mlp.csv $D/torch_mlp_proba.txt
predict_matches $D/torch_mlp_opset17.onnx $D/torch_mlp.csv $D/torch_mlp_proba.txt
predict_matches $D/torch_mlp_softmax.onnx $D/torch_mlp.csv $D/torch_mlp_proba.txt
predict_matches $D/torch_mlp_bn.onnx $D/torch_mlp_bn.csv $D/torch_mlp_bn_proba.txt
predict_matches $D/torch_cnn.onnx $D/torch_cnn.csv $D/torch_cnn_proba.txt
predict_matches $D/torch_cnn.onnx idx:$D/torch_cnn-images-idx3-ubyte $D/torch_cnn_proba.txt
# the same rows on standard input
run "$NABLA" predict --model $D/torch_mlp.onnx --data - --proba --no-proba-header <$D/torch_mlp.csv
check "predict from stdin" within "$(maxdiff $D/torch_mlp_proba.txt "$T/out")" 1e-5

# summary: MODEL INPUT OUTPUTS PARAMETERS; its "model:" line is the spec, kept in $T/NAME.spec
summary_is() {
    local f=$1 name; name=$(basename "$1" .onnx)
    run "$NABLA" summary --model "$f"
    if [ "$rc" -ne 0 ]; then bad "summary $f: exit $rc: $(head -c 300 "$T/err")"; return; fi
    if grep -qx "input:  $2" "$T/out" && grep -qx "outputs: $3" "$T/out" &&
       grep -qx "parameters: $4" "$T/out" && grep -qx "task:   classify" "$T/out"; then ok
    else bad "summary $f: want input $2, $3 outputs, $4 parameters, classify; got: $(head -c 600 "$T/out")"; fi
    sed -n 's/^model:  //p' "$T/out" >"$T/$name.spec"
}
summary_is $D/torch_mlp.onnx "(20)" 3 1251          # 20*32+32 + 32*16+16 + 16*3+3
summary_is $D/torch_mlp_opset17.onnx "(20)" 3 1251
summary_is $D/torch_mlp_softmax.onnx "(20)" 3 1251
summary_is $D/torch_mlp_bn.onnx "(6)" 4 320         # 84 + batch norm 24 + 104 + 72 + 36
summary_is $D/torch_cnn.onnx "(1, 14, 14)" 10 1034  # conv 40 + conv 296 + 528 + 170
check "summary: the MLP's spec is its layers (torch's eval export has no Dropout)" \
    grep -qx "dense 32; relu; dense 16; tanh; dense 3" "$T/torch_mlp.spec"
# a final Softmax is the classifier's output function, which nabla applies itself: not a layer
check "summary: the softmax MLP's final Softmax is its task's output, not a layer" \
    grep -qx "dense 32; relu; dense 16; tanh; dense 3" "$T/torch_mlp_softmax.spec"

# eval on the labelled rows: PyTorch's mean cross-entropy (eval prints 6 digits) and accuracy
eval_matches() { # MODEL DATA METRICS
    run "$NABLA" eval --model "$1" --data "$2"
    if [ "$rc" -ne 0 ]; then bad "eval $1 on $2: exit $rc: $(head -c 300 "$T/err")"; return; fi
    local l a want_l want_a
    l=$(metric loss "$T/out"); a=$(metric accuracy "$T/out")
    want_l=$(metric loss "$3"); want_a=$(metric accuracy "$3")
    if awk -v l="$l" -v a="$a" -v wl="$want_l" -v wa="$want_a" 'BEGIN {
            d = l - wl; if (d < 0) d = -d; e = a - 100 * wa; if (e < 0) e = -e
            exit !(l != "" && a != "" && d <= 1e-5 * (1 + wl) && e <= 0.006) }'; then ok
    else bad "eval $1 on $2: loss $l accuracy $a%, torch: loss $want_l accuracy $want_a"; fi
}
eval_matches $D/torch_mlp.onnx $D/torch_mlp.csv $D/torch_mlp_metrics.txt
eval_matches $D/torch_mlp_softmax.onnx $D/torch_mlp.csv $D/torch_mlp_metrics.txt
eval_matches $D/torch_mlp_bn.onnx $D/torch_mlp_bn.csv $D/torch_mlp_bn_metrics.txt
eval_matches $D/torch_cnn.onnx $D/torch_cnn.csv $D/torch_cnn_metrics.txt
eval_matches $D/torch_cnn.onnx idx:$D/torch_cnn $D/torch_cnn_metrics.txt

# train --init: one epoch of full-batch SGD from PyTorch's weights, unscaled inputs as torch saw
# them; the fine-tuned model's loss on the same rows is below the ONNX model's
finetune() { # MODEL DATA SPEC
    local name; name=$(basename "$1" .onnx)
    run "$NABLA" eval --model "$1" --data "$2"
    local before; before=$(metric loss "$T/out")
    run "$NABLA" train --init "$1" --model "$3" --train "$2" --scale none --optimizer sgd --lr 0.05 \
        --batch-size 64 --epochs 1 --seed 1 --out "$T/$name.ft.safetensors" --quiet
    if [ "$rc" -ne 0 ]; then bad "train --init $1: exit $rc: $(head -c 300 "$T/err")"; return; fi
    run "$NABLA" eval --model "$T/$name.ft.safetensors" --data "$2"
    local after; after=$(metric loss "$T/out")
    if awk -v b="$before" -v a="$after" 'BEGIN { exit !(b != "" && a != "" && a + 0 < b - 1e-4) }'; then ok
    else bad "train --init $1: loss $before before, $after after one epoch (want lower)"; fi
}
finetune $D/torch_mlp.onnx $D/torch_mlp.csv "$(cat "$T/torch_mlp.spec")"
finetune $D/torch_mlp_softmax.onnx $D/torch_mlp.csv "$(cat "$T/torch_mlp_softmax.spec")"
finetune $D/torch_cnn.onnx idx:$D/torch_cnn "$(cat "$T/torch_cnn.spec")"
# a spec that does not match the file's layers is refused (exit 5 names the mismatch)
run "$NABLA" train --init $D/torch_mlp.onnx --model "dense 31; relu; dense 16; tanh; dense 3" \
    --train $D/torch_mlp.csv --epochs 1 --out "$T/bad.safetensors" --quiet
check "train --init with another spec: exit 5 (got $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 5 ]

# refusals: the first operator nabla lacks, named on one line; no model comes of it
expect_err 5 "Resize" "$NABLA" predict --model $D/torch_upsample.onnx --data $D/torch_cnn.csv
expect_err 5 "Resize" "$NABLA" summary --model $D/torch_upsample.onnx
expect_err 5 "Div" "$NABLA" eval --model $D/torch_gelu.onnx --data $D/torch_mlp.csv

finish
