#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli.sh - end-to-end tests of the nabla CLI ($BUILD/nabla): tiny generated datasets
# (separable 3-class CSV with a header and string labels, binary, multilabel, regression),
# train/eval/predict/summary, history files, determinism, --help, the documented exit codes
# and one-line errors, SIGINT, and a Fashion-MNIST smoke run when the data is installed.
# The exit status is the verdict; the last line is a summary. Runs in well under 30 s.
set -u
NAME=test_cli
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- data
# 3 classes around well-separated centres, 4 features, a header and a string label column
gen3() { # N SEED
    awk -v n="$1" -v s="$2" 'BEGIN { srand(s); print "f1,f2,f3,f4,species";
        split("setosa versicolor virginica", name, " ");
        for (i = 0; i < n; i++) { k = i % 3;
            printf "%.3f,%.3f,%.3f,%.3f,%s\n", 4*k + rand() - 0.5, -3*k + rand() - 0.5,
                   rand(), 2*(k==1) + rand() - 0.5, name[k+1] } }'
}
gen3 300 1 >"$T/iris.csv"
gen3 90 2 >"$T/iris_test.csv"
cut -d, -f1-4 "$T/iris_test.csv" >"$T/iris_nolabel.csv"
# binary: label yes when x1 + x2 > 0
awk 'BEGIN { srand(3); print "x1,x2,answer";
    for (i = 0; i < 200; i++) { a = 2*rand() - 1; b = 2*rand() - 1;
        printf "%.4f,%.4f,%s\n", a, b, (a + b > 0) ? "yes" : "no" } }' >"$T/bin.csv"
# multilabel: two 0/1 labels from two features
awk 'BEGIN { srand(4); print "a,b,c,hot,big";
    for (i = 0; i < 200; i++) { a = rand(); b = rand(); c = rand();
        printf "%.4f,%.4f,%.4f,%d,%d\n", a, b, c, (a > 0.5), (b > 0.5) } }' >"$T/ml.csv"
# regression: y = 2 x1 - 3 x2 + 0.5 (+ small noise), no header
awk 'BEGIN { srand(5);
    for (i = 0; i < 200; i++) { a = rand(); b = rand();
        printf "%.4f,%.4f,%.4f\n", a, b, 2*a - 3*b + 0.5 + 0.01*(rand() - 0.5) } }' >"$T/reg.csv"
printf 'a,b,c\n1,2,x\n3,4,y\n5,6\n' >"$T/ragged.csv"

# ---------------------------------------------------------------- version and help
run "$NABLA" --version
check "--version" [ "$rc" -eq 0 ]
check "--version prints the version" grep -q '^nabla [0-9]*\.[0-9]*\.[0-9]*$' "$T/out"
for c in "" train eval test predict summary; do
    run "$NABLA" $c --help
    check "nabla $c --help exits 0" [ "$rc" -eq 0 ]
    check "nabla $c --help prints usage" grep -q 'usage: nabla' "$T/out"
done

# ---------------------------------------------------------------- classify
mkdir -p "$T/c"
run "$NABLA" train --train "$T/iris.csv" --val-split 0.2 --test "$T/iris_test.csv" \
    --model "dense 8; relu; dense 3" --out "$T/c/m.safetensors" --epochs 15 --batch-size 16 \
    --optimizer adam --lr 0.02 --seed 1 --metrics-json "$T/c/m.json"
