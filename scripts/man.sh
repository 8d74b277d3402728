#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man.sh NABLA OUT: writes the manual page nabla.1 from the CLI's own --help texts with help2man
# (Debian package help2man), so the page can never drift from the program: `nabla --help`
# gives NAME, SYNOPSIS and the overview, and every command listed there ("commands:" block)
# gets a subsection holding its `nabla CMD --help`, kept preformatted. Run by `make man` and
# `make install`; tests/check_install.sh checks the page names every command and option.
set -euo pipefail
nabla=$1 out=$2
command -v help2man >/dev/null || {
    echo "man.sh: help2man is missing; install it with: bash scripts/deps.sh (Debian package help2man)" >&2
    exit 1
}
inc=$(mktemp) && trap 'rm -f "$inc"' EXIT
# roff-escape preformatted text: backslashes, a leading '.' or '\'', and ASCII minus signs
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\&\\1/" -e 's/-/\\-/g'; }
{
    echo '[COMMANDS]'
    for cmd in $("$nabla" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'); do
        echo ".SS \"nabla $cmd\""
        echo '.nf'
        "$nabla" "$cmd" --help | esc
        echo '.fi'
    done
    echo '[SEE ALSO]'
    echo 'The documentation installed in share/doc/nabla: README.md, CLI.md (every option, the'
    echo 'exit codes), DATA.md, SPEC.md, MODEL_FORMAT.md, RELIABILITY.md.'
} >"$inc"
help2man --no-info --no-discard-stderr --section=1 --source="nabla" \
    --name="train and use neural networks on CSV and IDX data" --include="$inc" \
    --output="$out.tmp" "$nabla"
mv "$out.tmp" "$out"
