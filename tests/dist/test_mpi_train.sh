#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_mpi_train.sh - what distributed training must give (issue 16), across real processes
# under mpirun: 2 and 3 ranks equal one process within float rounding (probabilities) and
# repeat their own bytes; an uneven last batch and a dataset smaller than ranks x batch; batch
# norm and dropout; resume from a mid-run checkpoint gives the uninterrupted run's bytes, and
# another rank count is refused; a rank whose rows overflow is named; a killed rank stops the
# run within seconds. test_mpi.sh holds the CLI's own cases (one line, rank 0's files, Ctrl-C).
# Skipped (exit 0) without Open MPI or an MPI build.
set -u
NAME=test_mpi_train
. tests/cli/lib.sh
. tests/dist/lib.sh
mpi_available || exit 0

# 3 classes in 8 features; 601 rows: batches of 32 leave 25 (uneven over 2 and 3 ranks)
make_csv "$T/d.csv" 601 8 3 3 c
args=(--train "$T/d.csv" --label y --batch-size 32 --epochs 3 --seed 9 --quiet)
mlp="dense 32; relu; dense 3"

# the largest |p - q| over two --proba outputs (headers skipped)
max_diff() { paste -d, "$1" "$2" | awk -F, 'NR > 1 { h = NF / 2; for (i = 1; i <= h; i++) {
    d = $i - $(i + h); if (d < 0) d = -d; if (d > m) m = d } } END { printf "%.3g\n", m + 0 }'; }