check "train classify exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "model file written" [ -s "$T/c/m.safetensors" ]
check "history.csv has a header and 15 epochs" [ "$(wc -l <"$T/c/m.history.csv")" -eq 16 ]
check "history.csv header" grep -qx 'epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds' "$T/c/m.history.csv"
check "history.svg is SVG" grep -q '^<?xml\|^<svg' "$T/c/m.history.svg"
check "history.svg closes" grep -q '</svg>' "$T/c/m.history.svg"
if command -v xmllint >/dev/null; then check "history.svg is well-formed XML" xmllint --noout "$T/c/m.history.svg"; fi
check "the run names its history files" grep -qx "history: $T/c/m.history.csv, $T/c/m.history.svg" "$T/err"
# two runs in one directory keep their own histories and checkpoints
"$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/h2/a.safetensors" --epochs 2 --seed 1 --quiet --checkpoint-every 1
"$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/h2/b.nbm" --epochs 3 --seed 1 --quiet --checkpoint-every 1
check "two runs in one directory keep both histories" [ "$(wc -l <"$T/h2/a.history.csv")" -eq 3 ] && [ "$(wc -l <"$T/h2/b.history.csv")" -eq 4 ] && [ -s "$T/h2/a.history.svg" ] && [ -s "$T/h2/b.history.svg" ]
check "two runs in one directory keep both checkpoint directories" [ -n "$(ls "$T/h2/a.checkpoints")" ] && [ -n "$(ls "$T/h2/b.checkpoints")" ]
check "a progress line per epoch on stderr" [ "$(grep -c '^epoch [0-9]*/15  train loss' "$T/err")" -eq 15 ]
check "test score printed once on stdout" [ "$(grep -c '^test: n 90  loss' "$T/out")" -eq 1 ]
if command -v python3 >/dev/null; then
    check "metrics json" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert len(m["epochs"]) == 15 and m["best_epoch"] >= 1 and m["test"]["n"] == 90
assert [c["name"] for c in m["test"]["classes"]] == ["setosa", "versicolor", "virginica"]
assert m["interrupted"] is False' "$T/c/m.json"
fi

run "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json "$T/c/e.json"
check "eval exits 0" [ "$rc" -eq 0 ]
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "eval accuracy on separable data >= 90% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
check "eval prints a confusion matrix with class names" grep -q '^virginica' "$T/out"
check "eval prints per-class F1" grep -q 'precision.*recall.*f1' "$T/out"

# outputs are replaced atomically (rename), so only a missing or regular file may be the target
mkdir -p "$T/w"
echo keep >"$T/w/real.json"
ln -s "$T/w/real.json" "$T/w/link.json"
mkfifo "$T/w/fifo.json"
expect_err 4 "w/link.json' is a symbolic link, not a regular file; nabla replaces files atomically and will not replace a link: give the real path, or - for standard output" \
    "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json "$T/w/link.json"
check "the refused symlink is still a link to an unchanged file" [ -L "$T/w/link.json" ] && [ "$(cat "$T/w/real.json")" = keep ]
expect_err 4 "is a named pipe (FIFO), not a regular file" \
    "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json "$T/w/fifo.json"
check "the refused FIFO is still a FIFO" [ -p "$T/w/fifo.json" ]
expect_err 4 "'/dev/null' is a device, not a regular file" \
    "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json /dev/null
check "/dev/null is still a device" [ -c /dev/null ]
expect_err 4 "--out: '$T/w/link.json' is a symbolic link" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/w/link.json" --epochs 1 --quiet
check "train --out symlink: link and target unchanged" [ -L "$T/w/link.json" ] && [ "$(cat "$T/w/real.json")" = keep ]
expect_err 4 "--metrics-json: '$T/w/fifo.json' is a named pipe (FIFO)" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/w/m.safetensors" --epochs 1 --quiet --metrics-json "$T/w/fifo.json"
expect_err 2 "--out -: the model file is binary" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out - --epochs 1 --quiet
ln -s "$T/w/real.json" "$T/w/m.history.csv"
expect_err 4 "w/m.history.csv' is a symbolic link" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/w/m.safetensors" --epochs 1 --quiet
check "a history symlink is left as it was" [ -L "$T/w/m.history.csv" ] && [ "$(cat "$T/w/real.json")" = keep ]
run "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json -
check "eval --metrics-json - writes the JSON alone on stdout" [ "$rc" -eq 0 ] && [ "$(head -c 1 "$T/out")" = "{" ] && [ "$(tail -n 1 "$T/out")" = "}" ]
check "eval --metrics-json -: the report goes to stderr" grep -q '^accuracy' "$T/err"
run "$NABLA" train --train "$T/iris.csv" --test "$T/iris_test.csv" --model "dense 3" --out "$T/w/j.safetensors" --epochs 2 --quiet --metrics-json -
check "train --metrics-json - writes the JSON alone on stdout" [ "$rc" -eq 0 ] && [ "$(head -c 1 "$T/out")" = "{" ] && grep -q '^test: n 90' "$T/err"
if command -v python3 >/dev/null; then
    run "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --metrics-json -
    check "eval --metrics-json - is valid JSON" python3 -c 'import json, sys; m = json.load(sys.stdin); assert m["n"] == 90' <"$T/out"
    run "$NABLA" train --train "$T/iris.csv" --test "$T/iris_test.csv" --model "dense 3" --out "$T/w/j.safetensors" --epochs 2 --quiet --metrics-json -
    check "train --metrics-json - is valid JSON" python3 -c 'import json, sys; m = json.load(sys.stdin); assert len(m["epochs"]) == 2' <"$T/out"
