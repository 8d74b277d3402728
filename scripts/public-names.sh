#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# public-names.sh - the functions and variables the public headers declare, one "HEADER NAME"
# per line (HEADER as include/nabla/graph.h), for tests/check_exports.sh and
# scripts/check-layers.sh. The C preprocessor ($CC -E over the umbrella include/nabla.h)
# removes the comments and C++ guards and its line markers name each header; a declaration
# is then any top-level statement under include/ other than a typedef, a definition (braces)
# or a bare struct, union or enum tag: a function's name precedes its first '(' (after NB_API's __attribute__ is
# dropped), a variable's is the last identifier before ';', '[' or '='.
# Usage: [CC=cc] scripts/public-names.sh   (from the repository root)
set -euo pipefail
# $CC unquoted: it may carry words ("ccache gcc")
${CC:-cc} -std=c11 -E -Iinclude include/nabla.h | awk '
    /^# [0-9]+ "/ { file = $3; gsub(/"/, "", file); next }
    /^#/ || file !~ /^include\// { next }
    {
        line = $0 " "
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (c == "{") depth++
            else if (c == "}") depth--
            if (c == ";" && depth == 0) { decl(stmt, file); stmt = "" }
            else stmt = stmt c
        }
    }
    function decl(s, f,    name) {
        gsub(/__attribute__[ \t]*\(\([^()]*(\([^()]*\))?[^()]*\)\)/, "", s)
        gsub(/^[ \t]+|[ \t]+$/, "", s)
        if (s == "" || s ~ /^typedef[ \t]/ || s ~ /[{]/ || s ~ /^(struct|union|enum)[ \t]+[A-Za-z0-9_]+$/)
            return
        if (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/))
            name = substr(s, RSTART, RLENGTH)
        else if (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*(\[[^;]*)?(=.*)?$/))
            name = substr(s, RSTART, RLENGTH)
        else return
        sub(/[^A-Za-z0-9_].*/, "", name)
        print f, name
    }
'
