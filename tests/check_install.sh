#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_install.sh BUILD: `make install` into a scratch DESTDIR installs the headers, both
# libraries, nabla.pc, the CLI, the man page and the docs; a program compiled against the
# installed header and shared library runs (rpath, as the README's "Shared library" says); the
# man page names every command and every option of every command's --help; `make uninstall`
# then leaves no file behind. CC, CFLAGS and MAKE come from the Makefile (the sanitizer build
# passes its flags, which a program linked to its shared library needs too).
set -euo pipefail
B=${1:-build}
CC=${CC:-cc} MAKE=${MAKE:-make}
root=$(mktemp -d) && trap 'rm -rf "$root"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }
$MAKE -s --no-print-directory install BUILD="$B" DESTDIR="$root" PREFIX=/usr >/dev/null
p=$root/usr
for f in include/nabla.h include/nabla/nn.h lib/libnabla.a lib/libnabla.so bin/nabla \
         lib/pkgconfig/nabla.pc share/man/man1/nabla.1 share/doc/nabla/README.md \
         share/doc/nabla/LICENSE share/doc/nabla/CLI.md; do
    [ -e "$p/$f" ] || fail "make install did not install $f"
done
grep -qx 'prefix=/usr' "$p/lib/pkgconfig/nabla.pc" || fail "nabla.pc does not name PREFIX=/usr"

# a program built against the installed copy, found at run time through its rpath
# shellcheck disable=SC2086
$CC -std=c11 ${CFLAGS:-} -I"$p/include" examples/chain_rule.c -o "$root/chain" -L"$p/lib" -lnabla \
    -Wl,-rpath,"$p/lib" -lm
libs=$(ldd "$root/chain") # (not piped into grep -q: an early exit would SIGPIPE ldd under pipefail)
grep -qF "$p/lib/libnabla.so" <<<"$libs" || fail "the program does not load the installed libnabla.so"
"$root/chain" "$root/chain.dot" >/dev/null || fail "a program linked to the installed libnabla.so failed"

# the man page: every command and every long option of every --help
man=$(sed 's/\\-/-/g' "$p/share/man/man1/nabla.1")
cmds=$("$B/nabla" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail "no command list in nabla --help"
n=0
for c in $cmds; do
    grep -qF "nabla $c" <<<"$man" || fail "the man page has no section for 'nabla $c'"
    for o in $("$B/nabla" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "$o" <<<"$man" || fail "the man page lacks $o of 'nabla $c'"
        n=$((n + 1))
    done
done

$MAKE -s --no-print-directory uninstall BUILD="$B" DESTDIR="$root" PREFIX=/usr >/dev/null
left=$(find "$p" \( -type f -o -type l \) | sed "s|^$p/||")
[ -z "$left" ] || fail "make uninstall left: $left"
echo "check_install: install, rpath program, man page ($(wc -w <<<"$cmds") commands, $n options), uninstall: ok"
