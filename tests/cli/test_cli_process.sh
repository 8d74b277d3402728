#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_process.sh - the CLI as a process among limits and signals ($BUILD/nabla): it exits
# under any memory limit (ulimit -v), a file-size limit (ulimit -f) is exit 4 and leaves no temp
# file, FIFOs are refused as inputs, Ctrl-C while loading data is exit 8, class names hold no
# control characters, and single-class data trains with a warning. Every run that could hang
# runs under `timeout`, so a hang fails rather than blocks. The exit status is the verdict.
set -u
RUN_TIMEOUT=60
NAME=test_cli_process
. "$(dirname "$0")/lib.sh"

# two classes, two features, a header
awk 'BEGIN { srand(1); print "f1,f2,y";
    for (i = 0; i < 100; i++) printf "%.3f,%.3f,%s\n", rand() + 2*(i%2), rand(), (i%2) ? "a" : "b" }' >"$T/d.csv"

# ---------------------------------------------------------------- ulimit -v: always exits
# (OpenBLAS, when linked, started a thread per core at load; under a memory limit they looped
# on a failed mmap and the process never exited, even after --version or a clean OOM line)
# AddressSanitizer reserves terabytes of address space: under ulimit -v it cannot start at all
asan=0; nm "$NABLA" 2>/dev/null | grep -q __asan_init && asan=1
[ "$asan" -eq 1 ] && echo "test_cli_process: ulimit -v checks skipped (AddressSanitizer build)"
for kb in 102400 204800; do
    [ "$asan" -eq 1 ] && break
    (ulimit -v "$kb"; run "$NABLA" --version; exit "$rc"); rc=$?
    check "--version under ulimit -v $kb exits 0 (got $rc)" [ "$rc" -eq 0 ]
    (ulimit -v "$kb"; run "$NABLA" train --train "$T/d.csv" --model "dense 4; relu; dense 2" \
        --out "$T/v$kb.safetensors" --epochs 2 --quiet; exit "$rc"); rc=$?
    check "a tiny train under ulimit -v $kb exits 0 (got $rc)" [ "$rc" -eq 0 ]
    (ulimit -v "$kb"; run "$NABLA" train --train "$T/d.csv" --model "dense 100000000; relu; dense 2" \
        --out "$T/oom$kb.safetensors" --epochs 2 --quiet; exit "$rc"); rc=$?
    check "out of memory under ulimit -v $kb exits 1 (got $rc)" [ "$rc" -eq 1 ]
    check "out of memory under ulimit -v $kb says so in one line" \
        [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^nabla: out of memory' "$T/err"
done

# ---------------------------------------------------------------- ulimit -f: exit 4, no temp file
# (SIGXFSZ killed the CLI, exit 153, and left OUT.tmp.<pid>; ignored, the write fails with EFBIG)
mkdir -p "$T/f"
run "$NABLA" train --train "$T/d.csv" --model "dense 4; relu; dense 2" --out "$T/f/m.safetensors" --epochs 1 --quiet
cp "$T/f/m.safetensors" "$T/f.before"
(ulimit -f 1; run "$NABLA" train --train "$T/d.csv" --model "dense 200; relu; dense 2" \
    --out "$T/f/m.safetensors" --epochs 1 --quiet; exit "$rc"); rc=$?
check "ulimit -f: exit 4 (got $rc)" [ "$rc" -eq 4 ]
check "ulimit -f: one line naming the file" [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^nabla: .*m.safetensors" "$T/err"
check "ulimit -f: no temp file left" [ -z "$(ls "$T/f" | grep '\.tmp\.')" ]
check "ulimit -f: the previous file is intact" cmp -s "$T/f.before" "$T/f/m.safetensors"

# ---------------------------------------------------------------- stale temp files of dead saves
# (kill -9 during a save leaves OUT.tmp.<pid>: the next save to OUT removes those whose process
# is gone and keeps those of a live process and of other targets)
mkdir -p "$T/s"
sh -c 'exit 0' & dead=$!; wait "$dead"
sleep 30 & live=$!
touch "$T/s/m.safetensors.tmp.$dead" "$T/s/m.safetensors.tmp.$live" "$T/s/other.safetensors.tmp.$dead" \
      "$T/s/m.safetensors.tmp.x$dead"
run "$NABLA" train --train "$T/d.csv" --model "dense 2" --out "$T/s/m.safetensors" --epochs 1 --quiet
check "save with stale temp files beside it (got $rc)" [ "$rc" -eq 0 ]
check "the temp file of a dead process is removed" [ ! -e "$T/s/m.safetensors.tmp.$dead" ]
check "the temp file of a live process is kept" [ -e "$T/s/m.safetensors.tmp.$live" ]
check "another target's temp file is kept" [ -e "$T/s/other.safetensors.tmp.$dead" ]
check "a name that is not TARGET.tmp.PID is kept" [ -e "$T/s/m.safetensors.tmp.x$dead" ]
kill "$live" 2>/dev/null; wait "$live" 2>/dev/null

# ---------------------------------------------------------------- a FIFO is refused, never waited on
# (opening a FIFO for reading waits for a writer: nabla opens with O_NONBLOCK and checks fstat)
mkfifo "$T/fifo" "$T/fifo.csv"
run "$NABLA" train --train "$T/d.csv" --model "dense 2" --out "$T/fm.safetensors" --epochs 1 --quiet
fifo_msg="is a named pipe (FIFO), not a regular file"
expect_err 4 "$fifo_msg" "$NABLA" train --train "$T/fifo.csv" --model "dense 2" --out "$T/x.safetensors"
expect_err 4 "$fifo_msg" "$NABLA" train --train "csv:$T/fifo" --model "dense 2" --out "$T/x.safetensors"
expect_err 4 "$fifo_msg" "$NABLA" train --train "$T/fifo" --model "dense 2" --out "$T/x.safetensors"
expect_err 4 "$fifo_msg" "$NABLA" train --train "$T/d.csv" --model "$T/fifo" --out "$T/x.safetensors"
expect_err 4 "$fifo_msg" "$NABLA" eval --model "$T/fifo" --data "$T/d.csv"
expect_err 4 "$fifo_msg" "$NABLA" eval --model "$T/fm.safetensors" --data "$T/fifo.csv"
expect_err 4 "$fifo_msg" "$NABLA" predict --model "$T/fm.safetensors" --data "$T/fifo.csv"
expect_err 4 "$fifo_msg" "$NABLA" summary --model "$T/fifo"

# ---------------------------------------------------------------- class names: no control characters
# (predict writes one line per row: a newline inside a class name split its rows)
printf 'f1,y\n1,"a\nb"\n2,c\n3,"a\nb"\n4,c\n' >"$T/nl.csv"
expect_err 5 'class name "a\x0ab" holds a control character' \
    "$NABLA" train --train "$T/nl.csv" --model "dense 2" --out "$T/nl.safetensors" --epochs 1
printf 'f1,y\n1,0\n2,1\n3,0\n4,1\n' >"$T/int.csv"
expect_err 2 '--class-names: class name "x\x09y" holds a control character' \
    "$NABLA" train --train "$T/int.csv" --class-names "$(printf 'x\ty'),z" --model "dense 2" --out "$T/nl.safetensors" --epochs 1
check "no model written for a class name with a newline" [ ! -e "$T/nl.safetensors" ]

# ---------------------------------------------------------------- a single class: a warning
printf 'f1,y\n1,a\n2,a\n3,a\n' >"$T/one.csv"
run "$NABLA" train --train "$T/one.csv" --model "dense 1" --out "$T/one.safetensors" --epochs 1 --quiet
check "single-class data trains (got $rc)" [ "$rc" -eq 0 ]
check "single-class data: one warning line" [ "$(wc -l <"$T/err")" -eq 1 ] && \
    grep -q "^nabla: warning: every training row is of class 'a'.*accuracy will be trivial" "$T/err"
run "$NABLA" train --train "$T/d.csv" --model "dense 2" --out "$T/two.safetensors" --epochs 1 --quiet
check "two classes: no warning" [ ! -s "$T/err" ]

# ---------------------------------------------------------------- Ctrl-C while loading: exit 8 at once
# (the signal handlers were installed after loading: SIGINT then killed the process without
# exit 8 and its line, or was ignored in a background job and the whole run went on)
awk 'BEGIN { srand(7); print "a,b,c,d,y";
    for (i = 0; i < 1500000; i++) printf "%.4f,%.4f,%.4f,%.4f,%d\n", rand(), rand(), rand(), rand(), i % 3 }' >"$T/big.csv"
start=$(date +%s)
timeout 120 "$NABLA" train --train "$T/big.csv" --model "dense 3" --out "$T/big.safetensors" --epochs 1 --quiet \
    2>"$T/err" &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"; rc=$?
check "SIGINT while loading exits 8 (got $rc)" [ "$rc" -eq 8 ]
check "SIGINT while loading: one line" [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^nabla: interrupted before training started' "$T/err"
check "SIGINT while loading: prompt" [ $(($(date +%s) - start)) -le 5 ]
check "SIGINT while loading: nothing saved" [ ! -e "$T/big.safetensors" ]
rm -f "$T/big.csv"

finish
