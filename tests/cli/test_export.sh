#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_export.sh - `nabla export`: tiny models of every layer family trained with the CLI
# (MLPs with every activation, batch norm, prelu and dropout; CNNs with padded pooling and
# global pooling; tanh RNN, LSTM and GRU on sequences, bidirectional, every output mode; an
# embedding over right-padded ids), exported to ONNX, checked by onnx.checker (full_check),
# and run by independent runtimes whose outputs must match `nabla predict --proba` within
# 1e-5: OpenCV 4.6's dnn where it runs the graph, and tests/onnx/onnx_numpy.py, a numpy
# evaluator written from the ONNX operator spec, for all. Skips the ONNX checks (not the CLI
# ones) when python3-onnx is missing. A few seconds.
set -u
NAME=test_export
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CHECK_PY=$(dirname "$0")/../onnx/check_export.py
have_onnx=1
if ! "$PY" -c "import onnx, numpy" 2>/dev/null; then
    have_onnx=0
    echo "SKIP: python3-onnx missing (scripts/deps.sh installs it)"
fi

# the CLI itself
expect_err 2 "--model MODEL.safetensors is required" "$NABLA" export --onnx "$T/x.onnx"
expect_err 2 "--onnx FILE.onnx is required" "$NABLA" export --model "$T/x.safetensors"
expect_err 4 "$T/none.safetensors" "$NABLA" export --model "$T/none.safetensors" --onnx "$T/x.onnx"
run "$NABLA" export --help
check "export --help prints its usage" grep -q "usage: nabla export" "$T/out"
run "$NABLA" --help
check "the main help lists export" grep -q "^  export " "$T/out"

# data: 4 numeric features, 3 classes (by the sign of two sums); 6x2 sequences; ids right-padded with 0
awk 'BEGIN { srand(11); print "a,b,c,d,y";
    for (i = 0; i < 240; i++) { a = 10*rand() - 5; b = 100*rand(); c = 2*rand() - 1; d = rand();
        y = (a + c > 0) ? ((b > 50) ? 2 : 1) : 0; printf "%.4f,%.3f,%.4f,%.4f,%d\n", a, b, c, d, y } }' >"$T/mlp.csv"
awk -F, 'NR > 1 && NR <= 41 { print $1 "," $2 "," $3 "," $4 }' "$T/mlp.csv" >"$T/mlp_rows.csv"
awk -F, 'NR == 1 { print "a,b,c,d,y1,y2"; next } { print $1 "," $2 "," $3 "," $4 "," ($5 == 2 ? 1 : 0) "," ($1 > 0 ? 1 : 0) }' \
    "$T/mlp.csv" >"$T/ml.csv"
awk -F, 'NR == 1 { print "a,b,c,d,y"; next } { print $1 "," $2 "," $3 "," $4 "," ($5 == 2 ? 1 : 0) }' "$T/mlp.csv" >"$T/bin.csv"
awk -F, 'NR == 1 { print "a,b,c,d,t1,t2"; next } { printf "%s,%s,%s,%s,%.4f,%.4f\n", $1, $2, $3, $4, 3*$1 + $2 + 100, $3*$4 - 7 }' \
    "$T/mlp.csv" >"$T/reg.csv"
awk 'BEGIN { srand(7); for (j = 0; j < 12; j++) printf "f%d,", j; print "y";
    for (i = 0; i < 200; i++) { s = 0;
        for (j = 0; j < 12; j++) { v = 2*rand() - 1; if (j % 2 == 0) s += v; printf "%.4f,", v }
        print (s > 0) ? 1 : 0 } }' >"$T/seq.csv"
awk -F, 'NR > 1 && NR <= 41 { for (j = 1; j < NF; j++) printf "%s%s", $j, (j < NF - 1 ? "," : "\n") }' "$T/seq.csv" >"$T/seq_rows.csv"
awk 'BEGIN { srand(5); print "t0,t1,t2,t3,t4,t5,y";
    for (i = 0; i < 200; i++) { n = 1 + int(6*rand()); s = 0;
        for (j = 0; j < 6; j++) { v = (j < n) ? 1 + int(9*rand()) : 0; if (v > 5) s++; printf "%d,", v }
        print (s >= 2) ? 1 : 0 } }' >"$T/ids.csv"
awk -F, 'NR > 1 && NR <= 41 { print $1 "," $2 "," $3 "," $4 "," $5 "," $6 }' "$T/ids.csv" >"$T/ids_rows.csv"

