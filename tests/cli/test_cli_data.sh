#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_data.sh - the CLI on CSV input that issue 13 found awkward: tab- and ';'-separated
# files through train/eval/predict without flags (the delimiter is detected each time) and
# with --delimiter, and the one-line errors for misleading cases.
# The exit status is the verdict; the last line is a summary.
set -u
BUILD=${BUILD:-build}
NABLA=$BUILD/nabla
[ -x "$NABLA" ] || { echo "test_cli_data: $NABLA not built"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
expect_err() {
    local code=$1 sub=$2; shift 2
    run "$@"
    local lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -q '^nabla: ' "$T/err" &&
       grep -qF -- "$sub" "$T/err"; then ok
    else bad "expected exit $code and one line with '$sub' from: $* (got $rc: $(head -c 300 "$T/err"))"; fi
}

# two separable classes, 3 features, a header; written with separator $1
gen() { # SEP N SEED
    awk -v sep="$1" -v n="$2" -v s="$3" 'BEGIN { srand(s); print "f1" sep "f2" sep "f3" sep "kind";
        for (i = 0; i < n; i++) { k = i % 2;
            printf "%.3f%s%.3f%s%.3f%s%s\n", 3*k + rand(), sep, -2*k + rand(), sep, rand(), sep,
                   k ? "big" : "small" } }'
}

# ---------------------------------------------------------------- delimiters (item 14)
for kind in tsv semi; do
    if [ $kind = tsv ]; then sep=$'\t'; f="$T/d.tsv"; else sep=';'; f="$T/d_semi.csv"; fi
    gen "$sep" 120 1 >"$f"
    run "$NABLA" train --train "$f" --model "dense 2" --epochs 60 --lr 0.1 --out "$T/$kind.safetensors"
    check "train on a $kind file exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    run "$NABLA" eval --model "$T/$kind.safetensors" --data "$f"
    check "eval on a $kind file without --delimiter ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
    check "$kind: separable data >= 90% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
    run "$NABLA" predict --model "$T/$kind.safetensors" --data "$f"
    check "predict on a $kind file: 120 class names" [ "$rc" -eq 0 ] && [ "$(grep -cx 'big\|small' "$T/out")" -eq 120 ]
done
# the flag, in its spellings
run "$NABLA" eval --model "$T/tsv.safetensors" --data "$T/d.tsv" --delimiter tab
check "--delimiter tab" [ "$rc" -eq 0 ]
run "$NABLA" predict --model "$T/semi.safetensors" --data "$T/d_semi.csv" --delimiter ';'
check "--delimiter ;" [ "$rc" -eq 0 ]
expect_err 2 "leave no feature column in a file of 1 columns" "$NABLA" train --train "$T/d_semi.csv" \
    --delimiter , --model "dense 2" --out "$T/x.safetensors"
expect_err 2 "--delimiter: expected one character (such as , or ;), tab, space or auto, got 'ab'" \
    "$NABLA" train --train "$T/d_semi.csv" --delimiter ab --model "dense 2" --out "$T/x.safetensors"
printf 'a;b;y\n1,5;2;0\n2,5;3;1\n' >"$T/dc.csv"
expect_err 5 "\"1,5\" has a decimal comma" "$NABLA" train --train "$T/dc.csv" --model "dense 2" \
    --out "$T/x.safetensors"

# ---------------------------------------------------------------- numeric labels (items 17, 18)
awk 'BEGIN { srand(7); print "x1,x2,y";
    for (i = 0; i < 400; i++) { a = rand(); b = rand(); printf "%.3f,%.3f,%.2f\n", a, b, 3*a + b + 0.25 } }' >"$T/r.csv"
expect_err 2 "the label column 2 (\"y\") holds" "$NABLA" train --train "$T/r.csv" --model "dense 4" \
    --out "$T/x.safetensors"
check "the message suggests --task regress" grep -qF "a classify task needs class labels; for numbers use --task regress (or another --label)" "$T/err"
check "no model was written" [ ! -e "$T/x.safetensors" ]
expect_err 2 "the label column 0 (\"x1\") holds" "$NABLA" train --train "$T/r.csv" --label 0 \
    --model "dense 4" --out "$T/x.safetensors"
run "$NABLA" train --train "$T/r.csv" --task regress --model "dense 1" --epochs 1 --out "$T/r.safetensors"
check "with --task regress it trains" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- messages that misled (item 18)
expect_err 5 "spec:1: layer 'relu' follows 'dense' without a ';' or a new line between them" \
    "$NABLA" train --train "$T/d.tsv" --model "dense 8 relu dense 2" --out "$T/x.safetensors"
expect_err 5 "d_semi.csv: not a safetensors file (its first 8 bytes are not a header length; is it a CSV or a spec?)" \
    "$NABLA" eval --model "$T/d_semi.csv" --data "$T/d.tsv"
expect_err 5 "not a safetensors file" "$NABLA" predict --model "$T/d.tsv" --data "$T/d.tsv"
expect_err 4 "--model: no file 'net.spec' and it is not a layer spec" \
    "$NABLA" train --train "$T/d.tsv" --model net.spec --out "$T/x.safetensors"
expect_err 4 "--model: no file 'specs/mlp' and it is not a layer spec" \
    "$NABLA" summary --model specs/mlp --input-shape 4
expect_err 5 "--model: '$T/d.tsv' is data, not a layer spec" \
    "$NABLA" train --train "$T/d.tsv" --model "$T/d.tsv" --out "$T/x.safetensors"
expect_err 5 "spec:1: unknown layer 'foo'" "$NABLA" summary --model "dense 2; foo" --input-shape 4

echo "test_cli_data: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
