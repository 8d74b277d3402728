# SPDX-License-Identifier: MIT
# lib.sh - what the MPI test scripts share; sourced after `NAME=test_...` (and, for CLI runs,
# after tests/cli/lib.sh). Helpers:
#   mpi_available           0 when mpirun is on PATH and $BUILD was built with MPI; otherwise
#                           prints "SKIP: ..." naming the packages and returns 1
#   run_mpi NP CMD...       mpirun -np NP CMD... (root allowed, --oversubscribe: CI machines
#                           have 2 cores), under `timeout $MPI_TIMEOUT` (default 120 s);
#                           stdout in $T/out, stderr in $T/err, exit code in $rc
#   make_csv FILE ROWS FEATURES CLASSES SEED PREFIX
#                           a labelled CSV "y,f0,..": row i is class i % CLASSES (named
#                           PREFIX<class>), feature j lifted by 1 when j % CLASSES is the class
#   mpirun_cmd              the mpirun command line, as an array: "${MPIRUN[@]}" for MPMD runs
#                           (mpirun ... -np 1 a : -np 1 b) or other layouts
# Under `make sanitize` the MPI runs keep AddressSanitizer and UBSan but not LeakSanitizer:
# Open MPI leaves ~117 KB from MPI_Init in ~3300 blocks at exit, allocated in its plugins
# (mca_*.so, unloaded at MPI_Finalize), whose one-frame stacks name no module, so no
# suppressions file can single them out without hiding nabla's own leaks too. src/dist's own
# allocations are freed by nb_mpi_finalize; the library's distributed code is leak-checked by
# tests/nn/test_dist.c over a thread transport.
BUILD=${BUILD:-build}
MPI_TIMEOUT=${MPI_TIMEOUT:-120}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# no network interfaces to probe on one machine; keeps start-up fast and quiet in containers
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi_sanitized=0
if nm "$BUILD/nabla" 2>/dev/null | grep -q '__asan_init'; then
    mpi_sanitized=1
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
MPIRUN=(mpirun --oversubscribe --bind-to none)
mpi_available() {
    if ! command -v mpirun >/dev/null 2>&1; then
        echo "SKIP: mpirun not found: install openmpi-bin libopenmpi-dev (scripts/deps.sh)"; return 1
    fi
    # the CLI holds the transport exactly when it was built with MPI
    if [ "${MPI:-}" = no ] || ! nm "$BUILD/nabla" 2>/dev/null | grep -q ' T nb_mpi_init$'; then
        echo "SKIP: $BUILD was built without MPI: install openmpi-bin libopenmpi-dev (scripts/deps.sh) and rebuild"
        return 1
    fi
    [ "$mpi_sanitized" -eq 0 ] || echo "note: $NAME under AddressSanitizer + UBSan without leak checks (Open MPI's own leaks at exit)"
    return 0
}
run_mpi() {
    local np=$1; shift
    timeout "$MPI_TIMEOUT" "${MPIRUN[@]}" -np "$np" "$@" >"$T/out" 2>"$T/err"; rc=$?
}
make_csv() {
    awk -v n="$2" -v f="$3" -v k="$4" -v seed="$5" -v pre="$6" 'BEGIN { srand(seed); printf "y";
        for (j = 0; j < f; j++) printf ",f%d", j; print "";
        for (i = 0; i < n; i++) { c = i % k; printf "%s%d", pre, c;
            for (j = 0; j < f; j++) printf ",%.4f", (j % k == c) + rand() - 0.5; print "" } }' >"$1"
}
