# SPDX-License-Identifier: MIT
# lib.sh - what the CLI test scripts share; sourced after `NAME=test_...`. It sets NABLA
# ($BUILD/nabla, which must be built), a scratch directory $T removed on exit, and the helpers:
#   check WHAT CMD...         counts a pass when CMD succeeds, else prints "FAIL: WHAT"
#   run CMD...                stdout in $T/out, stderr in $T/err, exit code in $rc; under
#                             `timeout $RUN_TIMEOUT` (default 120 s), so a hang fails (124)
#   expect_err CODE SUB CMD.. exit CODE and exactly one stderr line "nabla: ...SUB..."
#   finish                    prints "NAME: P passed, F failed"; the status is the verdict
BUILD=${BUILD:-build}
NABLA=$BUILD/nabla
[ -x "$NABLA" ] || { echo "$NAME: $NABLA not built"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
run() { timeout "$RUN_TIMEOUT" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
expect_err() {
    local code=$1 sub=$2; shift 2
    run "$@"
    local lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -q '^nabla: ' "$T/err" &&
       grep -qF -- "$sub" "$T/err"; then ok
    else bad "expected exit $code and one line with '$sub' from: $* (got $rc: $(head -c 300 "$T/err"))"; fi
}
finish() { echo "$NAME: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
