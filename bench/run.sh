#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench / make bench-smoke: nabla against PyTorch on the same models, recipes, data and
# thread count, back to back, each measurement in its own process (bench/nb_bench.c and
# bench/torch_bench.py print one line each); checks correctness first, then prints one table
# with the ratios (bench/table.py). What each row means: bench/README.md.
#   BENCH_THREADS=N         threads for both libraries (default: nproc)
#   BENCH_QUICK=1           smoke test (make bench-smoke): subsets and few steps, times scaled
#                           to a full epoch; about a minute; not a measurement
#   BENCH_TORCH=0           nabla only (default: PyTorch too when BENCH_PYTHON imports torch)
#   BENCH_PYTHON=PATH       the Python that has torch (default /usr/bin/python3)
#   BENCH_TORCH_VARIANTS    PyTorch thread settings to try, the best kept per row (default:
#                           all four of ob1 obdef ob1+passive obdef+passive; quick: only
#                           ob1+passive). ob1: OPENBLAS_NUM_THREADS=1; obdef: unset (OpenBLAS
#                           starts one thread per core); +passive: OMP_WAIT_POLICY=PASSIVE.
#                           torch.set_num_threads(N) and set_num_interop_threads(1) always.
#   BENCH_OPENBLAS_CORETYPE auto (default): when OpenBLAS does not know this CPU (common in
#                           VMs) and falls back to an old pre-AVX core such as Prescott, set
#                           OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2) for every
#                           process, nabla's and PyTorch's alike; none: never; NAME: that core.
#                           An OPENBLAS_CORETYPE already in the environment is kept.
#   BENCH_NABLA_RUNS=N      runs of nabla per row, the best kept (default: as many as
#                           PyTorch settings are tried, 1 without PyTorch)
#   BENCH_ONLY="ROWS"       a subset of: mlp-epoch cnn-epoch lstm-epoch words-epoch mlp-infer
#                           cnn-infer lstm-infer tiny logreg gemm mlp-dist cnn-dist
#   BENCH_DIST_RUNS, BENCH_DIST_NP, BENCH_DIST_NO_OVERLAP   the distributed rows (bench/dist.sh)
#   BENCH_WORDS=DIR         the words data set of `make words` (default BUILD/words); without
#                           its train.csv the words-epoch row is skipped with a note
#   BENCH_ROWS, BENCH_STEPS, BENCH_BATCHES   override the epoch rows (0 = all 60000), the
#                           batch-1 steps of tiny/logreg, the inference batches of 1000
#   BENCH_DATA=DIR          Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
#   BENCH_OUT=DIR           raw result lines (default runs/bench)
#   BENCH_BUSY=1            the contended mode instead (issue 19): the MLP and CNN training
#                           and inference rows with --threads 1 and 2, first on the machine as
#                           it is, then with a busy loop pinned to the last core (killed on
#                           exit), each the best of BENCH_BUSY_RUNS runs (default 3); a table
#                           of threads-2 time over threads-1 time, the target <= 1.10 when busy.
#                           BENCH_BUSY_QUIET=0 skips the first (unloaded) table.
# Exit status: 0 when every check passed and every run succeeded.
set -euo pipefail
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
NB=$B/bench/nb_bench
GEMM=$B/bench/gemm_bench
PY=${BENCH_PYTHON:-/usr/bin/python3}
D=${BENCH_DATA:-/usr/share/datasets/fashion-mnist}
W=${BENCH_WORDS:-$B/words}
T=${BENCH_THREADS:-$(nproc)}
QUICK=${BENCH_QUICK:-0}
out=${BENCH_OUT:-runs/bench}
[ -x "$NB" ] || { echo "bench: $NB missing (make BUILD=$B bench-build)" >&2; exit 1; }
[ -d "$D" ] || { echo "bench: $D missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
mkdir -p "$out"
res=$out/results.txt checks=$out/checks.txt
: >"$res"; : >"$checks"; rm -f "$out/gemm.txt" "$out/gemm.rc" "$out/words.skip"

if [ "$QUICK" = 1 ]; then
    rows_mlp=3200 rows_cnn=640 rows_lstm=640 rows_words=1280 steps_tiny=2000 steps_logreg=2000 batches=2 batches_mlp=2
    variants=${BENCH_TORCH_VARIANTS:-ob1+passive} gemm_args=(--quick)
else
    # the MLP's 1000-row batches take about a millisecond: 100 of them time well under a
    # second, so a stall of the VM weighs less than with 20
    rows_mlp=0 rows_cnn=0 rows_lstm=0 rows_words=0 steps_tiny=100000 steps_logreg=60000 batches=20 batches_mlp=100
    variants=${BENCH_TORCH_VARIANTS:-ob1 obdef ob1+passive obdef+passive} gemm_args=()
fi
rows_mlp=${BENCH_ROWS:-$rows_mlp} rows_cnn=${BENCH_ROWS:-$rows_cnn}
rows_lstm=${BENCH_ROWS:-$rows_lstm} rows_words=${BENCH_ROWS:-$rows_words}
steps_tiny=${BENCH_STEPS:-$steps_tiny} steps_logreg=${BENCH_STEPS:-$steps_logreg}
batches=${BENCH_BATCHES:-$batches} batches_mlp=${BENCH_BATCHES:-$batches_mlp}
ALL_ROWS="mlp-epoch cnn-epoch lstm-epoch words-epoch mlp-infer cnn-infer lstm-infer tiny logreg"
ONLY=${BENCH_ONLY:-$ALL_ROWS gemm mlp-dist cnn-dist}
wanted() { [[ " $ONLY " == *" $1 "* ]]; }
# nb_bench's arguments for row $1, into the array args (the ordinary table and the contended mode)
row_args() {
    case $1 in
        mlp-epoch) args=(--rows "$rows_mlp") ;;
        cnn-epoch) args=(--rows "$rows_cnn") ;;
        lstm-epoch) args=(--rows "$rows_lstm") ;;
        words-epoch) args=(--words "$W" --rows "$rows_words") ;;
        lstm-infer | cnn-infer) args=(--batches "$batches") ;;
        mlp-infer) args=(--batches "$batches_mlp") ;;
        tiny) args=(--steps "$steps_tiny") ;;
        logreg) args=(--steps "$steps_logreg") ;;
    esac
}

