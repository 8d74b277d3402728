#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_report.sh - the HTML report (issue 17): `nabla report` and `nabla train --report` give
# one self-contained page with the sections run, curves, confusion (classify), regression
# (regress) and graph; no URL but the SVG namespace; everything user-supplied escaped (a
# <script> class name, a hostile CSV header), UTF-8 names passed through; odd inputs (one
# class, 100 classes, a 1-epoch history, NaN losses) give a page with only finite numbers in
# the SVG. And history.svg's legend names "validation" only when there is validation data.
# The exit status is the verdict; the last line is a summary.
set -u
NAME=test_report
. "$(dirname "$0")/lib.sh"

# iris-like: 3 classes of 4 features; the header and class names come from $1..$4
gen() { # N SEED HEADER_LAST_COLUMN NAMES(comma-separated) [K]
    awk -v n="$1" -v s="$2" -v hdr="$3" -v names="$4" 'BEGIN { srand(s);
        k = split(names, nm, ",");
        print "f1,f2,f3,f4," hdr;
        for (i = 0; i < n; i++) { c = i % k;
            printf "%.3f,%.3f,%.3f,%.3f,\"%s\"\n", c + rand(), 2 * (c % 3) + rand(), rand(),
                   -c + rand(), nm[c + 1] } }'
}
# the SVG attributes that carry coordinates: none may be nan or inf
clean_coords() { ! grep -oE ' (x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|viewBox)="[^"]*"' "$1" | grep -qiE 'nan|inf'; }
sections() { grep -o '<section class="[a-z_-]*"' "$1" | sed 's/.*="//; s/"//' | tr '\n' ' '; }

# ---------------------------------------------------------------- classification with validation
gen 150 1 species "setosa,versicolor,virginica" >"$T/iris.csv"
run "$NABLA" train --train "$T/iris.csv" --val-split 0.2 --model "dense 8; relu; dense 3" \
    --epochs 15 --lr 0.05 --seed 1 --out "$T/m.safetensors"
check "train exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" report --model "$T/m.safetensors" --data "$T/iris.csv" --out "$T/r.html"
check "report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "report prints its path" grep -qx "report: $T/r.html" "$T/out"
s=$(sections "$T/r.html")
check "sections run curves confusion graph, in order (got: $s)" \
    bash -c "[[ '$s' == 'run curves confusion '*'graph ' ]]"
check "the page is HTML5 with a UTF-8 meta" grep -q '<meta charset="utf-8">' "$T/r.html"
check "no URL but the SVG namespace" \
    bash -c "! sed 's#xmlns=\"http://www.w3.org/2000/svg\"##g' '$T/r.html' | grep -qiE 'https?:|src=\"//'"
check "the best epoch is marked" grep -q 'best epoch' "$T/r.html"
check "validation in the legend with validation data" grep -q '>validation<' "$T/r.html"
check "the history (MODEL.history.csv) was found: epochs row" grep -q '<th>epochs</th><td class="num">15<' "$T/r.html"
check "counts in the confusion cells" grep -q 'class="count"' "$T/r.html"
check "no nan/inf coordinates" clean_coords "$T/r.html"

# ---------------------------------------------------------------- hostile names
gen 90 2 '"a<b""&'"'"'"' "<script>alert(1)</script>,日本,café" >"$T/evil.csv"
run "$NABLA" train --train "$T/evil.csv" --model "dense 3" --epochs 3 --out "$T/e.safetensors"
check "train on hostile names ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" report --model "$T/e.safetensors" --data "$T/evil.csv" --out "$T/e.html"
check "report on hostile names ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "no raw <script" bash -c "! grep -qi '<script' '$T/e.html'"
check "the class name appears escaped" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/e.html"
check "the header never appears raw" bash -c "! grep -qF 'a<b\"&' '$T/e.html'"
check "non-ASCII names pass through as UTF-8" bash -c "grep -q '日本' '$T/e.html' && grep -q 'café' '$T/e.html'"
check "no validation data: no 'validation' legend in history.svg" bash -c "! grep -q '>validation<' '$T/e.history.svg'"
check "no validation data: no 'validation' legend in the report" bash -c "! grep -q '>validation<' '$T/e.html'"
check "history.svg marks the best epoch" grep -q 'best epoch' "$T/e.history.svg"

