#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_browser.sh - the HTML report (`nabla report`, issue 17) opened in headless Chromium by
# browser_check.py: no console errors, no network requests, every <section> drew, and a
# full-page screenshot. Four kinds of report: images (Fashion-MNIST), CSV classification,
# 2-D inputs (decision regions) and regression. First the checker is tested on hand-written
# pages it must pass or fail, so a checker that passes everything cannot pass this test.
# OUT_DIR=docs/img keeps the screenshots as $OUT_DIR/report-{images,csv,2d,regression}.png
# (the pictures in the docs), at OUT_SCALE (default 0.5) of the page's size. Skipped, with a SKIP line, where /usr/bin/chromium is missing.
NAME=test_browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "SKIP: chromium not found: install it (scripts/deps.sh)"; exit 0; }
source tests/cli/lib.sh
CHECK=(/usr/bin/python3 tests/report/browser_check.py --chromium "$CHROMIUM")

# browser PAGE SHOT [ARGS...]: the checker's JSON in $T/check.json, its exit status in $rc
browser() {
    local page=$1 shot=$2; shift 2
    timeout 60 "${CHECK[@]}" "$page" --screenshot "$shot" "$@" >"$T/check.json" 2>"$T/check.err"; rc=$?
}
# json EXPR: EXPR (Python, over the summary `s`) evaluated on $T/check.json, printed
# ("?" when the checker printed no such field: it could not run)
json() {
    /usr/bin/python3 -c 'import json,sys
try: s = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))
except Exception: print("?")' "$T/check.json" "$1"
}
# png_ok FILE MIN_W MIN_H: a PNG (signature, IHDR) at least MIN_W x MIN_H and 5 KB..20 MB
png_ok() {
    local f=$1 size w h
    [ -f "$f" ] || { echo "no screenshot $f"; return 1; }
    size=$(stat -c %s "$f")
    [ "$(od -An -tx1 -N8 "$f" | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$f is not a PNG"; return 1; }
    [ "$(od -An -c -j12 -N4 "$f" | tr -d ' \n')" = IHDR ] || { echo "$f has no IHDR first"; return 1; }
    w=$(od -An -tu1 -j16 -N4 "$f" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    h=$(od -An -tu1 -j20 -N4 "$f" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    if [ "$w" -ge "$2" ] && [ "$h" -ge "$3" ] && [ "$size" -ge 5000 ] && [ "$size" -le 20000000 ]; then return 0; fi
    echo "$f: ${w}x${h}, $size bytes (expected at least $2x$3 and 5 KB..20 MB)"; return 1
}
# say LINE: LINE, then the checker's problems when it did not pass
say() { echo "$*"; [ "$(json 's["ok"]')" = True ] || json '"\n".join("  problem: " + p for p in s["problems"])'; }

# --- the checker on pages with a known verdict
dot='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
cat >"$T/good.html" <<EOF
<!DOCTYPE html><html><head><meta charset="utf-8"><title>fixture</title></head><body>
<section class="run"><table><tr><td>rows</td><td>2000</td></tr></table></section>
<section class="curves"><svg width="300" height="120"><line x1="0" y1="100" x2="300" y2="100" stroke="#000"/>
<path d="M0 10 L100 60 L300 90" fill="none" stroke="#c00"/><text x="5" y="115">epoch</text></svg></section>
<section class="gallery"><img src="data:image/png;base64,$dot" width="56" height="56" alt="dot"></section>
<section class="graph"><pre>digraph { x -&gt; dense -&gt; y }</pre></section>
</body></html>
EOF
# one image that fails and logs a console error, one image from the network, one empty section,
# one data: image that does not decode
sed 's|<section class="graph">|<section class="bad"><img src=x onerror="console.error(\x27fixture error\x27)"></section>&|' \
    "$T/good.html" >"$T/console.html"
sed 's|<section class="graph">|<section class="ext"><img src="http://example.invalid/x.png" alt="x"></section>&|' \
    "$T/good.html" >"$T/external.html"
sed 's|<section class="graph">|<section class="empty"><svg width="10" height="10"><rect width="5" height="5"/></svg></section>&|' \
    "$T/good.html" >"$T/empty.html"
sed "s|<section class=\"graph\">|<section class=\"broken\"><table><tr><td>x</td></tr></table><img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"b\"></section>&|" \
    "$T/good.html" >"$T/broken.html"

browser "$T/good.html" "$T/good.png" --expect run,curves,gallery,graph
check "checker passes a good page (rc $rc: $(head -c 400 "$T/check.json"))" [ "$rc" -eq 0 ]
check "good page: four sections drew" [ "$(json 'sum(x["drew"] for x in s["sections"])')" = 4 ]
check "good page: screenshot" png_ok "$T/good.png" 1000 300
browser "$T/good.html" "$T/good.png" --expect run,regions
check "checker fails a page without an expected section" [ "$rc" -eq 1 ]
check "... and says which" grep -q 'no <section class=\\"regions\\">' "$T/check.json"
browser "$T/console.html" "$T/console.png"
check "checker fails a console error (rc $rc)" [ "$rc" -eq 1 ]
check "... and reports it" [ "$(json '[c["text"] for c in s["console"] if c["kind"] == "console.error"]')" = "['fixture error']" ]
browser "$T/external.html" "$T/external.png"
check "checker fails an external request (rc $rc)" [ "$rc" -eq 1 ]
check "... and names its URL" [ "$(json '[q["url"] for q in s["requests"]]')" = "['http://example.invalid/x.png']" ]
browser "$T/empty.html" "$T/empty.png"
check "checker fails a section that drew almost nothing (rc $rc)" [ "$rc" -eq 1 ]
check "... and names it" [ "$(json '[x["class"] for x in s["sections"] if not x["drew"]]')" = "['empty']" ]
browser "$T/broken.html" "$T/broken.png"
check "checker fails an image that does not decode (rc $rc)" [ "$rc" -eq 1 ]
check "... and names its section" [ "$(json '[x["class"] for x in s["sections"] if not x["drew"]]')" = "['broken']" ]

if ! "$NABLA" report --help >/dev/null 2>&1; then
    finish || exit 1
    echo "SKIP: nabla report not built yet"
    exit 0
fi

# --- the four kinds of report
# the screenshots kept for the docs are scaled (OUT_SCALE, default 0.5) to stay small
scale=1
[ -n "${OUT_DIR:-}" ] && scale=${OUT_SCALE:-0.5}
min_side=$(awk -v s="$scale" 'BEGIN { printf "%d", 1000 * s }')
# report KIND DATA EXPECT: `nabla report` of $T/KIND.safetensors on DATA, checked in the browser
report() {
    local kind=$1 data=$2 expect=$3
    run "$NABLA" report --model "$T/$kind.safetensors" --data "$data" --out "$T/$kind.html"
    check "nabla report ($kind) (rc $rc: $(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
    [ "$rc" -eq 0 ] || return
    browser "$T/$kind.html" "$T/report-$kind.png" --expect "$expect" --scale "$scale"
    say "$kind: rc $rc, sections $(json '" ".join("%s:%s" % (x["class"], "drew" if x["drew"] else "EMPTY") for x in s["sections"])'),"\
        "screenshot $(json '"%dx%d %d bytes" % (s["screenshot"]["width"], s["screenshot"]["height"], s["screenshot"]["bytes"])')"
    check "$kind report passes in the browser (rc $rc)" [ "$rc" -eq 0 ]
    check "$kind report: screenshot" png_ok "$T/report-$kind.png" "$min_side" "$min_side"
    if [ -n "${OUT_DIR:-}" ] && [ "$rc" -eq 0 ]; then
        mkdir -p "$OUT_DIR" && cp "$T/report-$kind.png" "$OUT_DIR/report-$kind.png"
    fi
}
train() { run "$NABLA" train --seed 1 --quiet "$@"; check "train for the report: $* (rc $rc: $(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]; }

# (a) images: a small MLP on 2000 Fashion-MNIST rows, one epoch; the report on the test set
fm=/usr/share/datasets/fashion-mnist
if [ -f "$fm/train-images-idx3-ubyte.gz" ]; then
    train --train "idx:$fm/train" --limit 2000 --val-split 0.2 --model "flatten; dense 32; relu; dense 10" \
        --epochs 1 --out "$T/images.safetensors"
    report images "idx:$fm/t10k" run,confusion,gallery,first-layer
else
    echo "SKIP (images report): no Fashion-MNIST in $fm (scripts/deps.sh installs dataset-fashion-mnist)"
fi
# (b) CSV classification: iris (4 features, 3 named classes)
train --train tests/cli/iris.csv --label species --val-split 0.2 --model "dense 16; relu; dense 3" \
    --epochs 200 --out "$T/csv.safetensors"
report csv tests/cli/iris.csv run,confusion,gallery
# (c) 2-D inputs: two classes in the plane (a ring around a blob), so the regions curve; the data
#     come from Python's seeded generator, the same on every machine (awk's rand is not)
/usr/bin/python3 -c 'import math, random
r = random.Random(7); print("x,y,class")
for i in range(300):
    a = 2 * math.pi * r.random(); d = 2 + 0.4 * r.random() if i % 2 else 0.9 * r.random()
    print("%.4f,%.4f,%s" % (d * math.cos(a), d * math.sin(a), "ring" if i % 2 else "core"))' >"$T/plane.csv"
train --train "$T/plane.csv" --label class --val-split 0.2 --model "dense 16; tanh; dense 2" \
    --epochs 300 --out "$T/2d.safetensors"
report 2d "$T/plane.csv" run,confusion,regions
# (d) regression: y = 2 x1 - x2 + 0.5 sin(3 x3) + noise
/usr/bin/python3 -c 'import math, random
r = random.Random(11); print("x1,x2,x3,y")
for i in range(400):
    a, b, c = (2 * r.random() - 1 for _ in range(3))
    print("%.4f,%.4f,%.4f,%.4f" % (a, b, c, 2 * a - b + 0.5 * math.sin(3 * c) + 0.1 * (r.random() - 0.5)))' >"$T/reg.csv"
train --train "$T/reg.csv" --task regress --val-split 0.2 --model "dense 16; tanh; dense 1" \
    --epochs 50 --out "$T/regression.safetensors"
report regression "$T/reg.csv" run,regression
finish
