#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shared library exports exactly the public API: the defined dynamic symbols of
# libnabla.so are the functions and variables declared in include/nabla.h and
# include/nabla/*.h (scripts/public-names.sh). An extra symbol is an internal one that
# escaped -fvisibility=hidden; a missing one is a public declaration without NB_API or
# without a definition. Names starting with '_' belong to the toolchain and are ignored.
# With a second argument, the NULL-argument test (tests/nn/test_api_null.c): its --list must
# name exactly the declared functions, so every public function is called with NULLs.
# Usage: [CC=cc] tests/check_exports.sh build/libnabla.so [build/tests/nn/test_api_null]
# (from the repository root)
set -euo pipefail
lib=${1:-build/libnabla.so}
api_null=${2:-}
declared=$(bash scripts/public-names.sh | awk '{print $2}' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk 'NF >= 3 && $3 !~ /^_/ {sub(/@.*/, "", $3); print $3}' | sort -u)
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$extra" ] || [ -n "$missing" ]; then
    [ -z "$extra" ] || { echo "check_exports: $lib exports names no public header declares:"; echo "$extra" | sed 's/^/  /'; }
    [ -z "$missing" ] || { echo "check_exports: public declarations $lib does not export (NB_API missing, or no definition):"
                           echo "$missing" | sed 's/^/  /'; }
    exit 1
fi
if [ -n "$api_null" ]; then
    tested=$("$api_null" --list | sort -u)
    untested=$(comm -23 <(echo "$declared") <(echo "$tested"))
    unknown=$(comm -13 <(echo "$declared") <(echo "$tested"))
    if [ -n "$untested" ] || [ -n "$unknown" ]; then
        [ -z "$untested" ] || { echo "check_exports: public functions $api_null does not call with NULLs (add a case):"
                                echo "$untested" | sed 's/^/  /'; }
        [ -z "$unknown" ] || { echo "check_exports: $api_null names functions no public header declares:"
                               echo "$unknown" | sed 's/^/  /'; }
        exit 1
    fi
fi
echo "check_exports: $lib exports exactly the $(echo "$declared" | wc -l) names the public headers declare"
