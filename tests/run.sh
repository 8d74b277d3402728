#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test binary given, from the repository root, and fails if any failed.
# Each binary's exit status is its verdict; output of failing tests is shown. Shell tests
# (tests/test_*.sh, tests/<module>/test_*.sh) run with bash and get $BUILD (the build directory) in their environment.
# Tests run TEST_JOBS at a time (default: the core count; every test keeps its files in its own
# mktemp directory), and their lines come out in the order given, each with its wall time, so
# a slow test shows where a run's time goes. The MPI tests (tests/dist/*.sh) start several
# ranks that poll while they wait: each runs with no other test beside it.
# TEST_SKIP: names of tests not to run (e.g. "test_words.sh"), each listed as skipped; CI uses
# it for a test that runs no nabla code, so the stages that only build nabla another way
# (clang, the sanitizers) do not repeat it.
set -u
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: TEST_JOBS must be a positive integer, not '$jobs'" >&2; exit 2; }
out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT
tests=()
skipped=0
for t in "$@"; do
    if [[ " ${TEST_SKIP:-} " == *" ${t##*/} "* ]]; then
        printf '  skip  %s  (TEST_SKIP)\n' "${t##*/}"; skipped=$((skipped + 1))
    else
        tests+=("$t")
    fi
done
pass=0 fail=0 shown=0

# test i, in the background: its output, exit status and milliseconds go to $out/i.*
run_one() {
    local i=$1 t=${tests[$1]} t0 rc
    case $t in *.sh) cmd=(bash "$t") ;; *) cmd=("$t") ;; esac
    t0=$(date +%s%N)
    "${cmd[@]}" > "$out/$i.log" 2>&1
    rc=$?
    echo $((($(date +%s%N) - t0) / 1000000)) > "$out/$i.ms"
    echo $rc > "$out/$i.rc.tmp" && mv "$out/$i.rc.tmp" "$out/$i.rc"
}

# print the finished tests that are next in order
show() {
    while ((shown < ${#tests[@]})) && [ -e "$out/$shown.rc" ]; do
        local t=${tests[$shown]} ms rc
        rc=$(<"$out/$shown.rc") ms=$(<"$out/$shown.ms")
        local took; took=$(printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)))
        if [ "$rc" = 0 ]; then
            pass=$((pass + 1)); printf '  ok    %s  (%s)  %s\n' "${t##*/}" "$(tail -n1 "$out/$shown.log")" "$took"
        else
            fail=$((fail + 1)); printf '  FAIL  %s  %s\n' "${t##*/}" "$took"; tail -n 40 "$out/$shown.log" | sed 's/^/        /'
        fi
        shown=$((shown + 1))
    done
}

for i in "${!tests[@]}"; do
    alone=0; case ${tests[$i]} in */dist/*.sh) alone=1 ;; esac
    limit=$jobs; ((alone)) && limit=1
    while (($(jobs -rp | wc -l) >= limit)); do wait -n; show; done
    run_one "$i" &
    if ((alone)); then wait; fi # nothing starts beside it either
    show
done
wait
show
echo "tests: $pass passed, $fail failed$( ((skipped)) && echo ", $skipped skipped (TEST_SKIP)")"
[ "$fail" -eq 0 ]
