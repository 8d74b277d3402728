#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_data.sh - the CLI on CSV input that issue 13 found awkward: tab- and ';'-separated
# files through train/eval/predict without flags (the delimiter is detected each time) and
# with --delimiter, and the one-line errors for misleading cases.
# The exit status is the verdict; the last line is a summary.
set -u
NAME=test_cli_data
. "$(dirname "$0")/lib.sh"

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

# ---------------------------------------------------------------- --missing (item 15)
# 36 rows; f1 is missing in 4 of them and f2 in 4 others, so 32 values of each are present and
# their means (multiples of 1/128) are exact in float and in decimal
awk 'BEGIN { print "f1,f2,kind"; for (i = 0; i < 36; i++) { k = i % 2;
        a = sprintf("%.2f", 3*k + (i % 4) * 0.25); b = sprintf("%.2f", -2*k + (i % 8) * 0.25);
        if (i % 9 == 1) a = (i % 2 ? "NA" : "?"); if (i % 9 == 5) b = "";
        print a "," b "," (k ? "big" : "small") } }' >"$T/na.csv"
mean_of() { awk -F, -v c="$1" 'NR > 1 && $c != "NA" && $c != "?" && $c != "" { s += $c; n++ } END { printf "%.10g", s / n }' "$T/na.csv"; }
m1=$(mean_of 1) m2=$(mean_of 2)
cut -d, -f1,2 "$T/na.csv" >"$T/na_x.csv"
awk -F, -v OFS=, -v m1="$m1" -v m2="$m2" 'NR > 1 { if ($1 == "NA" || $1 == "?") $1 = m1; if ($2 == "") $2 = m2 } { print }' \
    "$T/na_x.csv" >"$T/na_filled.csv"
check "the hand-filled file has no missing value" [ "$(grep -c 'NA\|?\|,$' "$T/na_filled.csv")" -eq 0 ]
expect_err 5 'na.csv:3: column 0 ("f1"): "NA", a missing value in a numeric column (fill or drop such rows, or set --missing to mean or drop)' \
    "$NABLA" train --train "$T/na.csv" --model "dense 2" --out "$T/x.safetensors"
expect_err 2 "--missing: expected error, mean or drop, got 'zero'" \
    "$NABLA" train --train "$T/na.csv" --missing zero --model "dense 2" --out "$T/x.safetensors"
run "$NABLA" train --train "$T/na.csv" --missing mean --model "dense 2" --epochs 20 --out "$T/mean.safetensors"
check "train --missing mean exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "train --missing mean: 36 training rows" grep -q '^data: 36 training rows' "$T/err"
run "$NABLA" predict --model "$T/mean.safetensors" --data "$T/na_x.csv" --proba
cp "$T/out" "$T/p_na"
check "predict on the file with missing values exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" predict --model "$T/mean.safetensors" --data "$T/na_filled.csv" --proba
check "predict: missing values become the training means (same outputs as filled by hand)" \
    cmp -s "$T/out" "$T/p_na"
check "predict: one line per row and a header" [ "$(wc -l <"$T/p_na")" -eq 37 ]
run "$NABLA" eval --model "$T/mean.safetensors" --data "$T/na.csv" --missing drop
check "eval --missing drop on a mean model: 28 rows, 8 dropped ($(head -c 300 "$T/err"))" \
    [ "$rc" -eq 0 ] && grep -q '^rows *28$' "$T/out" && grep -qx "$T/na.csv: dropped 8 rows with missing values" "$T/err"
run "$NABLA" train --train "$T/na.csv" --missing drop --model "dense 2" --epochs 5 --out "$T/drop.safetensors"
check "train --missing drop reports the rows dropped ($(head -c 300 "$T/err"))" \
    [ "$rc" -eq 0 ] && grep -qx "$T/na.csv: dropped 8 rows with missing values" "$T/err" &&
    grep -q '^data: 28 training rows' "$T/err"
run "$NABLA" eval --model "$T/drop.safetensors" --data "$T/na.csv"
check "eval drops as the model was trained" [ "$rc" -eq 0 ] && grep -q '^rows *28$' "$T/out" &&
    grep -qx "$T/na.csv: dropped 8 rows with missing values" "$T/err"
expect_err 5 "na_x.csv: 8 rows have missing values, and the model drops such rows (trained with --missing drop): predict answers every input row" \
    "$NABLA" predict --model "$T/drop.safetensors" --data "$T/na_x.csv"
check "predict refused: no output line" [ ! -s "$T/out" ]
run "$NABLA" predict --model "$T/drop.safetensors" --data "$T/na_filled.csv"
check "predict with a drop model on complete rows" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 36 ]
expect_err 2 "missing values cannot become means: the schema (model) stores none (learn it with --missing mean)" \
    "$NABLA" eval --model "$T/drop.safetensors" --data "$T/na.csv" --missing mean
