#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_codes.sh - exit codes that misled (issue 14, item 12): every fault of a spec exits 5
# (NB_ERR_FORMAT, docs/CLI.md), whether the grammar, a layer's value check or the training
# rules find it; a model file with a damaged header is called a malformed model file (exit 5),
# not read as spec text and blamed on the spec (exit 2); a spec's canonical text (as saved in
# a model file) reads back as the same model.
# The exit status is the verdict; the last line is a summary.
set -u
NAME=test_cli_codes
. "$(dirname "$0")/lib.sh"
absent() { ! grep -q "$@"; }

printf 'a,b,y\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n1,1,0\n2,2,1\n' >"$T/d.csv"
run "$NABLA" train --train "$T/d.csv" --model "dense 4; relu; dense 2" --epochs 1 --out "$T/m.safetensors" --quiet
check "a model file to damage ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- damaged model headers: exit 5
# byte $1 of the model file set to byte value $2, into $3
damage() { python3 - "$T/m.safetensors" "$1" "$2" "$3" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[int(sys.argv[2])] = int(sys.argv[3])
open(sys.argv[4], "wb").write(b)
PY
}
damage 6 127 "$T/len.safetensors"      # an impossible header length
damage 8 120 "$T/brace.safetensors"    # the header's '{' overwritten
damage 8 120 "$T/brace.bin"            # the same, not named .safetensors
damage 20 125 "$T/json.safetensors"    # a '}' inside the JSON
for f in len.safetensors brace.safetensors brace.bin json.safetensors; do
    expect_err 5 "$T/$f: " "$NABLA" summary --model "$T/$f"
    check "summary of damaged $f does not blame the spec" absent "spec\|--input-shape" "$T/err"
    expect_err 5 "$T/$f: " "$NABLA" summary --model "$T/$f" --input-shape 2
done
run "$NABLA" summary --model "$T/m.safetensors"
check "the undamaged model file summarises" [ "$rc" -eq 0 ]
printf 'dense 4; relu\ndense 2\n' >"$T/net.spec"
run "$NABLA" summary --model "$T/net.spec" --input-shape 2
check "a spec file is still a spec ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- every spec fault exits 5
expect_err 5 "spec:1: 'dropout' takes a probability in [0, 1); 0.9999999999 rounds to 1 as a float" \
    "$NABLA" summary --model "dense 4; dropout 0.9999999999; dense 2" --input-shape 2
expect_err 5 "0.9999999999 rounds to 1" \
    "$NABLA" train --train "$T/d.csv" --model "dense 4; dropout 0.9999999999; dense 2" --out "$T/x.safetensors" --quiet
expect_err 5 "spec:1: 'dropout' takes a probability in [0, 1)" \
    "$NABLA" train --train "$T/d.csv" --model "dense 4; dropout 1.5; dense 2" --out "$T/x.safetensors" --quiet
expect_err 5 "spec:1: unknown layer 'dense2'" "$NABLA" summary --model "dense2" --input-shape 2
expect_err 5 "follows the output layer" \
    "$NABLA" train --train "$T/d.csv" --model "dense 2; relu" --out "$T/x.safetensors" --quiet
check "no model file after a refused spec" [ ! -e "$T/x.safetensors" ]

# ---------------------------------------------------------------- the saved spec reads back
# 0.9999999 is a float below 1 that %g printed as "dropout 1": the model saved, then no
# command could load it
run "$NABLA" train --train "$T/d.csv" --model "dense 4; dropout 0.9999999; dense 2" --epochs 1 --out "$T/p.safetensors" --quiet
check "train with dropout 0.9999999 ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" summary --model "$T/p.safetensors"
check "its model file loads ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
check "its spec keeps the value" grep -q "dropout 0.99999988" "$T/out"
# %g's 6 digits changed a slope silently: 0.1234567 was saved as "leaky_relu 0.123457"
run "$NABLA" train --train "$T/d.csv" --model "dense 4; leaky_relu 0.1234567; dense 2" --epochs 1 --out "$T/q.safetensors" --quiet
run "$NABLA" summary --model "$T/q.safetensors"
check "a leaky_relu slope keeps its float ($(head -c 200 "$T/err"))" grep -q "leaky_relu 0.123456702" "$T/out"
# the text of existing model files is unchanged: values %g reads back exactly stay short
run "$NABLA" summary --model "dense 4; dropout 0.1; leaky_relu 0.2; dense 2" --input-shape 2
check "short values stay short" grep -q "model:  dense 4; dropout 0.1; leaky_relu 0.2; dense 2" "$T/out"

finish
