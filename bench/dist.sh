#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/dist.sh BUILD OUT QUICK DATA RESULTS: the distributed rows of `make bench` (bench/run.sh
# calls it for BENCH_ONLY's mlp-dist / cnn-dist; bench/README.md, docs/DISTRIBUTED.md). The
# reference MLP and CNN recipes of the mlp-epoch / cnn-epoch rows (same data, spec, optimizer,
# batch 64, one epoch, seed 1), trained by the CLI, which is what `mpirun` starts:
#   1p1t    one process, --threads 1
#   1p2t    one process, --threads 2
#   2r1t    mpirun -np 2 --oversubscribe --bind-to none, --threads 1 per rank
#   2r1t-no the same with the gradient reduction after backward (no overlap), when the CLI has
#           a flag for it (BENCH_DIST_NO_OVERLAP, default: found in `nabla train --help`)
# Each run appends "nabla SETTING NAME S s/epoch key=value ..." to RESULTS (table.py distline
# reads the run's --metrics-json and its log), or "nabla SETTING FAILED NAME". The times are
# nabla's own per-epoch seconds (the history's), scaled to 60000 rows under BENCH_QUICK=1.
# Without mpirun or without an MPI build of the CLI the rows are skipped: one line, in
# OUT/dist.skip, exit 0. Exit status: the number of failed runs (0: all ran).
#   BENCH_DIST_RUNS=N   runs of each setting, the best kept (default 1)
#   BENCH_DIST_NP=N     ranks of the distributed settings (default 2)
set -uo pipefail
B=$1 out=$2 quick=$3 D=$4 res=$5
here=$(cd "$(dirname "$0")" && pwd)
NABLA=$B/nabla
np=${BENCH_DIST_NP:-2}
runs=${BENCH_DIST_RUNS:-1}
rm -f "$out/dist.skip"
skip() { echo "mlp-dist, cnn-dist skipped: $*" | tee "$out/dist.skip" >&2; exit 0; }

[ -x "$NABLA" ] || skip "$NABLA is missing (make BUILD=$B)"
command -v mpirun >/dev/null 2>&1 || skip "mpirun is missing (apt-get install openmpi-bin libopenmpi-dev: scripts/deps.sh)"
# the MPI transport is linked into the CLI when Open MPI's development files were there at
# build time (the Makefile's MPI=auto); a CLI without it refuses to run under mpirun. It
# calls MPI_Init_thread (a dynamic symbol, or the name in a static link)
if ! ldd "$NABLA" 2>/dev/null | grep -q 'libmpi' && ! grep -qa 'MPI_Init_thread' "$NABLA"; then
    skip "$NABLA was built without MPI (install libopenmpi-dev: scripts/deps.sh, then rebuild)"
fi
# Open MPI refuses root unless told (docs/DISTRIBUTED.md)
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

help=$("$NABLA" train --help 2>&1 || true)
nooverlap=${BENCH_DIST_NO_OVERLAP-auto}
if [ "$nooverlap" = auto ]; then
    nooverlap=
    for f in --no-overlap --no-comm-overlap; do
        if grep -q -- "$f\b" <<<"$help"; then nooverlap=$f; break; fi
    done
fi
[ -n "$nooverlap" ] || echo "the CLI has no flag to turn the overlap off: the no-overlap setting is not run" >"$out/dist.nooverlap"

mlp_spec="dense 256; relu; dense 128; relu; dense 10"
mlp_opt=(--optimizer sgd --lr 0.05 --momentum 0.9)
cnn_spec="conv 16 3x3 pad 1; relu; maxpool 2; conv 32 3x3 pad 1; relu; maxpool 2; flatten; dense 128; relu; dense 10"
cnn_opt=(--optimizer adam --lr 0.001)
if [ "$quick" = 1 ]; then lim_mlp=(--limit 3200) lim_cnn=(--limit 640); else lim_mlp=() lim_cnn=(); fi
[ -n "${BENCH_ROWS:-}" ] && [ "${BENCH_ROWS}" != 0 ] && lim_mlp=(--limit "$BENCH_ROWS") lim_cnn=(--limit "$BENCH_ROWS")
clean_env=(env -u OPENBLAS_NUM_THREADS -u OMP_WAIT_POLICY -u OMP_NUM_THREADS -u GOTO_NUM_THREADS)
tmp=$out/dist
mkdir -p "$tmp"

fails=0
# one SETTING NAME: the run, its log and JSON in OUT/dist/, its line appended to RESULTS
one() {
    local setting=$1 name=$2 model=${2%-dist} pre=() threads=1 extra=() spec opt lim line
    case $setting in
        1p1t) ;;
        1p2t) threads=2 ;;
        "${np}r1t") pre=(mpirun -np "$np" --oversubscribe --bind-to none) ;;
        "${np}r1t-no") pre=(mpirun -np "$np" --oversubscribe --bind-to none) extra=("$nooverlap") ;;
    esac
    if [ "$model" = mlp ]; then spec=$mlp_spec opt=("${mlp_opt[@]}") lim=(${lim_mlp[@]+"${lim_mlp[@]}"})
    else spec=$cnn_spec opt=("${cnn_opt[@]}") lim=(${lim_cnn[@]+"${lim_cnn[@]}"}); fi
    local base=$tmp/$name-$setting
    rm -f "$base.json"
    echo "bench: nabla ($setting) $name ..." >&2
    "${clean_env[@]}" ${pre[@]+"${pre[@]}"} "$NABLA" train --train "$D" --model "$spec" "${opt[@]}" \
        --batch-size 64 --epochs 1 --seed 1 --threads "$threads" ${lim[@]+"${lim[@]}"} \
        ${extra[@]+"${extra[@]}"} --out "$base.safetensors" --metrics-json "$base.json" >"$base.log" 2>&1
    local rc=$?
    # under mpirun rank 0 alone prints: N "saved" lines mean N independent single-process runs
    # (a CLI that links MPI but does not train with it yet)
    if [ ${#pre[@]} -gt 0 ] && [ "$(grep -c '^saved ' "$base.log")" -gt 1 ]; then
        echo "bench: $name ($setting): every rank saved its own model: this nabla does not train under mpirun" >&2
        rc=1
    fi
    line=$(python3 "$here/table.py" distline "$base.json" "$base.log" "$name" "$setting" "$np") || line=
    if [ $rc = 0 ] && [[ $line == "$name "* ]]; then
        echo "nabla $setting $line" >>"$res"
    else
        echo "bench: $name ($setting) failed (exit $rc; log $base.log): $(tail -n 3 "$base.log" | tr '\n' ' ')" >&2
        echo "nabla $setting FAILED $name" >>"$res"
        fails=$((fails + 1))
    fi
}

settings=(1p1t 1p2t "${np}r1t")
[ -n "$nooverlap" ] && settings+=("${np}r1t-no")
for name in ${BENCH_DIST_ROWS:-mlp-dist cnn-dist}; do
    for ((i = 0; i < runs; i++)); do
        for s in "${settings[@]}"; do one "$s" "$name"; done
    done
done
exit "$fails"