fi
run "$NABLA" test --model "$T/c/m.safetensors" --data "$T/iris_test.csv"
check "test is an alias of eval" grep -q '^accuracy' "$T/out"

run "$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_test.csv"
check "predict exits 0" [ "$rc" -eq 0 ]
check "predict prints one line per row" [ "$(wc -l <"$T/out")" -eq 90 ]
check "predict prints class names" [ "$(grep -cxE 'setosa|versicolor|virginica' "$T/out")" -eq 90 ]
run "$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_nolabel.csv"
check "predict without a label column ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 90 ]
run "$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_nolabel.csv" --proba
check "predict --proba prints 3 probabilities" [ "$(tail -n +2 "$T/out" | awk -F, 'NF == 3' | wc -l)" -eq 90 ]
check "probabilities sum to 1" awk -F, 'NR > 1 { s = $1 + $2 + $3; if (s < 0.999 || s > 1.001) exit 1 }' "$T/out"
# the --proba header names the classes in eval's order (the confusion matrix's columns)
hdr=$(head -n 1 "$T/out")
"$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" >"$T/ev.txt"
order=$(awk '/^confusion matrix/ { getline; $1 = $1; gsub(/ /, ","); print; exit }' "$T/ev.txt")
check "predict --proba header is the class names in eval's order ($hdr / $order)" [ "$hdr" = "setosa,versicolor,virginica" ] && [ "$hdr" = "$order" ]
run "$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_nolabel.csv" --proba --no-proba-header
check "--no-proba-header leaves the header out" [ "$(wc -l <"$T/out")" -eq 90 ] && awk -F, '{ s = $1 + $2 + $3; if (s < 0.999 || s > 1.001) exit 1 }' "$T/out"
# standard input: --data - reads CSV from stdin, with the same result as the file
"$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --proba >"$T/p_file.txt"
"$NABLA" predict --model "$T/c/m.safetensors" --data - --proba <"$T/iris_test.csv" >"$T/p_stdin.txt"; rc=$?
check "predict --data - reads stdin" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/p_stdin.txt")" -eq 91 ] && cmp -s "$T/p_file.txt" "$T/p_stdin.txt"
# threads: pieces of the rows on each thread's copy of the model, the same bytes out
"$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --proba --threads 3 >"$T/p_t3.txt"; rc=$?
check "predict --threads 3 prints the same probabilities" [ "$rc" -eq 0 ] && cmp -s "$T/p_file.txt" "$T/p_t3.txt"
"$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --threads 2 >"$T/ev_t2.txt"; rc=$?
check "eval --threads 2 prints the same report" [ "$rc" -eq 0 ] && cmp -s "$T/ev.txt" "$T/ev_t2.txt"
expect_err 2 "--threads" "$NABLA" predict --model "$T/c/m.safetensors" --data "$T/iris_test.csv" --threads 0
"$NABLA" eval --model "$T/c/m.safetensors" --data - <"$T/iris_test.csv" >"$T/ev_stdin.txt"; rc=$?
check "eval --data - reads stdin" [ "$rc" -eq 0 ] && cmp -s "$T/ev.txt" "$T/ev_stdin.txt"
expect_err 5 "stdin:2: " "$NABLA" predict --model "$T/c/m.safetensors" --data - <<<$'f1,f2,f3,f4\n1,2,3,x'
run "$NABLA" summary --model "$T/c/m.safetensors"
check "summary lists the classes of a saved model" grep -qx 'classes: setosa, versicolor, virginica' "$T/out"
run "$NABLA" summary --model "dense 4" --input-shape 3
check "summary lists unnamed classes as 0..K-1" grep -qx 'classes: 0, 1, 2, 3' "$T/out"

