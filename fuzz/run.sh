#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target for SECONDS under nice -n 19, FUZZ_JOBS targets at a time
# (default: the core count; each target is one process on one core, so running them side by
# side gives each the same seconds of fuzzing in a fraction of the wall time): usage
#   fuzz/run.sh BUILD_DIR SECONDS TARGET...
# New inputs go to BUILD_DIR/corpus/<target>/ (the committed seeds in fuzz/corpus/<target>/
# are read, never written); crashes, leaks and timeouts to BUILD_DIR/artifacts/. A target's
# dictionary fuzz/dict/<target>.dict is used when present; extra libFuzzer flags come from
# $FUZZ_FLAGS. Each target's summary is printed in the order given, once it has finished.
# Exit status: non-zero when any target found a bug.
set -u
build=$1 secs=$2
shift 2
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz/run.sh: FUZZ_JOBS must be a positive integer, not '$jobs'" >&2; exit 2; }
mkdir -p "$build/artifacts"

# one target, in the background: its log, then its exit status in $build/fuzz_<t>.rc
fuzz_one() {
    local t=$1 bin=$build/fuzz/fuzz_$1 dict=()
    mkdir -p "$build/corpus/$t"
    [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
    # -timeout: one input may take 30 s (generous: campaigns run under nice 19 on shared
    # cores, where a starved process once passed 10 s on an input that takes 0.3 s);
    # -rss_limit_mb: libFuzzer's default 2 GB, made explicit because an allocation beyond it
    # is a finding (a hostile file's size claim)
    # shellcheck disable=SC2086
    nice -n 19 "$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dict[@]}" ${FUZZ_FLAGS:-} \
        "$build/corpus/$t" "fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1
    echo $? >"$build/fuzz_$t.rc"
}

for t in "$@"; do
    rm -f "$build/fuzz_$t.rc"
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
    fuzz_one "$t" &
done
wait

status=0
for t in "$@"; do
    echo "=== fuzz_$t: ${secs} s"
    if [ "$(cat "$build/fuzz_$t.rc" 2>/dev/null)" != 0 ]; then
        status=1
        echo "fuzz_$t FAILED (log: $build/fuzz_$t.log)"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)" "$build/fuzz_$t.log" | head -5
    fi
    grep -E "^#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss" \
        "$build/fuzz_$t.log" | tail -4
done
exit $status
