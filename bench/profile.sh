#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make profile: where the time of the bench's training and inference rows goes. Each row runs
# once under `perf record` (Debian package linux-perf), sampling only its timed section
# (nb_bench opens and closes perf's control FIFO around it), and bench/profile.py sorts the
# samples into categories: the GEMM's multiply-adds and its packing, im2col/col2im, pooling,
# activations, the optimizer, batch assembly, zeroing, the thread pool's waiting, the kernel.
# Then bench/xcore prints what sharing data between two cores costs on this machine - what
# a row split over threads pays for each byte one thread reads that the other wrote.
#   PROFILE_ROWS="..."   rows (default: mlp-epoch cnn-epoch mlp-infer cnn-infer)
#   PROFILE_THREADS=N    threads (default: BENCH_THREADS, else nproc, as make bench)
#   PROFILE_HZ=N         samples per second per running thread (default 2000)
#   BENCH_ROWS, BENCH_BATCHES, BENCH_DATA   as make bench (default rows: the whole set for
#                        the MLP, 12800 images for the CNN; 200 and 20 inference batches)
#   PROFILE_OUT=DIR      perf data and reports (default runs/profile)
# Exit status: 0, or 1 when perf or a row failed (said on stderr).
set -euo pipefail
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
NB=$B/bench/nb_bench
D=${BENCH_DATA:-/usr/share/datasets/fashion-mnist}
T=${PROFILE_THREADS:-${BENCH_THREADS:-$(nproc)}}
HZ=${PROFILE_HZ:-2000}
rows=${PROFILE_ROWS:-mlp-epoch cnn-epoch mlp-infer cnn-infer}
out=${PROFILE_OUT:-runs/profile}
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$NB" ] || { echo "profile: $NB missing (make bench-build)" >&2; exit 1; }
[ -d "$D" ] || { echo "profile: $D missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
mkdir -p "$out"
ctl=$out/perf.ctl
rm -f "$ctl"
mkfifo "$ctl"
trap 'rm -f "$ctl"' EXIT
done_rows=()
for r in $rows; do
    case $r in
        mlp-epoch) args=(--rows "${BENCH_ROWS:-0}") ;;
        cnn-epoch) args=(--rows "${BENCH_ROWS:-12800}") ;;
        mlp-infer) args=(--batches "${BENCH_BATCHES:-200}") ;;
        cnn-infer) args=(--batches "${BENCH_BATCHES:-20}") ;;
        *) echo "profile: unknown row '$r' (mlp-epoch cnn-epoch mlp-infer cnn-infer)" >&2; exit 1 ;;
    esac
    echo "profile: $r on $T thread(s) ..." >&2
    # -D -1: start with sampling off; nb_bench turns it on for its timed section only
    if ! perf record -q -F "$HZ" -D -1 --control "fifo:$ctl" -o "$out/$r.data" -- \
        env NB_BENCH_PERF_CTL="$ctl" "$NB" "$r" --threads "$T" --data "$D" "${args[@]}" >"$out/$r.line" 2>"$out/$r.err"; then
        echo "profile: $r failed: $(tail -n 3 "$out/$r.err" "$out/$r.line" 2>/dev/null | tr '\n' ' ')" >&2
        echo "  (perf_event_paranoid is $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo '?'); above 2 needs root or sysctl kernel.perf_event_paranoid=2)" >&2
        exit 1
    fi
    perf report -i "$out/$r.data" --no-children --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' >"$out/$r.txt" || true
    perf script -i "$out/$r.data" -F ip 2>/dev/null | wc -l >"$out/$r.samples" || true
    done_rows+=("$r")
done
echo
echo "nabla profile, $T thread(s), $(nproc) cores, $(date '+%Y-%m-%d %H:%M'); perf record -F $HZ over each row's timed section"
python3 "$here/profile.py" "$out" "$HZ" "${done_rows[@]}"
echo
if [ -x "$B/bench/xcore" ]; then "$B/bench/xcore"; else echo "cross-core: $B/bench/xcore not built"; fi