# name, data, train options, spec, rows, opencv: yes, OpenCV 4.6 runs the graph and must agree;
# try, its result is only reported: OpenCV 4.6 imports none of the exported RNN / LSTM / GRU
# nodes nor a Gather of the input's ids (the numpy evaluator checks those), and its
# AveragePool divides by the window inside the image, ignoring count_include_pad=1 (avgpad)
cases=(
  "mlp|$T/mlp.csv||dense 16; relu; dense 3|$T/mlp_rows.csv|yes"
  "acts|$T/mlp.csv||dense 8; tanh; dense 8; leaky_relu 0.1; dense 8; elu 0.7; dense 8; softplus; dense 8; silu; dense 8; sigmoid; identity; dense 8; maxout 2; dense 3; log_softmax; dense 3; softmax|$T/mlp_rows.csv|yes"
  "step|$T/mlp.csv||dense 8; step; dense 3|$T/mlp_rows.csv|yes"
  "bnprelu|$T/bin.csv|--task binary|dense 8; batchnorm; prelu 8; dropout 0.3; dense 4; prelu; dense 1|$T/mlp_rows.csv|yes"
  "multilabel|$T/ml.csv|--task multilabel --label y1,y2|dense 8; relu; dense 2|$T/mlp_rows.csv|yes"
  "regress|$T/reg.csv|--task regress --label t1,t2|dense 8; tanh; dense 2|$T/mlp_rows.csv|yes"
  "cnn|$T/seq.csv|--input-shape 1x4x3|conv 4 3x3 pad 1; batchnorm; relu; maxpool 2 pad 1; conv 3 2 nobias; flatten; dense 2|$T/seq_rows.csv|yes"
  "dilated|$T/seq.csv|--input-shape 1x4x3|conv 3 2 dilation 2 nobias; dropout 0.2; dense 2|$T/seq_rows.csv|yes"
  "avgpool|$T/seq.csv|--input-shape 1x4x3|conv 4 2 pad 1; avgpool 2; prelu 4; dense 2|$T/seq_rows.csv|yes"
  "avgpad|$T/seq.csv|--input-shape 1x4x3|conv 4 3 pad 1; avgpool 2 stride 1 pad 1; dense 2|$T/seq_rows.csv|try"
  "gap|$T/seq.csv|--input-shape 2x3x2|conv 4 2 pad 1; prelu 4; gap; dense 2|$T/seq_rows.csv|yes"
  "rnn|$T/seq.csv|--input-shape 6x2|rnn 6; dense 2|$T/seq_rows.csv|try"
  "lstm|$T/seq.csv|--input-shape 6x2|lstm 5 sequence bidirectional; lstm 4 mean; dense 2|$T/seq_rows.csv|try"
  "gru|$T/seq.csv|--input-shape 6x2|gru 5 sequence; dense 2|$T/seq_rows.csv|try"
  "gru_bi|$T/seq.csv|--input-shape 1x6x2|gru 4 bidirectional; dense 2|$T/seq_rows.csv|try"
  "embed|$T/ids.csv|--scale none|embedding 4 vocab 10; lstm 5 sequence bidirectional; gru 3 mean; dense 2|$T/ids_rows.csv|try"
  "embed_rnn|$T/ids.csv|--scale none|embedding 3 vocab 10; rnn 4 bidirectional; dense 2|$T/ids_rows.csv|try"
  "embed_nopad|$T/ids.csv|--scale none|embedding 3 vocab 10 nopad; flatten; dense 2|$T/ids_rows.csv|try"
)
checked=() # the cases whose ONNX file the runtimes check
for c in "${cases[@]}"; do
    IFS='|' read -r name data opts spec rows cv <<<"$c"
    # shellcheck disable=SC2086 # opts are words
    run "$NABLA" train --train "$data" $opts --model "$spec" --out "$T/$name.safetensors" --epochs 3 --batch-size 16 \
        --optimizer adam --lr 0.01 --seed 1 --quiet
    check "$name: train exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ] || continue
    run "$NABLA" export --model "$T/$name.safetensors" --onnx "$T/$name.onnx"
    check "$name: export exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    check "$name: export's line ($(head -c 300 "$T/out"))" grep -qE "^exported $T/$name.onnx: [0-9]+ nodes, opset 13, inputs input\[batch,[0-9,]+\], outputs " "$T/out"
    for m in safetensors onnx; do
        if [[ "$opts" == *regress* ]]; then
            run "$NABLA" predict --model "$T/$name.$m" --data "$rows"
        else
            run "$NABLA" predict --model "$T/$name.$m" --data "$rows" --proba --no-proba-header
        fi
        cp "$T/out" "$T/$name.$m.txt"
        check "$name: predict --model $name.$m exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    done
    cp "$T/$name.safetensors.txt" "$T/$name.want"
    # the round trip: nabla reads its own ONNX file back (metadata, tensors by name, the
    # recurrent gates reordered back) and predicts the same bytes
    check "$name: the exported file predicts what the model file does, byte for byte" cmp -s "$T/$name.want" "$T/$name.onnx.txt"
    printf '%s\t%s\t%s\t%s\n' "$T/$name.onnx" "$rows" "$T/$name.want" "$cv" >>"$T/cases.tsv"
    checked+=("$name")
done
# the independent runtimes, every file in one Python process (its start, with onnx and
# OpenCV, takes about a second): each case's verdict and lines in $T/<name>.onnx.check
if [ "$have_onnx" -eq 1 ] && [ ${#checked[@]} -gt 0 ]; then
    run "$PY" "$CHECK_PY" --batch "$T/cases.tsv"
    check "check_export.py --batch ran ($(tail -c 600 "$T/err"))" [ "$rc" -eq 0 ]
    for name in "${checked[@]}"; do
        f=$T/$name.onnx.check
        check "$name: the ONNX file is valid and runs as nabla predicts ($(tail -n +2 "$f" 2>/dev/null | tail -c 600))" \
            [ "$(head -n 1 "$f" 2>/dev/null)" = ok ]
        tail -n +2 "$f" 2>/dev/null | sed "s|$T/||"
    done
fi
run "$NABLA" export --model "$T/mlp.safetensors" --onnx "$T/q.onnx" --quiet
check "--quiet prints nothing" [ "$rc" -eq 0 ] && [ ! -s "$T/out" ] && [ -s "$T/q.onnx" ]
# an unwritable target keeps the previous file
echo previous >"$T/keep.onnx"
expect_err 4 "$T/keep.onnx/x" "$NABLA" export --model "$T/mlp.safetensors" --onnx "$T/keep.onnx/x.onnx"
check "the previous file is kept" grep -qx previous "$T/keep.onnx"
finish
