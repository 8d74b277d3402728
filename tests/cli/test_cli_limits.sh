#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_limits.sh - sizes the CLI must not turn into memory (issue 14): summaries of huge
# specs under a 1 GB address-space limit, data whose metadata could not be saved refused
# before training, evaluation of many classes, a billion-epoch run.
# The exit status is the verdict; the last line is a summary.
set -u
NAME=test_cli_limits
. "$(dirname "$0")/lib.sh"
# limited KB CMD...: run under ulimit -v KB (sanitizer builds reserve terabytes of shadow
# memory: there the limit is skipped, the test still checks the answer)
limited() {
    local kb=$1; shift
    if [ -n "${NB_SANITIZE:-}" ] || nm "$NABLA" 2>/dev/null | grep -q __asan_init; then
        run "$@"
    else
        run bash -c 'ulimit -v "$0"; exec "$@"' "$kb" "$@"
    fi
}

# ---------------------------------------------------------------- item 4: summary plans, never builds
limited 1000000 "$NABLA" summary --model 'conv 4 3x3; flatten; dense 10' --input-shape 1x8192x8192
check "summary of a 2.7e9-parameter conv net under 1 GB (exit $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
check "its parameter count" grep -qx 'parameters: 2683044050' "$T/out"
limited 1000000 "$NABLA" summary --model 'dense 100000000' --input-shape 10
check "summary of dense 100000000 under 1 GB (exit $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
check "its parameter count" grep -qx 'parameters: 1100000000' "$T/out"
check "its class list is cut short" grep -q '^classes: 0, 1, 2, .*, 999, \.\.\. (100000000 classes)$' "$T/out"

# ---------------------------------------------------------------- item 7: metadata checked before training
# a categorical column with one 9 MB value: the one-hot categories alone pass the 8 MiB header cap
awk 'BEGIN { print "a,c,y"; big = "x"; while (length(big) < 9000000) big = big big;
             for (i = 0; i < 40; i++) printf "%d,%s,%d\n", i % 7, i ? "c" i % 3 : big, i % 2 }' >"$T/big.csv"
run "$NABLA" train --model 'dense 2' --train "$T/big.csv" --label y --out "$T/big.safetensors" --epochs 1000
check "a 9 MB category: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "one line naming the preprocessing (got $(head -c 300 "$T/err"))" grep -q "^nabla: train: the model file could not be saved: its header would take .* metadata 'preprocessing'" "$T/err"
check "said before any epoch" bash -c "! grep -q '^epoch' '$T/err'"
check "nothing saved" [ ! -e "$T/big.safetensors" ] && [ ! -e "$T/big.history.csv" ]

finish