# summary: 4 inputs -> dense 8 (4*8 + 8 = 40) -> relu -> dense 3 (8*3 + 3 = 27): 67 parameters
run "$NABLA" summary --model "dense 8; relu; dense 3" --input-shape 4
check "summary of a spec" grep -qx 'parameters: 67' "$T/out"
check "summary shows bytes" grep -q '^bytes: 268 as float32' "$T/out"
run "$NABLA" summary --model "$T/c/m.safetensors"
check "summary of a saved model" grep -qx 'parameters: 67' "$T/out"
check "summary lists 3 layers" [ "$(grep -cE '^ +[0-9]+  (dense|relu)' "$T/out")" -eq 3 ]
echo "dense 16; tanh; dense 3" >"$T/spec.txt"
run "$NABLA" summary --model "$T/spec.txt" --data "$T/iris.csv"
# 4*16 + 16 = 80, 16*3 + 3 = 51
check "summary of a spec file with --data" grep -qx 'parameters: 131' "$T/out"
run "$NABLA" summary --model "flatten; dense 10" --input-shape 1x28x28
check "summary with an image shape (785*10)" grep -qx 'parameters: 7850' "$T/out"

# determinism: same seed, same bytes; another seed, other bytes
for s in 7 7 8; do mkdir -p "$T/d$s"; done
"$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/d7/a.safetensors" --epochs 3 --seed 7 --quiet
"$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/d7/b.safetensors" --epochs 3 --seed 7 --quiet
"$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/d8/c.safetensors" --epochs 3 --seed 8 --quiet
check "same seed gives identical model files" cmp -s "$T/d7/a.safetensors" "$T/d7/b.safetensors"
differ() { ! cmp -s "$1" "$2"; }
check "another seed gives another model file" differ "$T/d7/a.safetensors" "$T/d8/c.safetensors"

# options that shape training: --limit, --init, --early-stop, schedules, --no-shuffle
mkdir -p "$T/o"
run "$NABLA" train --train "$T/iris.csv" --limit 50 --val-split 0.2 --model "dense 3" --out "$T/o/l.safetensors" --epochs 1
check "--limit 50 with --val-split 0.2 gives 40 + 10 rows" grep -q '^data: 40 training rows, 10 validation rows' "$T/err"
run "$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/o/i.safetensors" --epochs 1 \
    --init "$T/c/m.safetensors" --lr 1e-6 --no-shuffle --quiet
check "--init from a trained model ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" eval --model "$T/o/i.safetensors" --data "$T/iris_test.csv"
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "--init keeps the trained accuracy (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
expect_err 5 "" "$NABLA" train --train "$T/iris.csv" --model "dense 9; relu; dense 3" --out "$T/o/x.safetensors" \
    --init "$T/c/m.safetensors"
run "$NABLA" train --train "$T/iris.csv" --val-split 0.3 --model "dense 3" --out "$T/o/e.safetensors" --epochs 500 \
    --early-stop 2 --optimizer adam --lr 0.5 --quiet --metrics-json "$T/o/e.json"
check "--early-stop stops early" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/o/e.history.csv")" -lt 500 ] && grep -q '"stopped_early": true' "$T/o/e.json"
run "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/s.safetensors" --epochs 4 --lr 0.1 \
    --schedule step --step-epochs 2 --gamma 0.5 --quiet