torch=0
if [ "${BENCH_TORCH:-1}" != 0 ] && "$PY" -c "import torch" 2>/dev/null; then torch=1; fi

# the environment of one PyTorch setting; the caller's thread variables never leak in
variant_env() {
    local v=$1 e=()
    case $v in ob1|ob1+passive) e+=(OPENBLAS_NUM_THREADS=1) ;; obdef|obdef+passive|-|'') ;;
        *) echo "bench: unknown BENCH_TORCH_VARIANTS entry '$v'" >&2; return 1 ;; esac
    [[ $v == *+passive ]] && e+=(OMP_WAIT_POLICY=PASSIVE)
    echo "${e[@]}"
}
clean_env=(env -u OPENBLAS_NUM_THREADS -u OMP_WAIT_POLICY -u OMP_NUM_THREADS -u GOTO_NUM_THREADS)

# run IMPL VARIANT FILE CMD ARGS...: one process, its line appended to FILE as
# "IMPL VARIANT LINE", or "IMPL VARIANT FAILED CMD" when it fails
fails=0
run() {
    local impl=$1 variant=$2 file=$3 cmd=$4 line
    shift 4
    echo "bench: $impl${variant:+ ($variant)} $cmd ..." >&2
    if [ "$impl" = nabla ]; then
        line=$("${clean_env[@]}" "$NB" "$cmd" --threads "$T" --data "$D" "$@" | tail -n 1) || line=
    else
        # shellcheck disable=SC2046 # the variant's assignments are words on purpose
        line=$("${clean_env[@]}" $(variant_env "$variant") "$PY" "$here/torch_bench.py" "$cmd" \
               --threads "$T" --data "$D" "$@" | tail -n 1) || line=
    fi
    if [[ $line == "$cmd "* ]]; then
        echo "$impl ${variant:--} $line" >>"$file"
    else
        echo "$impl ${variant:--} FAILED $cmd" >>"$file"
        fails=$((fails + 1))
    fi
}

