#!/usr/bin/env bash
# Runs every test binary given, from the repository root, and fails if any failed.
# Each binary's exit status is its verdict; output of failing tests is shown.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
    if out=$("$t" 2>&1); then
        pass=$((pass + 1)); printf '  ok    %s  (%s)\n' "${t##*/}" "$(tail -n1 <<<"$out")"
    else
        fail=$((fail + 1)); failed+=("$t"); printf '  FAIL  %s\n' "${t##*/}"; printf '%s\n' "$out" | tail -n 40 | sed 's/^/        /'
    fi
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