check "step schedule in history.csv" [ "$(cut -d, -f6 "$T/o/s.history.csv" | tail -n +2 | tr '\n' ' ')" = "0.1 0.1 0.05 0.05 " ]
expect_err 2 "--early-stop" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --early-stop 3
# the library names the field (nb_optim_config.momentum); the CLI prints the option that sets it
expect_err 2 "optimizer: --momentum 0.5 has no effect with adam" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --optimizer adam --momentum 0.5
expect_err 2 "optimizer: --weight-decay 0.1 applies only to adamw (use --l2 with sgd)" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --optimizer sgd --weight-decay 0.1
expect_err 2 "optimizer: --min-lr 0.5 is greater than --lr 0.1" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --lr 0.1 --schedule cosine --min-lr 0.5
expect_err 3 "give images (IDX) or a sample shape (--input-shape)" "$NABLA" train --train "$T/iris.csv" --model "conv 2 3x3; dense 3" --out "$T/o/x.safetensors"
expect_err 2 "--optimizer" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --optimizer lbfgs
expect_err 2 "exclude" "$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/o/x.safetensors" --val "$T/iris.csv" --val-split 0.1

# ---------------------------------------------------------------- binary, multilabel, regress
mkdir -p "$T/b" "$T/m" "$T/r"
run "$NABLA" train --train "$T/bin.csv" --task binary --model "dense 8; tanh; dense 1" \
    --out "$T/b/m.safetensors" --epochs 30 --optimizer adam --lr 0.05 --val-split 0.25 --quiet
check "train binary ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/b/m.history.csv")" -eq 31 ]
run "$NABLA" eval --model "$T/b/m.safetensors" --data "$T/bin.csv"
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "binary accuracy >= 90% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
run "$NABLA" predict --model "$T/b/m.safetensors" --data "$T/bin.csv"
check "binary predict prints yes/no" [ "$(grep -cxE 'yes|no' "$T/out")" -eq 200 ]

run "$NABLA" train --train "$T/ml.csv" --task multilabel --label hot,big --model "dense 8; relu; dense 2" \
    --out "$T/m/m.safetensors" --epochs 20 --optimizer adam --lr 0.05 --quiet
check "train multilabel ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" eval --model "$T/m/m.safetensors" --data "$T/ml.csv"
check "multilabel eval shows Hamming loss" grep -q '^hamming loss' "$T/out"
run "$NABLA" predict --model "$T/m/m.safetensors" --data "$T/ml.csv"
check "multilabel predict prints label names" [ "$(grep -cxE '|hot|big|hot,big' "$T/out")" -eq 200 ]

run "$NABLA" train --train "$T/reg.csv" --task regress --model "dense 1" --out "$T/r/m.safetensors" \
    --epochs 40 --optimizer adam --lr 0.05 --quiet --metrics-json "$T/r/m.json"
check "train regress ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/r/m.history.csv")" -eq 41 ]
run "$NABLA" eval --model "$T/r/m.safetensors" --data "$T/reg.csv"
r2=$(awk '$1 == "r2" { print $2 }' "$T/out")
check "regression R^2 > 0.95 (got $r2)" awk -v a="${r2:-0}" 'BEGIN { exit !(a > 0.95) }'
run "$NABLA" predict --model "$T/r/m.safetensors" --data "$T/reg.csv"
check "regress predict prints numbers" [ "$(grep -cE '^-?[0-9.e+-]+$' "$T/out")" -eq 200 ]

# ---------------------------------------------------------------- defaults that train well
# Fisher's iris (tests/cli/iris.csv), every third row held out. No optimizer, lr or epoch flags:
# the defaults (Adam lr 1e-3, automatic epochs) must learn it; SGD lr 0.01 for 10 epochs got 46%.
mkdir -p "$T/d"
IRIS=$(dirname "$0")/iris.csv
awk 'NR == 1 || (NR - 1) % 3' "$IRIS" >"$T/d/train.csv"
awk 'NR == 1 || (NR - 1) % 3 == 0' "$IRIS" >"$T/d/test.csv"
run "$NABLA" train --train "$T/d/train.csv" --test "$T/d/test.csv" --model "dense 16; relu; dense 3" \
    --out "$T/d/iris.safetensors"
acc=$(awk '$1 == "test:" { sub("%", "", $NF); print $NF }' "$T/out")
check "iris with the defaults: test accuracy >= 90% (got $acc; $(tail -c 200 "$T/err"))" \
    awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 90) }'
check "a 1000-epoch run shows 51 epoch lines, history.csv all" [ "$(grep -c '^epoch [0-9]*/1000 ' "$T/err")" -eq 51 ]
check "the run header shows the automatic epoch count" \
    grep -q 'adam lr 0.001, batch 64, 1000 epochs (auto: about 2000 steps, 10..1000)' "$T/err"
