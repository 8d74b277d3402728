#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library never prints, exits or aborts: none of these may be an undefined symbol of
# libnabla.a (only src/cli/ may use them). Usage: tests/check_symbols.sh build/libnabla.a
set -u
lib=${1:-build/libnabla.a}
forbidden='^(exit|_exit|_Exit|abort|printf|vprintf|puts|putchar|perror|fprintf|vfprintf|fputs|__assert_fail|__printf_chk|__fprintf_chk|__vfprintf_chk|quick_exit)$'
bad=$(nm -u "$lib" | awk '{print $2}' | sed 's/@.*//' | grep -E "$forbidden" | sort -u)
if [ -n "$bad" ]; then
    echo "check_symbols: libnabla uses forbidden functions:"; echo "$bad"
    for s in $bad; do nm -A "$lib" 2>/dev/null | grep " U $s" | sed 's/^/  /'; done
    exit 1
fi
# the mutation hook of `make mutants` (src/autograd/mutant.h) exists only in -DNB_MUTANTS builds
if nm "$lib" | grep -q 'nb__mutant'; then
    echo "check_symbols: $lib holds the mutation hook (nb__mutant_*): built with -DNB_MUTANTS?"; exit 1
fi
# the library stays MPI-free: MPI lives in src/dist/, linked into the CLI only
mpi=$(nm -u "$lib" | awk '{print $2}' | grep -E '^(P?MPI_|ompi_|opal_|pmix_)' | sort -u)
if [ -n "$mpi" ]; then
    echo "check_symbols: $lib references MPI (only the CLI's src/dist/ may):"; echo "$mpi"; exit 1
fi
echo "check_symbols: libnabla.a calls no exit/abort/print function and no MPI ($(nm -u "$lib" | wc -l) undefined symbols checked)"
