#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_seq.sh - recurrent models through the CLI: numeric CSV rows read as sequences with
# --input-shape TxF, and IDX images read as rows (--input-shape 8x6: 8 steps of 6 features)
# and as (1, 8, 6) images the recurrent layer reads the same way; train, eval, predict and
# summary of `lstm 16; dense 2`, `gru 8 bidirectional; dense 2` and a stacked model. Small
# generated data: a few seconds.
set -u
NAME=test_cli_seq
. "$(dirname "$0")/lib.sh"

# CSV: 12 columns as 6 steps of 2 features; class 1 when feature 0 summed over the steps > 0
awk 'BEGIN { srand(7); for (j = 0; j < 12; j++) printf "f%d,", j; print "y";
    for (i = 0; i < 300; i++) { s = 0;
        for (j = 0; j < 12; j++) { v = 2*rand() - 1; if (j % 2 == 0) s += v; printf "%.4f,", v }
        print (s > 0) ? 1 : 0 } }' >"$T/seq.csv"
head -n 61 "$T/seq.csv" >"$T/seq_test.csv"

run "$NABLA" train --train "$T/seq.csv" --input-shape 6x2 --model "lstm 16; dense 2" --out "$T/lstm.safetensors" \
    --epochs 20 --batch-size 16 --optimizer adam --lr 0.02 --seed 1 --quiet
check "train lstm on CSV TxF exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" eval --model "$T/lstm.safetensors" --data "$T/seq_test.csv"
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "eval of the lstm: accuracy >= 90% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
run "$NABLA" predict --model "$T/lstm.safetensors" --data "$T/seq_test.csv"
check "predict prints one class per row" [ "$rc" -eq 0 ] && [ "$(grep -cxE '0|1' "$T/out")" -eq 60 ]
run "$NABLA" summary --model "$T/lstm.safetensors"
check "summary lists the lstm ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ] && grep -q 'lstm 16' "$T/out"
run "$NABLA" summary --model "lstm 16 sequence; gru 8 bidirectional; dense 2" --input-shape 6x2 --outputs 2
check "summary of a stacked spec ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ] && grep -q 'gru 8 bidirectional' "$T/out"
expect_err 3 "needs a sequence (T, F) per sample" "$NABLA" train --train "$T/seq.csv" --model "lstm 4; dense 2" \
    --out "$T/x.safetensors" --epochs 1 --quiet

# IDX: 8x6 byte images; class 1 when the top half is brighter than the bottom half
if command -v python3 >/dev/null; then
    python3 - "$T" <<'PY'
import random, struct, sys
random.seed(3)
n, h, w = 200, 8, 6
imgs, labels = bytearray(), bytearray()
for i in range(n):
    top = random.random() < 0.5
    for r in range(h):
        for c in range(w):
            hi = (r < h // 2) == top
            imgs.append(random.randint(120, 255) if hi else random.randint(0, 135))
    labels.append(1 if top else 0)
with open(sys.argv[1] + "/img-images-idx3-ubyte", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, h, w) + bytes(imgs))
with open(sys.argv[1] + "/img-labels-idx1-ubyte", "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(labels))
PY
    for shape in "--input-shape 8x6" ""; do
        run "$NABLA" train --train "idx:$T/img" $shape --model "gru 8 bidirectional; dense 2" --out "$T/img.safetensors" \
            --epochs 15 --batch-size 16 --optimizer adam --lr 0.02 --seed 1 --quiet --test "idx:$T/img"
        check "train gru on IDX ${shape:-as (1, 8, 6)} exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
        run "$NABLA" summary --model "$T/img.safetensors"
        want="(1, 8, 6)"; [ -n "$shape" ] && want="(8, 6)"
        check "the model's input is ${want} ($(head -c 300 "$T/out"))" grep -qxF "input:  $want" "$T/out"
        run "$NABLA" eval --model "$T/img.safetensors" --data "idx:$T/img"
        acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
        check "eval of the IDX gru ${shape}: accuracy >= 95% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 95) }'
        run "$NABLA" predict --model "$T/img.safetensors" --data "idx:$T/img-images-idx3-ubyte"
        check "predict on IDX images ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 200 ]
    done
fi
finish
