#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_onnx_import.sh - the CLI on ONNX files another tool wrote (tests/onnx/cases/, made by
# tests/onnx/make_import_cases.py): summary prints the spec, predict reads a CSV of bare
# features (the file has no schema) and IDX images, with the numpy reference's values; eval
# takes labeled data; train --init fine-tunes from the file with the spec summary printed.
NAME=test_onnx_import
source "$(dirname "$0")/lib.sh"
C=tests/onnx/cases

run "$NABLA" summary --model $C/cnn.onnx
check "summary of an ONNX CNN" [ "$rc" -eq 0 ]
check "summary prints the spec" grep -q '^model:  conv 2 3x3 pad 1; batchnorm; relu; maxpool 2; conv 3 2x2 nobias; avgpool 2 pad 1; flatten; dense 2$' "$T/out"
check "summary prints the input shape" grep -q '^input:  (1, 6, 6)$' "$T/out"

# predict: features only, values as numpy's (the reference's rows: inputs, then outputs)
for c in gemm_softmax regress matmul_binary multilabel_bn; do
    read -r rows feat outs task < $C/$c.txt
    sed -n "2,$((rows + 1))p" $C/$c.txt | tr ' ' ',' > "$T/x.csv"
    sed -n "$((rows + 2)),$((2 * rows + 1))p" $C/$c.txt > "$T/want"
    run "$NABLA" predict --model $C/$c.onnx --data "$T/x.csv" --proba --no-proba-header
    check "$c: predict exits 0 ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
    if [ "$task" = binary ]; then cut -d, -f2 "$T/out" > "$T/got"; else tr ',' ' ' < "$T/out" > "$T/got"; fi
    check "$c: predictions match the reference" awk 'NR == FNR { for (i = 1; i <= NF; i++) w[FNR, i] = $i; next }
        { for (i = 1; i <= NF; i++) { d = $i - w[FNR, i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 } n++ } END { exit n == 0 }' "$T/want" "$T/got"
done

# IDX images into the CNN: 3 images of 6x6 bytes, labels 0 1 1
printf '\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x06\x00\x00\x00\x06' > "$T/img-idx3-ubyte"
head -c 108 /dev/zero | tr '\0' '\7' >> "$T/img-idx3-ubyte"
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x00\x01\x01' > "$T/lab-idx1-ubyte"
run "$NABLA" predict --model $C/cnn.onnx --data "idx:$T/img-idx3-ubyte"
check "predict on IDX images" [ "$rc" -eq 0 ] && check "three predictions" [ "$(wc -l < "$T/out")" -eq 3 ]
run "$NABLA" eval --model $C/cnn.onnx --data "idx:$T/img-idx3-ubyte,$T/lab-idx1-ubyte"
check "eval on IDX images ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
check "eval counts 3 rows" grep -q '^rows *3$' "$T/out"

# train --init from the ONNX file with the spec summary prints
printf 'a,b,c,d,y\n' > "$T/train.csv"
for i in $(seq 1 40); do echo "$((i % 5)).5,$((i % 3)),-$((i % 7)),0.$i,$((i % 2))"; done >> "$T/train.csv"
spec=$("$NABLA" summary --model $C/gemm_softmax.onnx | sed -n 's/^model:  //p')
run "$NABLA" train --model "$spec" --init $C/gemm_softmax.onnx --train "$T/train.csv" --epochs 1 --out "$T/ft.safetensors"
check "train --init M.onnx ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
expect_err 5 "tensor 'layers.0.weight' has shape (3, 4), the model needs (5, 4)" \
    "$NABLA" train --model "dense 5; relu; dense 2" --init $C/gemm_softmax.onnx --train "$T/train.csv" --epochs 1 --out "$T/ft2.safetensors"
expect_err 5 "node 1 'cos0' (Cos): the operator is not supported" "$NABLA" summary --model $C/bad_unknown_op.onnx
finish