check "history.csv has the 1000 automatic epochs" [ "$(wc -l <"$T/d/iris.history.csv")" -eq 1001 ]
# regression with targets ~1e3 and the defaults: SGD lr 0.01 diverged in epoch 1
awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { a = 10*rand(); b = 10*rand();
    printf "%.4f,%.4f,%.3f\n", a, b, 300*a - 200*b + 1000 + 5*(rand() - 0.5) } }' >"$T/d/lin.csv"
run "$NABLA" train --train "$T/d/lin.csv" --task regress --model "dense 16; relu; dense 1" \
    --out "$T/d/lin.safetensors" --quiet --metrics-json "$T/d/lin.json"
check "regression with the defaults does not diverge ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ] &&
    ! grep -qiE 'nan|inf' "$T/d/lin.history.csv"
# ... and learns it: the targets are standardized (kept in the model), predictions and metrics
# are in the original units; without target scaling Adam's small steps left R^2 at -1.7
run "$NABLA" eval --model "$T/d/lin.safetensors" --data "$T/d/lin.csv"
r2=$(awk '$1 == "r2" { print $2 }' "$T/out")
check "regression of targets ~1e3 with the defaults: R^2 > 0.9 (got $r2)" awk -v a="${r2:-0}" 'BEGIN { exit !(a > 0.9) }'
r2=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['epochs'][-1]['train_loss'] < 1)" "$T/d/lin.json" 2>/dev/null)
check "the history's loss is on standardized targets" [ "${r2:-True}" = True ]
check "the model file keeps the target statistics" grep -qF 'target_scaling\":{\"mode\":\"standard\",\"offset\":[' "$T/d/lin.safetensors"
run "$NABLA" predict --model "$T/d/lin.safetensors" --data "$T/d/lin.csv"
mae=$(paste -d, "$T/out" "$T/d/lin.csv" | awk -F, '{ d = $1 - $4; s += d < 0 ? -d : d } END { print s / NR }')
check "predictions in the original units: mean absolute error < 50 (got $mae)" awk -v a="${mae:-1e9}" 'BEGIN { exit !(a < 50) }'
run "$NABLA" train --train "$T/d/lin.csv" --task regress --model "dense 16; relu; dense 1" \
    --out "$T/d/lin_none.safetensors" --quiet --target-scale none --optimizer adam --lr 0.05 --epochs 100
check "--target-scale none: no target statistics in the file" [ "$rc" -eq 0 ] && ! grep -q target_scaling "$T/d/lin_none.safetensors"
expect_err 2 "--target-scale: expected auto, standard or none, got 'minmax'" "$NABLA" train --train "$T/d/lin.csv" \
    --task regress --model "dense 1" --out "$T/d/x.safetensors" --target-scale minmax
expect_err 2 "--target-scale standard: only regression targets are scaled (the task is classify)" "$NABLA" train \
    --train "$T/d/train.csv" --model "dense 3" --out "$T/d/x.safetensors" --target-scale standard
# the old defaults, given explicitly, still run as before
run "$NABLA" train --train "$T/d/train.csv" --model "dense 16; relu; dense 3" --out "$T/d/old.safetensors" \
    --optimizer sgd --lr 0.01 --epochs 10
check "--optimizer sgd --lr 0.01 --epochs 10 is the old run" grep -q 'sgd lr 0.01, batch 64, 10 epochs, seed 0' "$T/err"

