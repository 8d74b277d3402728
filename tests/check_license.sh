#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file carries the licence's SPDX line where tools look for it: the first line of
# a C file, the first line of a script (the second after a shebang); and LICENSE exists.
set -u
cd "$(dirname "$0")/.." || exit 1
fail=0
[ -f LICENSE ] || { echo "check_license: LICENSE is missing at the repository root"; fail=1; }
while IFS= read -r -d '' f; do
    case "$f" in
    *.c | *.h) want='/* SPDX-License-Identifier: MIT */'; line=$(head -n1 "$f") ;;
    *)  want='# SPDX-License-Identifier: MIT'; line=$(head -n1 "$f")
        [[ $line == '#!'* ]] && line=$(sed -n 2p "$f") ;;
    esac
    if [ "$line" != "$want" ]; then
        echo "check_license: $f lacks '$want' as its first line (after any shebang); add it"
        fail=1
    fi
done < <(find src include examples tests fuzz bench scripts -path fuzz/corpus -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' \) -print0)
[ $fail -eq 0 ] && echo "check_license: every source file has its SPDX line"
exit $fail
