#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_docs.sh NABLA: facts the docs state that the code decides, checked against the code:
#  - the README's dependency table names every package scripts/deps.sh installs;
#  - the --threads limit in docs/CLI.md and in `nabla train --help` is the one the parser enforces;
#  - `make demo` (scripts/demo.sh) shows every command it runs: each line that runs a built
#    program goes through run() (which prints it shell-quoted), or follows a printf of it.
# (The layer words of docs/SPEC.md and docs/CLI.md are checked by tests/nn/test_layers.c.)
set -euo pipefail
nabla=${1:-build/nabla}
fail() { echo "check_docs: $*" >&2; exit 1; }

# packages: the pkgs=( ... ) array of deps.sh against the README's "| package | why |" table
pkgs=$(sed -n '/^pkgs=(/,/)/p' scripts/deps.sh | sed 's/pkgs=(//; s/)//' | tr -s ' \n' '\n' | sed '/^$/d')
[ "$(wc -l <<<"$pkgs")" -ge 5 ] || fail "could not read the package list of scripts/deps.sh"
table=$(sed -n '/^| package | why |/,/^$/p' README.md)
[ -n "$table" ] || fail "README.md has no '| package | why |' dependency table"
for p in $pkgs; do
    grep -qF "\`$p\`" <<<"$table" || fail "README.md's dependency table does not list $p (scripts/deps.sh installs it)"
done

# --threads: the parser's bound, from its own error message
msg=$("$nabla" train --threads 0 2>&1 >/dev/null || true)
max=$(sed -n "s/.*--threads: expected an integer in \[1, \([0-9]*\)\].*/\1/p" <<<"$msg")
[ -n "$max" ] || fail "no bound in the --threads error: $msg"
row=$(grep -E '^\| `--threads N`' docs/CLI.md || true) # (no pipes into grep -q under pipefail)
grep -qF "at most $max" <<<"$row" ||
    fail "docs/CLI.md's --threads row does not say 'at most $max' (the parser's limit)"
help=$("$nabla" train --help)
grep -A1 -- '--threads N' <<<"$help" | grep -qF "at most $max" ||
    fail "nabla train --help does not say --threads is 'at most $max'"
# the demo: no silent command
bad=$(awk '/^[[:space:]]*"\$B\// && prev !~ /^printf .\$ / {print FILENAME ":" NR ": " $0} {prev = $0}' scripts/demo.sh)
[ -z "$bad" ] || fail "scripts/demo.sh runs a command without showing it (use run): $bad"
grep -q '^run() { printf' scripts/demo.sh || fail "scripts/demo.sh has no run() that prints the command"
echo "check_docs: $(wc -l <<<"$pkgs") packages in the README's table, --threads limit $max: ok"