# ---------------------------------------------------------------- errors: one line, documented code
M=(--model "dense 3" --out "$T/e.safetensors")
expect_err 4 "$T/nope.csv" "$NABLA" train --train "$T/nope.csv" "${M[@]}"
expect_err 5 "ragged.csv:4" "$NABLA" train --train "$T/ragged.csv" "${M[@]}"
expect_err 2 "unknown option '--frobnicate'" "$NABLA" train --frobnicate 3
expect_err 2 "--lr: expected a positive number, got 'abc'" "$NABLA" train --train "$T/iris.csv" "${M[@]}" --lr abc
expect_err 5 "dense2" "$NABLA" train --train "$T/iris.csv" --model "dense2 3" --out "$T/e.safetensors"
expect_err 2 "--val-split: expected a number in (0, 1), got '1.5'" "$NABLA" train --train "$T/iris.csv" "${M[@]}" --val-split 1.5
expect_err 2 "--train DATA is required" "$NABLA" train --model "dense 3" --out "$T/e.safetensors"
expect_err 2 "unknown command 'fit'" "$NABLA" fit
expect_err 2 "missing command" "$NABLA"
expect_err 4 "nope.safetensors" "$NABLA" eval --model "$T/nope.safetensors" --data "$T/iris.csv"
expect_err 2 "no label column" "$NABLA" eval --model "$T/c/m.safetensors" --data "$T/iris_nolabel.csv"
expect_err 3 "" "$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 4" --out "$T/e.safetensors"
check "no model file after failures" [ ! -e "$T/e.safetensors" ]

# ---------------------------------------------------------------- batch norm and 1-row batches
mkdir -p "$T/bn"
head -66 "$T/iris.csv" >"$T/bn/65.csv"
run "$NABLA" train --train "$T/bn/65.csv" --model "dense 8; batchnorm; relu; dense 3" --out "$T/bn/m.safetensors" \
    --epochs 3 --quiet --metrics-json "$T/bn/m.json"
check "65 rows, batch 64, batchnorm trains ($(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
check "the 1-row last batch is skipped: 1 step of 64 samples per epoch" grep -q '"epoch_steps": 1,' "$T/bn/m.json" && grep -q '"epoch_samples": 64,' "$T/bn/m.json"
expect_err 2 "set --batch-size >= 2" "$NABLA" train --train "$T/bn/65.csv" --model "dense 8; batchnorm; dense 3" --out "$T/bn/x.safetensors" --batch-size 1 --quiet

# ---------------------------------------------------------------- no activation after the output layer
expect_err 5 "layer 3 (relu) follows the output layer 2 (dense 3): the classify task already applies softmax in its loss; remove 'relu'" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3; relu" --out "$T/bn/x.safetensors" --quiet
check "no model file after a refused output activation" [ ! -e "$T/bn/x.safetensors" ]

# ---------------------------------------------------------------- early stop and divergence say what was kept
run "$NABLA" train --train "$T/iris.csv" --val-split 0.3 --model "dense 3" --out "$T/bn/es.safetensors" --epochs 500 \
    --early-stop 2 --optimizer adam --lr 0.5 --metrics-json "$T/bn/es.json"
last=$(($(wc -l <"$T/bn/es.history.csv") - 1)) # (stderr shows about 50 of the epoch lines)
kept=$(sed -n 's/^  "kept_epoch": \([0-9]*\),$/\1/p' "$T/bn/es.json")
check "early stop line names the last and the kept epoch ($(grep early "$T/err"))" \
    grep -q "^early stop after epoch $last: no better validation loss for 2 epochs; kept epoch $kept (val loss " "$T/err"
check "kept_epoch is best_epoch with --early-stop" grep -q "\"best_epoch\": $kept," "$T/bn/es.json"
check "kept epoch is before the last" [ -n "$kept" ] && [ "$kept" -lt "$last" ]
expect_err 6 "training stopped (weights are those before this step; try a smaller --lr or --clip-grad-norm); those weights are saved to $T/bn/div.safetensors" \
    "$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/bn/div.safetensors" --optimizer sgd --lr 1e10 --quiet
check "diverged run saved a loadable model" "$NABLA" summary --model "$T/bn/div.safetensors" >/dev/null
check "no temporary file left beside it" [ "$(ls "$T/bn" | grep -c 'div')" -eq 1 ]

# ---------------------------------------------------------------- SIGINT: save, one line, exit 8
mkdir -p "$T/i"
"$NABLA" train --train "$T/iris.csv" --model "dense 8; relu; dense 3" --out "$T/i/m.safetensors" \
    --epochs 1000000 --quiet 2>"$T/err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"; rc=$?