proba() { "$NABLA" predict --model "$1" --data "$T/d.csv" --label y --proba >"$2" 2>>"$T/perr"; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

run "$NABLA" train "${args[@]}" --model "$mlp" --out "$T/one.nbm"
check "1 process trains (exit $rc)" test "$rc" -eq 0
proba "$T/one.nbm" "$T/one.p"
for np in 2 3; do
    run_mpi "$np" "$NABLA" train "${args[@]}" --model "$mlp" --out "$T/n$np.nbm"
    check "$np ranks train (exit $rc: $(tail -n 2 "$T/err"))" test "$rc" -eq 0
    run_mpi "$np" "$NABLA" train "${args[@]}" --model "$mlp" --out "$T/n$np.again.nbm"
    check "$np ranks: a repeat gives the same bytes" cmp -s "$T/n$np.nbm" "$T/n$np.again.nbm"
    proba "$T/n$np.nbm" "$T/n$np.p"
    d=$(max_diff "$T/one.p" "$T/n$np.p")
    echo "  $np ranks vs 1 process, 3 epochs (601 rows, batch 32): max |dp| = $d"
    check "$np ranks: probabilities within 1e-4 of one process's (max |dp| $d)" below "$d" 1e-4
    check "$np ranks: not the same file (a different order of additions)" test -n "$(cmp "$T/one.nbm" "$T/n$np.nbm")"
done
run_mpi 2 "$NABLA" train "${args[@]}" --model "$mlp" --no-overlap --bucket-kb 1 --out "$T/n2.block.nbm"
check "buckets or one block after backward: the same bytes" cmp -s "$T/n2.nbm" "$T/n2.block.nbm"

# the communication figures in --metrics-json: 387 weights + 2 ranks x 8 figures x 2 floats
run_mpi 2 "$NABLA" train "${args[@]}" --model "$mlp" --metrics-json "$T/m.json" --out "$T/n2.json.nbm"
comm=$(tr -d ' \n' <"$T/m.json" | grep -o '"communication":{[^}]*}')
check "--metrics-json: ranks and bytes per step ($comm)" grep -q '^"communication":{"ranks":2,"bytes_per_step":1676,"reduce_seconds":' <<<"$comm"

# fewer rows than ranks x batch: 5 rows, 3 ranks, batch 64 (one batch of 5: 1, 2, 2 rows)
head -n 6 "$T/d.csv" >"$T/tiny.csv"
run "$NABLA" train --train "$T/tiny.csv" --label y --epochs 4 --quiet --model "$mlp" --out "$T/tiny1.nbm"
run_mpi 3 "$NABLA" train --train "$T/tiny.csv" --label y --epochs 4 --quiet --model "$mlp" --out "$T/tiny3.nbm"
check "5 rows over 3 ranks, batch 64 (exit $rc: $(tail -n 2 "$T/err"))" test "$rc" -eq 0
proba "$T/tiny1.nbm" "$T/tiny1.p"
proba "$T/tiny3.nbm" "$T/tiny3.p"
d=$(max_diff "$T/tiny1.p" "$T/tiny3.p")
check "5 rows over 3 ranks: one process's probabilities within 1e-4 (max |dp| $d)" below "$d" 1e-4

# batch norm and dropout: stopped by a checkpoint's resume mid-epoch, the same bytes
bn="dense 32; batchnorm; relu; dropout 0.2; dense 3"
run_mpi 2 "$NABLA" train "${args[@]}" --model "$bn" --out "$T/bn.nbm"
check "2 ranks, batch norm and dropout (exit $rc: $(tail -n 2 "$T/err"))" test "$rc" -eq 0
run_mpi 2 "$NABLA" train "${args[@]}" --model "$bn" --checkpoint-every 25s --keep-checkpoints 100 \
    --checkpoint-dir "$T/ck" --out "$T/bn.ck.nbm"
check "checkpoints every 25 steps (exit $rc)" test "$rc" -eq 0
check "the checkpointed run is the same run" cmp -s "$T/bn.nbm" "$T/bn.ck.nbm"
ck="$T/ck/ckpt-000000000025.safetensors" # inside epoch 2 (19 steps an epoch)
check "the checkpoint of step 25 exists" test -s "$ck"
run_mpi 2 "$NABLA" train "${args[@]}" --model "$bn" --resume "$ck" --out "$T/bn.resumed.nbm"
check "resume with 2 ranks (exit $rc: $(tail -n 2 "$T/err"))" test "$rc" -eq 0
check "resume: the uninterrupted run's bytes" cmp -s "$T/bn.nbm" "$T/bn.resumed.nbm"
run_mpi 3 "$NABLA" train "${args[@]}" --model "$bn" --resume "$ck" --out "$T/bn.r3.nbm"
check "resume with 3 ranks: exit 2 (got $rc)" test "$rc" -eq 2
check "resume with 3 ranks: one line saying how many ($(grep '^nabla' "$T/err" | head -n 2))" \
    test "$(grep -c '^nabla: .*written by a run of 2 processes, this run has 3: resume with the same number (mpirun -np 2)' "$T/err")" -eq 1
run "$NABLA" train "${args[@]}" --model "$bn" --resume "$ck" --out "$T/bn.r1.nbm"
check "resume in one process: exit 2 (got $rc)" test "$rc" -eq 2

# a row that overflows in rank 1's share (no shuffling, no scaling: the last row of batch 1)
awk -F, 'NR == 32 { printf "%s", $1; for (j = 2; j <= NF; j++) printf ",3e38"; print ""; next } { print }' \
    "$T/d.csv" >"$T/huge.csv"
run_mpi 2 "$NABLA" train --train "$T/huge.csv" --label y --batch-size 32 --epochs 1 --no-shuffle --scale none \
    --model "$mlp" --quiet --out "$T/huge.nbm"
check "a rank's loss overflows: exit 6 (got $rc)" test "$rc" -eq 6
check "a rank's loss overflows: one line naming rank 1 ($(grep '^nabla' "$T/err" | head -n 2))" \
    test "$(grep -c "^nabla: .*the loss of rank 1's rows is" "$T/err")" -eq 1 -a "$(grep -c '^nabla: ' "$T/err")" -eq 1

# a rank killed with SIGKILL: mpirun stops the others, non-zero, within seconds
make_csv "$T/big.csv" 4000 32 4 5 ""
"${MPIRUN[@]}" -np 2 "$NABLA" train --train "$T/big.csv" --label y --model "dense 128; relu; dense 4" \
    --epochs 1000 --out "$T/k.nbm" >"$T/out" 2>"$T/err" &
pid=$!
victim=""
for _ in $(seq 300); do
    grep -q '^epoch 1/1000' "$T/err" && break
    sleep 0.1
done
for p in $(pgrep -f "$T/big.csv"); do # the rank whose environment says rank 1
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
done
check "a rank to kill was found" test -n "$victim"
start=$SECONDS
[ -n "$victim" ] && kill -9 "$victim"
( sleep 20; kill -9 "$pid" 2>/dev/null ) &
guard=$!
wait "$pid"
rc=$?
kill "$guard" 2>/dev/null
check "a killed rank: mpirun exits non-zero (got $rc)" test "$rc" -ne 0
check "a killed rank: the run ends within 10 s (took $((SECONDS - start)) s)" test $((SECONDS - start)) -le 10
check "a killed rank: no rank is left running" test -z "$(pgrep -f "$T/big.csv")"
finish
