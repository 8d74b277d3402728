#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_mpi.sh - the CLI under mpirun (issue 16), a smoke test: 2 ranks train an MLP on a small
# CSV for 2 epochs, rank 0 alone prints, and a repeat gives the same model file byte for byte;
# 3 ranks (uneven shares of a batch) train too; a bad --train on one rank only (MPMD) stops
# both within 10 s with exactly one "nabla: rank R of 2: ..." line and that rank's exit code;
# a command other than train is refused once; a failed write on rank 0 after training gives
# every rank its exit code; Ctrl-C saves the weights and a checkpoint. Skipped (exit 0)
# without Open MPI or an MPI build.
set -u
NAME=test_mpi
. tests/cli/lib.sh
. tests/dist/lib.sh
mpi_available || exit 0

make_csv "$T/d.csv" 600 8 3 11 c
args=(--train "$T/d.csv" --label y --model "dense 32; relu; dense 3" --optimizer adam --lr 0.01
      --batch-size 32 --epochs 2 --seed 5)

# 2 ranks, twice: the same bytes; one banner and one line per epoch (rank 0's)
run_mpi 2 "$NABLA" train "${args[@]}" --out "$T/a/m.nbm"
check "2 ranks train (exit $rc: $(tail -n 3 "$T/err"))" test "$rc" -eq 0
check "2 ranks: the model is written" test -s "$T/a/m.nbm"
check "2 ranks: history beside it" test -s "$T/a/m.history.csv"
check "2 ranks: the banner names the ranks" grep -q '^ranks: 2 (mpirun), global batch 32, ~16 rows per rank$' "$T/err"
check "2 ranks: one line per epoch (rank 0 alone prints)" test "$(grep -c '^epoch [12]/2 ' "$T/err")" -eq 2
check "2 ranks: one data line" test "$(grep -c '^data: ' "$T/err")" -eq 1
check "2 ranks: the communication line" grep -q '^communication: .* MB per step per rank' "$T/err"
run_mpi 2 "$NABLA" train "${args[@]}" --out "$T/b/m.nbm"
check "2 ranks, repeat (exit $rc)" test "$rc" -eq 0
check "2 ranks: the repeat's model file is the same bytes" cmp -s "$T/a/m.nbm" "$T/b/m.nbm"

# 3 ranks: 32 rows a batch split 10/11/11, and 600 = 18*32 + 24 leaves an uneven last batch
run_mpi 3 "$NABLA" train "${args[@]}" --quiet --out "$T/c/m.nbm"
check "3 ranks train (exit $rc: $(tail -n 3 "$T/err"))" test "$rc" -eq 0
check "3 ranks: the model is written" test -s "$T/c/m.nbm"

# one rank fails while loading (the other waits at the setup agreement): stopped, one line
one_bad() { # RANK-THAT-FAILS: rank 0's or rank 1's --train is missing
    local a0=("$T/d.csv") a1=("$T/d.csv")
    if [ "$1" -eq 0 ]; then a0=("$T/missing.csv"); else a1=("$T/missing.csv"); fi
    local start=$SECONDS
    timeout 10 "${MPIRUN[@]}" -np 1 "$NABLA" train "${args[@]}" --train "${a0[0]}" --out "$T/e/m.nbm" : \
        -np 1 "$NABLA" train "${args[@]}" --train "${a1[0]}" --out "$T/e/m.nbm" >"$T/out" 2>"$T/err"
    rc=$?
    check "rank $1 fails: exit 4 within 10 s (got $rc after $((SECONDS - start)) s)" test "$rc" -eq 4
    check "rank $1 fails: exactly one nabla line ($(grep '^nabla' "$T/err" | head -n 3))" \
        test "$(grep -c '^nabla: ' "$T/err")" -eq 1
    check "rank $1 fails: the line names the rank and the file" \
        grep -q "^nabla: rank $1 of 2: .*missing.csv: cannot open" "$T/err"
    check "rank $1 fails: no model written" test ! -e "$T/e/m.nbm"
}
one_bad 1
one_bad 0

# a bad option on rank 1 alone: refused before loading anything, agreed the same way
timeout 10 "${MPIRUN[@]}" -np 1 "$NABLA" train "${args[@]}" --out "$T/f/m.nbm" : \
    -np 1 "$NABLA" train "${args[@]}" --lr -1 --out "$T/f/m.nbm" >"$T/out" 2>"$T/err"
rc=$?
check "bad option on rank 1: exit 2 (got $rc)" test "$rc" -eq 2
check "bad option on rank 1: one line naming rank 1 and --lr ($(grep '^nabla' "$T/err" | head -n 3))" \
    test "$(grep -c '^nabla: rank 1 of 2: .*--lr' "$T/err")" -eq 1 -a "$(grep -c '^nabla: ' "$T/err")" -eq 1

# rank 0 fails after training, writing the history (a directory is in its place): the final
# agreement gives every rank its status (mpirun's report names a rank's exit code: 4 only)
mkdir -p "$T/g/m.history.csv"
run_mpi 2 "$NABLA" train "${args[@]}" --quiet --out "$T/g/m.nbm"
check "rank 0's write fails: exit 4 (got $rc)" test "$rc" -eq 4
check "rank 0's write fails: one line naming rank 0 and the file ($(grep '^nabla' "$T/err" | head -n 3))" \
    test "$(grep -c '^nabla: rank 0 of 2: .*m.history.csv' "$T/err")" -eq 1 -a "$(grep -c '^nabla: ' "$T/err")" -eq 1
check "rank 0's write fails: the model was saved before" test -s "$T/g/m.nbm"
check "rank 0's write fails: no rank exits otherwise" test -z "$(grep 'Exit code:' "$T/err" | grep -v 'Exit code: *4$')"

# Ctrl-C: mpirun forwards it to every rank as SIGTERM; rank 0 saves the weights and a
# checkpoint, as one process does (exit 8 from the ranks; mpirun's own status is its own)
make_csv "$T/big.csv" 6000 32 4 7 ""
"${MPIRUN[@]}" -np 2 "$NABLA" train --train "$T/big.csv" --label y --model "dense 256; relu; dense 256; relu; dense 4" \
    --batch-size 32 --epochs 100 --out "$T/h/m.nbm" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 600); do grep -q '^epoch 1/100' "$T/err" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
check "Ctrl-C: one line, from rank 0 ($(grep '^nabla' "$T/err" | head -n 3))" \
    test "$(grep -c '^nabla: rank 0 of 2: interrupted after' "$T/err")" -eq 1 -a "$(grep -c '^nabla: ' "$T/err")" -eq 1
check "Ctrl-C: the weights are saved" test -s "$T/h/m.nbm"
has_ckpt() { compgen -G "$1" >/dev/null; }
check "Ctrl-C: a checkpoint is saved" has_ckpt "$T/h/m.checkpoints/ckpt-*.safetensors"

# only train is distributed
run_mpi 2 "$NABLA" summary --model "$T/a/m.nbm"
check "summary under mpirun: exit 2 (got $rc)" test "$rc" -eq 2
check "summary under mpirun: one line" test "$(grep -c "^nabla: 'summary' under mpirun with 2 processes" "$T/err")" -eq 1
finish