# ---------------------------------------------------------------- one class, 100 classes
gen 30 3 y "only" >"$T/one.csv"
run "$NABLA" train --train "$T/one.csv" --model "dense 1" --task classify --epochs 2 --out "$T/one.safetensors"
if [ "$rc" -eq 0 ]; then
    run "$NABLA" report --model "$T/one.safetensors" --data "$T/one.csv" --out "$T/one.html"
    check "one class: report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    check "one class: a confusion section" grep -q '<section class="confusion"' "$T/one.html"
else
    check "one class: refused with one line ($(head -c 300 "$T/err"))" grep -q '^nabla: ' "$T/err"
fi
names=$(seq -f 'c%g' 0 99 | paste -sd,)
gen 1000 4 y "$names" >"$T/hundred.csv"
run "$NABLA" train --train "$T/hundred.csv" --model "dense 100" --epochs 1 --out "$T/h.safetensors"
check "100 classes: train ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "a 1-epoch history" [ "$(wc -l <"$T/h.history.csv")" -eq 2 ]
run "$NABLA" report --model "$T/h.safetensors" --data "$T/hundred.csv" --out "$T/h.html"
check "100 classes: report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "100 classes: counts hidden" bash -c "! grep -q 'class=\"count\"' '$T/h.html'"
check "100 classes: all names on the axes" grep -q '>c99<' "$T/h.html"
check "1 epoch: a point drawn" grep -q '<circle' "$T/h.html"
check "1 epoch: no nan/inf coordinates" clean_coords "$T/h.html"

# ---------------------------------------------------------------- NaN losses in the history
printf 'epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,1.2,0.3,1.3,0.3,0.1,0.01\n2,nan,,nan,,0.1,0.01\n3,inf,0.5,0.9,0.6,0.05,0.01\n4,0.7,0.7,0.8,0.7,0.05,0.01\n' >"$T/nan.csv"
run "$NABLA" report --model "$T/m.safetensors" --data "$T/iris.csv" --history "$T/nan.csv" --out "$T/n.html"
check "nan history: report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "nan history: no nan/inf coordinates" clean_coords "$T/n.html"
check "nan history: best epoch 4 (lowest validation loss)" grep -q 'best epoch 4' "$T/n.html"
expect_err 5 "not a training history" "$NABLA" report --model "$T/m.safetensors" --data "$T/iris.csv" \
    --history "$T/iris.csv" --out "$T/x.html"
expect_err 2 "--out REPORT.html is required" "$NABLA" report --model "$T/m.safetensors" --data "$T/iris.csv"

# ---------------------------------------------------------------- regression
awk 'BEGIN { srand(5); print "a,b,price"; for (i = 0; i < 200; i++) { a = rand(); b = rand();
    printf "%.4f,%.4f,%.4f\n", a, b, 100 + 30 * a - 10 * b + rand() } }' >"$T/reg.csv"
run "$NABLA" train --train "$T/reg.csv" --task regress --model "dense 8; relu; dense 1" --epochs 10 \
    --val-split 0.2 --out "$T/g.safetensors"
check "regress: train ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
run "$NABLA" report --model "$T/g.safetensors" --data "$T/reg.csv" --out "$T/g.html"
check "regress: report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
s=$(sections "$T/g.html")
check "regress: sections run curves regression graph (got: $s)" \
    bash -c "[[ '$s' == 'run curves '*'regression graph ' ]]"
check "regress: the y = x line and the residual axis" bash -c "grep -q 'y = x' '$T/g.html' && grep -q 'residual' '$T/g.html'"
check "regress: axes in the targets' units (around 100)" grep -qE '>(80|90|100|110|120|130)<' "$T/g.html"
check "regress: 30 histogram bars" [ "$(grep -c 'stroke-width="0.5"><title>' "$T/g.html")" -eq 30 ]

# ---------------------------------------------------------------- train --report
run "$NABLA" train --train "$T/iris.csv" --val-split 0.2 --model "dense 3" --epochs 2 \
    --out "$T/runs/t.safetensors" --report
check "train --report exits 0 ($(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "train --report writes MODEL.report.html" [ -s "$T/runs/t.report.html" ]
check "train --report prints its path" grep -qx "report: $T/runs/t.report.html" "$T/err"
check "train --report scores the validation part" grep -q 'the validation part' "$T/runs/t.report.html"
run "$NABLA" train --train "$T/iris.csv" --model "dense 3" --epochs 2 --out "$T/t2.safetensors" \
    --report "$T/named.html" --test "$T/iris.csv"
check "train --report FILE --test ($(head -c 300 "$T/err"))" bash -c "[ $rc -eq 0 ] && [ -s '$T/named.html' ]"
check "report --help" bash -c "'$NABLA' report --help | grep -q 'usage: nabla report'"
finish
