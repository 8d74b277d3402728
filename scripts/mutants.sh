#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mutants.sh - `make mutants`: shows that `make test` catches a 1% error in any operator's
# backward. Builds the library and the C tests once in $MUTANT_BUILD (build-mutants) with
# -DNB_MUTANTS (src/autograd/mutant.h), checks that they pass with no mutant, then for every
# operator with a backward (scripts/mutant_ops.c reads the table) and each kind (scale: its
# contribution to every input gradient times 1.01; one: one element moved by 1% of the
# largest) runs the C test binaries with NB_MUTANT=<op>:<kind> until one fails (test_ops
# first; MUTANTS_ALL=1 runs them all and lists every catcher). The shell tests are skipped:
# they drive the CLI, whose training is covered by the C tests, and would dominate the time.
# Exit status: non-zero if a mutant survived or the unmutated tests fail.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${MUTANT_BUILD:-build-mutants}
start=$SECONDS

tests=("$B/tests/autograd/test_ops")
for t in tests/*/test_*.c; do
    t=${t#tests/}; t=${t%.c}
    # the MPI transport's test runs only under mpirun (test_mpi_transport.sh) and holds no
    # operator: the library's distributed training is test_dist's, which runs here
    case $t in autograd/test_ops | dist/*) continue ;; esac
    tests+=("$B/tests/$t")
done
make --no-print-directory -j"${JOBS:-2}" BUILD="$B" CFLAGS="${OPT:--O3} -g -DNB_MUTANTS" \
    all "${tests[@]}" "$B/mutant_ops" >/dev/null || { echo "mutants: build failed" >&2; exit 1; }

echo "mutants: sanity run with no mutant planted"
env -u NB_MUTANT bash tests/run.sh "${tests[@]}" >"$B/mutants-sanity.log" 2>&1 || {
    cat "$B/mutants-sanity.log"; echo "mutants: the tests fail with no mutant planted" >&2; exit 1; }

mapfile -t ops < <("$B/mutant_ops")
[ "${#ops[@]}" -gt 0 ] || { echo "mutants: no operator with a backward found" >&2; exit 1; }
planted=0 caught=0 survivors=()
printf '%-16s %-6s %s\n' operator kind "caught by"
for op in "${ops[@]}"; do
    for kind in scale one; do
        planted=$((planted + 1))
        by=()
        for t in "${tests[@]}"; do
            # a hang is a failure too; no test takes near this long unmutated
            if ! NB_MUTANT="$op:$kind" timeout 300 "$t" >/dev/null 2>&1; then
                by+=("${t##*/}")
                [ "${MUTANTS_ALL:-0}" = 1 ] || break
            fi
        done
        if [ "${#by[@]}" -gt 0 ]; then
            caught=$((caught + 1))
            printf '%-16s %-6s %s\n' "$op" "$kind" "${by[*]}"
        else
            survivors+=("$op:$kind")
            printf '%-16s %-6s %s\n' "$op" "$kind" "SURVIVED"
        fi
    done
done
echo "mutants: $planted planted, $caught caught, ${#survivors[@]} survived ($((SECONDS - start)) s)"
[ "${#survivors[@]}" -eq 0 ]