# OpenBLAS picks its kernels by CPU model at load time; both libraries multiply matrices
# through it (PyTorch's Linear always; nabla when its GEMM chooses cblas), so both get the same
# core. The probe is a process that loads OpenBLAS with OPENBLAS_VERBOSE=2 ("Core: NAME").
probe_core() {
    local c
    c=$(OPENBLAS_VERBOSE=2 "$NB" 2>&1 | sed -n 's/^Core: //p' | head -n 1) || true
    if [ -z "$c" ] && [ $torch = 1 ]; then
        c=$(OPENBLAS_VERBOSE=2 "$PY" -c "import torch" 2>&1 | sed -n 's/^Core: //p' | head -n 1) || true
    fi
    echo "${c:-unknown}"
}
core_note=
want=${BENCH_OPENBLAS_CORETYPE:-auto}
if [ -n "${OPENBLAS_CORETYPE:-}" ] && [ -z "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
    core_note="OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE from the environment, for every process"
elif [ "$want" = auto ]; then
    core=$(probe_core)
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    pre_avx=" Prescott Katmai Coppermine Northwood Banias Core2 Penryn Dunnington Nehalem Atom Opteron Opteron_SSE3 Barcelona "
    want=none
    if [[ $pre_avx == *" $core "* ]]; then
        if [[ $flags == *" avx512f "* && $flags == *" avx512bw "* && $flags == *" avx512vl "* ]]; then want=SkylakeX
        elif [[ $flags == *" avx2 "* && $flags == *" fma "* ]]; then want=Haswell; fi
    fi
    if [ "$want" = none ]; then core_note="OpenBLAS core $core (detected)"
    else core_note="OpenBLAS detected core $core (a fallback for an unknown CPU): OPENBLAS_CORETYPE=$want set for every process"; fi
elif [ "$want" = none ]; then
    unset OPENBLAS_CORETYPE
    core_note="OpenBLAS core $(probe_core) (detected; BENCH_OPENBLAS_CORETYPE=none)"
else
    core_note="OPENBLAS_CORETYPE=$want (BENCH_OPENBLAS_CORETYPE) for every process"
fi
if [ "$want" != none ] && [ "$want" != auto ]; then export OPENBLAS_CORETYPE=$want; fi
echo "bench: $core_note" >&2

load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$NB" kernel 2>/dev/null | sed -n 's/^kernel //p' >"$out/kernel.txt" || true
# what sharing data between the cores costs, at the start and at the end: a VM's vCPUs may
# sit on one die or on two, and move between runs - the 2-thread rows move with them
xcore() { if [ -x "$B/bench/xcore" ]; then echo "$1 $("$B/bench/xcore")" >>"$out/xcore.txt"; fi; }
rm -f "$out/xcore.txt"
xcore start

# the contended mode: a shell loop pinned to the last core competes with --threads 2
if [ "${BENCH_BUSY:-0}" = 1 ]; then
    busy_rows="mlp-epoch cnn-epoch mlp-infer cnn-infer"
    bres=$out/busy.txt
    : >"$bres"
    spinner=
    stop_spinner() { if [ -n "$spinner" ]; then kill "$spinner" 2>/dev/null || true; wait "$spinner" 2>/dev/null || true; spinner=; fi; }
    trap stop_spinner EXIT
    trap 'stop_spinner; exit 130' INT TERM
    last=$(( $(nproc) - 1 ))
    for mode in quiet busy; do
        [ "$mode" = quiet ] && [ "${BENCH_BUSY_QUIET:-1}" = 0 ] && continue
        if [ "$mode" = busy ]; then
            taskset -c "$last" sh -c 'while :; do :; done' &
            spinner=$!
            sleep 0.5
        fi
        for r in $busy_rows; do
            wanted "$r" || continue
            row_args "$r"
            for th in 1 2; do
                for ((i = 1; i <= ${BENCH_BUSY_RUNS:-3}; i++)); do
                    T=$th run nabla "$mode-t$th" "$bres" "$r" "${args[@]}"
                    echo "load $mode-t$th $r $(cut -d' ' -f1-3 /proc/loadavg)" >>"$bres"
                done
            done
        done
        stop_spinner
    done
    xcore end
    python3 "$here/table.py" busy "$bres" "$out" "$QUICK" "$load0" "$core_note" || fails=$((fails + 1))
    [ "$fails" = 0 ] || { echo "bench: $fails run(s) failed (raw lines in $bres)" >&2; exit 1; }
    exit 0
fi

# 1. correctness before timing: 10 steps of each recipe from the same initial weights
for m in mlp cnn; do
    wanted "$m-epoch" || wanted "$m-infer" || continue
    run nabla "" "$checks" "$m-check" --init "$out/$m-init.safetensors"
    if [ $torch = 1 ]; then run torch "${variants%% *}" "$checks" "$m-check" --init "$out/$m-init.safetensors"; fi
done
python3 "$here/table.py" check "$checks" "$torch" tests/ref/mlp_steps.txt || {
    echo "bench: correctness check failed; nothing was timed (raw lines: $checks)" >&2; exit 1; }

# 2. GEMM throughput against the FMA peak (bench/gemm_bench.c, when built)
rm -f "$out/gemm.skip"
if ! wanted gemm; then
    echo "not requested (BENCH_ONLY)" >"$out/gemm.skip"
elif [ ! -x "$GEMM" ]; then
    echo "$GEMM is missing: bench/gemm_bench.c is not there yet, or did not build" >"$out/gemm.skip"
else
    echo "bench: gemm_bench ..." >&2
    rc=0
    "${clean_env[@]}" BENCH_THREADS="$T" "$GEMM" ${gemm_args[@]+"${gemm_args[@]}"} >"$out/gemm.txt" 2>&1 || rc=$?
    echo "$rc" >"$out/gemm.rc"
    [ "$rc" = 0 ] || fails=$((fails + 1))
fi

# 3. the speed rows: nabla, then PyTorch in each setting
for r in $ALL_ROWS; do
    wanted "$r" || continue
    if [ "$r" = words-epoch ] && [ ! -f "$W/train.csv" ]; then
        echo "words-epoch skipped: $W/train.csv is missing (make words)" | tee "$out/words.skip" >&2
        continue
    fi
    row_args "$r"
    # nabla runs as many times as PyTorch has settings, interleaved with them, and its best
    # run is kept as PyTorch's best setting is: on a shared machine both get the same chances
    tv=(); [ $torch = 1 ] && read -r -a tv <<<"$variants"
    nruns=${BENCH_NABLA_RUNS:-$(( ${#tv[@]} > 0 ? ${#tv[@]} : 1 ))}
    for ((i = 0; i < (nruns > ${#tv[@]} ? nruns : ${#tv[@]}); i++)); do
        if [ $i -lt "$nruns" ]; then run nabla "run$((i + 1))" "$res" "$r" "${args[@]}"; fi
        if [ $i -lt ${#tv[@]} ]; then run torch "${tv[$i]}" "$res" "$r" "${args[@]}"; fi
    done
done

# 4. the distributed rows: the CLI under mpirun against one process (bench/dist.sh; skipped
# with a line when Open MPI or an MPI build of the CLI is missing)
rm -f "$out/dist.skip" "$out/dist.nooverlap"
dist_rows=
for r in mlp-dist cnn-dist; do wanted "$r" && dist_rows+=" $r"; done
if [ -n "$dist_rows" ]; then
    rc=0
    BENCH_DIST_ROWS="$dist_rows" bash "$here/dist.sh" "$B" "$out" "$QUICK" "$D" "$res" || rc=$?
    fails=$((fails + rc))
fi

xcore end
python3 "$here/table.py" table "$res" "$checks" "$out" "$T" "$QUICK" "$torch" "$load0" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$core_note" || fails=$((fails + 1))
[ "$fails" = 0 ] || { echo "bench: $fails run(s) or check(s) failed (raw lines in $out)" >&2; exit 1; }