check "SIGINT exits 8 (got $rc)" [ "$rc" -eq 8 ]
check "SIGINT prints one line saying the weights were saved" [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^nabla: interrupted.*saved to' "$T/err"
check "SIGINT saved a loadable model" "$NABLA" summary --model "$T/i/m.safetensors" >/dev/null

# ---------------------------------------------------------------- Fashion-MNIST smoke run
# ---------------------------------------------------------------- CSV rows as images
# 4x4 images, one per row: class 1 has its bright pixels in the top half
awk 'BEGIN { srand(6); print "label," "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10,p11,p12,p13,p14,p15";
    for (i = 0; i < 240; i++) { c = i % 2; printf "%d", c;
        for (p = 0; p < 16; p++) { top = p < 8; printf ",%.3f", ((top == c) ? 1 : 0) + 0.2*rand() }
        printf "\n" } }' >"$T/img.csv"
run "$NABLA" train --train "$T/img.csv" --label label --input-shape 1x4x4 --val-split 0.25 --epochs 10 \
    --model "conv 4 3x3 pad 1; relu; maxpool 2; flatten; dense 2" --optimizer adam --lr 0.01 --out "$T/img/m.safetensors" --quiet
check "conv on CSV rows with --input-shape ($(tail -c 200 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" eval --model "$T/img/m.safetensors" --data "$T/img.csv"
acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
check "conv on 4x4 CSV images separates the classes (accuracy $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a > 95) }'
run "$NABLA" summary --model "$T/img/m.safetensors"
check "the input shape is kept in the model" grep -q 'input:  (1, 4, 4)' "$T/out"
expect_err 2 "does not hold the 16 features" "$NABLA" train --train "$T/img.csv" --label label --input-shape 1x3x3 \
    --model "dense 2" --out "$T/img/x.safetensors"

# ---------------------------------------------------------------- non-finite weights (issue 14, item 6)
# A NaN weight in a model file: eval and train --init refuse it (exit 6) naming the tensor,
# where eval printed `loss nan` and training saved NaN weights, both with exit 0.
mkdir -p "$T/nan"
"$NABLA" train --train "$T/iris.csv" --model "dense 3" --out "$T/nan/m.safetensors" --epochs 1 --seed 1 --quiet
hl=$(od -An -t u8 -N8 "$T/nan/m.safetensors" | tr -d ' ')
printf '\000\000\300\177' | dd of="$T/nan/m.safetensors" bs=1 seek=$((8 + hl + 4)) conv=notrunc 2>/dev/null
expect_err 6 "m.safetensors: tensor 'layers.0.weight' holds NaN at element 1" \
    "$NABLA" eval --model "$T/nan/m.safetensors" --data "$T/iris_test.csv"
expect_err 6 "tensor 'layers.0.weight' holds NaN at element 1" "$NABLA" train --train "$T/iris.csv" --model "dense 3" \
    --init "$T/nan/m.safetensors" --out "$T/nan/out.safetensors" --epochs 1 --quiet
check "train --init of NaN weights saves nothing" [ ! -e "$T/nan/out.safetensors" ]

FM=/usr/share/datasets/fashion-mnist
if [ -d "$FM" ]; then
    mkdir -p "$T/f"
    run "$NABLA" train --train "$FM" --limit 2000 --epochs 1 --model "flatten; dense 32; relu; dense 10" \
        --out "$T/f/m.safetensors" --optimizer adam --lr 0.001
    check "Fashion-MNIST smoke run ($(tail -c 300 "$T/err"))" [ "$rc" -eq 0 ] && [ -s "$T/f/m.safetensors" ]
    check "Fashion-MNIST scaling is minmax" grep -q 'scaling minmax' "$T/err"
    run "$NABLA" eval --model "$T/f/m.safetensors" --data "$FM"
    acc=$(awk '$1 == "accuracy" { sub("%", "", $2); print $2 }' "$T/out")
    check "Fashion-MNIST test split after 2000 rows, 1 epoch: accuracy > 50% (got $acc)" awk -v a="${acc:-0}" 'BEGIN { exit !(a > 50) }'
    check "Fashion-MNIST eval reads the 10000 test images" grep -qx 'rows      10000' "$T/out"
fi

finish
