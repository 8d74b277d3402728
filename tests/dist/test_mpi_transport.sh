#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_mpi_transport.sh - runs the MPI transport's unit test (test_mpi_transport.c) under
# mpirun with 2 and 3 ranks; skipped (exit 0, one SKIP line) without Open MPI or an MPI build.
set -u
NAME=test_mpi_transport
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/dist/lib.sh
mpi_available || exit 0
bin=$BUILD/tests/dist/test_mpi_transport
[ -x "$bin" ] || { echo "$NAME: $bin not built"; exit 1; }
fail=0
for np in 2 3; do
    run_mpi "$np" "$bin"
    passed=$(grep -c 'checks passed' "$T/out")
    if [ "$rc" -ne 0 ] || [ "$passed" -ne "$np" ]; then
        echo "FAIL: $np ranks: exit $rc, $passed of $np ranks passed"; cat "$T/out" "$T/err" | tail -n 30; fail=1
    fi
done
[ "$fail" -eq 0 ] && echo "$NAME: 2 and 3 ranks passed ($(grep -m1 -o '[0-9]* checks passed' "$T/out") each)"
exit "$fail"