expect_err 2 "--missing: expected mean or drop" \
    "$NABLA" eval --model "$T/drop.safetensors" --data "$T/na.csv" --missing error
# --missing error is the default: the same model file, byte for byte
"$NABLA" train --train "$T/d.tsv" --model "dense 2" --epochs 2 --out "$T/e0.safetensors" -q 2>/dev/null
"$NABLA" train --train "$T/d.tsv" --model "dense 2" --epochs 2 --out "$T/e1.safetensors" -q --missing error 2>/dev/null
check "--missing error changes no byte of the model file" cmp -s "$T/e0.safetensors" "$T/e1.safetensors"


# ---------------------------------------------------------------- text (issue 15, "Data")
# two classes told apart by their letters (one of them multi-byte: "ł"), 4..8 characters
# (the header is told by its label, "kind", which never recurs, while "high" does)
awk 'BEGIN { srand(7); print "text,kind"; for (i = 0; i < 120; i++) { k = i % 2; s = "";
    n = 4 + int(rand() * 5); for (j = 0; j < n; j++) s = s (k ? (rand() < 0.5 ? "x" : "ł") : (rand() < 0.5 ? "a" : "b"));
    print s "," (k ? "low" : "high") } }' >"$T/text.csv"
run "$NABLA" train --train "$T/text.csv" --tokens chars --model "dense 8; relu; dense 2" --epochs 80 \
    --lr 0.05 --seed 1 --out "$T/text.safetensors"
check "train --tokens chars exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "the model stores the character vocabulary" grep -q '\\"tokens\\":\\"chars\\",\\"max_len\\":8' "$T/text.safetensors"
run "$NABLA" eval --model "$T/text.safetensors" --data "$T/text.csv"
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "eval of the text model: >= 90% (got $acc; $(head -c 200 "$T/err"))" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
# prediction data: the text alone, unseen characters (q, ü) become unknown, longer rows truncated
printf 'text\naaaa\nxłxł\nqüqü\nabababababababab\n' >"$T/text_x.csv"
run "$NABLA" predict --model "$T/text.safetensors" --data "$T/text_x.csv"
check "predict on text with unseen characters: 4 answers ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && [ "$(grep -cx 'high\|low' "$T/out")" -eq 4 ]
check "predict: aaaa is high, xłxł low" [ "$(sed -n 1p "$T/out")" = high ] && [ "$(sed -n 2p "$T/out")" = low ]
printf 'text\naaaa\nab\xed\xa0\x80\n' >"$T/text_bad.csv"
expect_err 5 "text_bad.csv:3: column 0 (\"text\"): invalid UTF-8 at byte 2 of the text (a UTF-16 surrogate)" \
    "$NABLA" predict --model "$T/text.safetensors" --data "$T/text_bad.csv"
printf 'text,n,kind\nab,1,high\nxy,2,low\n' >"$T/text_mix.csv"
expect_err 5 "mixing a text column with numeric feature columns is not supported" \
    "$NABLA" train --train "$T/text_mix.csv" --tokens words --model "dense 2" --out "$T/x.safetensors"
expect_err 2 "--tokens: expected chars or words, got 'bytes'" \
    "$NABLA" train --train "$T/text.csv" --tokens bytes --model "dense 2" --out "$T/x.safetensors"
expect_err 2 "give --tokens chars or --tokens words too" \
    "$NABLA" train --train "$T/text.csv" --max-len 4 --model "dense 2" --out "$T/x.safetensors"
run "$NABLA" train --train "$T/text.csv" --header yes --tokens words --max-vocab 3 --max-len 2 --model "dense 2" --epochs 1 --out "$T/w.safetensors"
check "train --tokens words --max-vocab 3 --max-len 2 ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && grep -q '\\"tokens\\":\\"words\\",\\"max_len\\":2' "$T/w.safetensors"

# an embedding takes its vocabulary from the data: "embedding 8" is saved as "embedding 8 vocab V"
# (V = 6: the padding and unknown ids and the 4 letters a, b, x, ł of the training file)
run "$NABLA" train --train "$T/text.csv" --header yes --tokens chars --model "embedding 8; flatten; dense 2" --epochs 40 \
    --lr 0.05 --seed 1 --out "$T/emb.safetensors"
check "train embedding from text exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" summary --model "$T/emb.safetensors"
check "the embedding is sized by the vocabulary: 2 + 4 letters ($(head -c 200 "$T/out"))" grep -q '^model:  embedding 8 vocab 6; flatten; dense 2$' "$T/out"
run "$NABLA" predict --model "$T/emb.safetensors" --data "$T/text_x.csv"
check "predict with the embedding: aaaa is high, xłxł low ($(head -c 200 "$T/err"))" [ "$(sed -n 1p "$T/out")" = high ] && [ "$(sed -n 2p "$T/out")" = low ]

finish
