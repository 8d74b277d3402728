#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replays every committed fuzz input (fuzz/corpus/<target>/: seeds and inputs that once found
# a bug) through its target's code with the plain driver fuzz/replay.c, so the corpus is a
# regression test that needs no libFuzzer. Every fuzz/fuzz_*.c target must have a non-empty
# corpus and a replay binary ($BUILD/fuzz/replay_<target>, built by `make test`).
set -u
build=${BUILD:-build}
fail=0 total=0 targets=0
for src in fuzz/fuzz_*.c; do
    t=${src#fuzz/fuzz_}
    t=${t%.c}
    dir=fuzz/corpus/$t bin=$build/fuzz/replay_$t
    n=$(find "$dir" -maxdepth 1 -type f 2>/dev/null | wc -l)
    if [ "$n" -eq 0 ]; then echo "FAIL $t: no corpus in $dir"; fail=1; continue; fi
    if [ ! -x "$bin" ]; then echo "FAIL $t: $bin is not built"; fail=1; continue; fi
    if ! out=$("$bin" "$dir" 2>&1); then
        echo "FAIL $t:"; tail -n 20 <<<"$out"; fail=1; continue
    fi
    grep -q "^replay: $n inputs$" <<<"$out" || { echo "FAIL $t: $out"; fail=1; continue; }
    total=$((total + n)) targets=$((targets + 1))
done
[ "$targets" -ge 5 ] || { echo "FAIL: only $targets fuzz targets replayed"; fail=1; }
[ "$fail" -eq 0 ] && echo "fuzz replay: $total inputs through $targets targets"
exit "$fail"
