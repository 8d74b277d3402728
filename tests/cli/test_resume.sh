#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_resume.sh - the crash test: train, kill -9 the process at random points, resume from the
# newest checkpoint, finish; the final model file must be byte-identical to an uninterrupted
# run's, and the history the same (except wall-clock seconds). Also: Ctrl-C (SIGINT) writes a
# checkpoint and exits 8, and resuming from it gives the same bytes again.
set -u
BUILD=${BUILD:-build}
NABLA=$BUILD/nabla
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
awk 'BEGIN { srand(7); printf "y"; for (j = 0; j < 32; j++) printf ",f%d", j; print "";
    for (i = 0; i < 6000; i++) { c = i % 4; printf "%d", c;
        for (j = 0; j < 32; j++) printf ",%.4f", (j % 4 == c) + rand() - 0.5; print "" } }' >"$T/d.csv"
args=(--train "$T/d.csv" --label y --val-split 0.1 --model "dense 128; relu; dropout 0.1; dense 64; relu; dense 4"
      --optimizer adam --lr 0.001 --batch-size 32 --epochs 4 --seed 3 --checkpoint-every 20s --quiet)

start=$(date +%s%N)
"$NABLA" train "${args[@]}" --out "$T/ref/m.safetensors" || { echo "reference run failed"; exit 1; }
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
cut -d, -f1-6 "$T/ref/m.history.csv" >"$T/ref.hist"

resumed=0
for k in 1 2 3 4 5; do
    rm -rf "$T/run"
    "$NABLA" train "${args[@]}" --out "$T/run/m.safetensors" &
    pid=$!
    # kill somewhere between 15% and 85% of the run
    sleep "$(awk -v d="$dur_ms" -v k="$k" 'BEGIN { srand(k * 7919); printf "%.3f", d * (0.15 + 0.7 * rand()) / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    ck=$(ls "$T/run/m.checkpoints"/ckpt-*.safetensors 2>/dev/null | sort | tail -n 1)
    if [ -z "$ck" ]; then continue; fi      # killed before the first checkpoint: nothing to resume
    # a checkpoint is never half-written: every one present loads as a model
    for c in "$T/run/m.checkpoints"/ckpt-*.safetensors; do
        "$NABLA" summary --model "$c" >/dev/null 2>&1 || bad "run $k: checkpoint $c does not load"
    done
    "$NABLA" train "${args[@]}" --out "$T/run/m.safetensors" --resume "$ck" || { bad "run $k: resume from $ck failed"; continue; }
    cmp -s "$T/ref/m.safetensors" "$T/run/m.safetensors" || bad "run $k: resumed model differs from the uninterrupted one ($(basename "$ck"))"
    cut -d, -f1-6 "$T/run/m.history.csv" | cmp -s - "$T/ref.hist" || bad "run $k: resumed history differs"
    resumed=$((resumed + 1))
done
[ "$resumed" -ge 2 ] || bad "only $resumed of 5 kills left a checkpoint to resume from"

# Ctrl-C: finish the step, write a checkpoint, exit 8; resuming gives the same bytes
rm -rf "$T/int"
"$NABLA" train "${args[@]}" --out "$T/int/m.safetensors" 2>"$T/int.err" &
pid=$!
sleep "$(awk -v d="$dur_ms" 'BEGIN { printf "%.3f", d * 0.5 / 1000 }')"
kill -INT "$pid"
wait "$pid"; rc=$?
if [ "$rc" -eq 8 ]; then
    grep -q "checkpoint to resume from" "$T/int.err" || bad "SIGINT message lacks the checkpoint: $(cat "$T/int.err")"
    ck=$(ls "$T/int/m.checkpoints"/ckpt-*.safetensors | sort | tail -n 1)
    "$NABLA" train "${args[@]}" --out "$T/int/m.safetensors" --resume "$ck" || bad "resume after SIGINT failed"
    cmp -s "$T/ref/m.safetensors" "$T/int/m.safetensors" || bad "resume after SIGINT differs"
elif [ "$rc" -ne 0 ]; then
    bad "SIGINT: exit $rc, expected 8: $(cat "$T/int.err")"
fi
[ $fail -eq 0 ] && echo "test_resume: $resumed kill -9 resumes and a SIGINT resume byte-identical"
exit $fail
