#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Keeps the layer direction honest: cli -> dist -> nn -> optim, data, io -> autograd -> ops ->
# tensor. dist (the MPI transport, src/dist/) uses the library through its public headers
# only, and is the one place in src/ that includes mpi.h (the library stays MPI-free).
# A layer may use its own layer and those below it; in the middle row only nn uses the
# others (optim, data, io), and only through their public headers. Two checks:
#  1. includes (src/*/*.[ch]): a file includes internal headers ("../<layer>/...") of its own
#     layer or below, and public headers of its own layer or below: nabla/base.h (tensor and
#     ops), nabla/graph.h (autograd), nabla/{data,io,optim,nn}.h, nabla.h (cli only);
#  2. calls (the object files given; a file's layer is its folder): every undefined nb_*
#     symbol is defined by an object of the caller's layer or below, and a public one is
#     declared in a public header of the caller's layer or below (scripts/public-names.sh).
# scripts/layer-exceptions may allow internal middle-row uses, one "user:dependency" a line.
# Usage: [CC=cc] scripts/check-layers.sh [OBJECTS...]   (default build/src/*/*.o)
set -euo pipefail
[ $# -gt 0 ] || set -- build/src/*/*.o
mpi_users=$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]mpi\.h[>"]' src/*/*.[ch] | grep -v '^src/dist/' || true)
if [ -n "$mpi_users" ]; then
    echo "layer violation: only src/dist/ may include mpi.h:" $mpi_users; exit 1
fi
public=$(CC=${CC:-cc} bash scripts/public-names.sh)
{
    # the exceptions first: the include lines below are judged as they are read
    if [ -f scripts/layer-exceptions ]; then awk 'NF && $1 !~ /^#/ {print "X", $1}' scripts/layer-exceptions; fi
    echo "$public" | awk '{print "P", $2, $1}'
    awk '/^#include "/ { split($2, q, "\""); print "I", FILENAME, q[2] }' src/*/*.[ch]
    nm -A --defined-only "$@" | awk '$2 ~ /^[A-Z]$/ && $3 ~ /^nb_/ {sub(/:[^:]*$/, "", $1); print "D", $3, $1}'
    nm -A -u "$@" | awk '$2 == "U" && $3 ~ /^nb_/ {sub(/:$/, "", $1); print "U", $3, $1}'
} | awk -v n_obj=$# '
    function rank(l) {
        if (l == "tensor") return 0
        if (l == "ops") return 1
        if (l == "autograd") return 2
        if (l == "nn" || l == "optim" || l == "data" || l == "io") return 3
        if (l == "dist") return 3.5
        return l == "cli" ? 4 : 9
    }
    # the one rule: may layer u use layer d (pub: through its public API)?
    function may(u, d, pub) {
        if (u == d) return 1
        if (u == "dist" && !pub) return 0 # the transport sees only the public API
        if (rank(d) < rank(u)) return 1
        if (rank(d) != 3 || rank(u) != 3) return 0
        return (pub && u == "nn") || ((u ":" d) in except)
    }
    function folder(path,    p, n) { n = split(path, p, "/"); return p[n - 1] }
    function header_layer(h,    b) {
        sub(/^include\//, "", h)
        if (h == "nabla.h") return "cli"
        if (h == "nabla/base.h") return "tensor"
        if (h == "nabla/graph.h") return "autograd"
        b = h; sub(/^nabla\//, "", b); sub(/\.h$/, "", b)
        return b
    }
    function fail(msg) { print "layer violation: " msg; bad = 1 }
    $1 == "P" { hdr[$2] = $3; next }
    $1 == "X" { except[$2] = 1; next }
    $1 == "D" { def[$2] = $3; next }
    $1 == "I" {
        u = folder($2); inc = $3
        if (inc ~ /^\.\.\//) { d = inc; sub(/^\.\.\//, "", d); sub(/\/.*/, "", d); pub = 0 }
        else if (inc == "nabla.h" || inc ~ /^nabla\//) { d = header_layer(inc); pub = 1 }
        else next
        if (!may(u, d, pub)) fail($2 " (" u ") includes " inc " (" d ")")
        next
    }
    $1 == "U" { use[++n_use] = $2 " " $3 }
    END {
        for (i = 1; i <= n_use; i++) {
            split(use[i], x, " "); s = x[1]; o = x[2]; u = folder(o)
            pub = s !~ /^nb__/
            if (!(s in def)) { print "layer check: " o " calls " s ", which none of the objects defines"; bad = 1; continue }
            d = folder(def[s])
            if (!may(u, d, pub)) fail(o " (" u ") calls " s ", defined in " def[s] " (" d ")")
            if ((s in hdr) && !may(u, header_layer(hdr[s]), 1))
                fail(o " (" u ") calls " s ", declared in " hdr[s] " (" header_layer(hdr[s]) ")")
        }
        if (!bad) print "check-layers: ok (the includes of src/ and the nb_ calls of " n_obj " objects)"
        exit bad
    }'
