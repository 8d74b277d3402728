#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test binary given, from the repository root, and fails if any failed.
# Each binary's exit status is its verdict; output of failing tests is shown. Shell tests
# (tests/test_*.sh, tests/<module>/test_*.sh) run with bash and get $BUILD (the build directory) in their environment.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
    case $t in *.sh) cmd=(bash "$t") ;; *) cmd=("$t") ;; esac
    if out=$("${cmd[@]}" 2>&1); then
        pass=$((pass + 1)); printf '  ok    %s  (%s)\n' "${t##*/}" "$(tail -n1 <<<"$out")"
    else
        fail=$((fail + 1)); failed+=("$t"); printf '  FAIL  %s\n' "${t##*/}"; printf '%s\n' "$out" | tail -n 40 | sed 's/^/        /'
    fi
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
