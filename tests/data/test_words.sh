#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_words.sh: scripts/words.sh (make words), the "which language is this word?" data set.
# A missing list is a clear error naming its package (always checked, on an empty directory).
# Where the Debian lists are installed: two builds in parallel (about 30 s on 2 cores) give the
# same bytes, and the files are what docs/DATA.md says: 28,800 + 7,200 rows, 9 languages x
# (3,200 + 800), no word twice, every word 3-20 lowercase NFC letters, and each word in its own
# list and in no other list in any capitalisation (read again here, independently of words.sh).
NAME=test_words
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$NAME: $pass passed, $fail failed$1"; [ "$fail" -eq 0 ]; }

# 1. lists absent: exit 1 and one line naming every package to install, no output files
mkdir -p "$T/nodict"
WORDS_DICT_DIR=$T/nodict bash scripts/words.sh "$T/none" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
   grep -qF 'install wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish wpolish' "$T/err" &&
   grep -qF 'scripts/deps.sh' "$T/err" && [ ! -e "$T/none/train.csv" ]; then ok
else bad "no lists: expected exit 1 and one line naming the packages (got $rc: $(cat "$T/err"))"; fi
# only one missing: only that one named
mkdir -p "$T/onedict"
for f in american-english ngerman french spanish italian portuguese dutch swedish; do
    : >"$T/onedict/$f"
done
WORDS_DICT_DIR=$T/onedict bash scripts/words.sh "$T/none" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "install wpolish (" "$T/err"; then ok
else bad "no Polish list: expected 'install wpolish' (got $rc: $(cat "$T/err"))"; fi

dict=${WORDS_DICT_DIR:-/usr/share/dict}   # (another directory: to see the skip)
pkgs=(wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish wpolish)
files=(american-english ngerman french spanish italian portuguese dutch swedish polish)
absent=()
for i in "${!pkgs[@]}"; do [ -r "$dict/${files[$i]}" ] || absent+=("${pkgs[$i]}"); done
if [ ${#absent[@]} -gt 0 ]; then
    finish " (data set checks skipped: install ${absent[*]} (scripts/deps.sh))"
    exit
fi

# 2. two builds at once: the same bytes
WORDS_DICT_DIR=$dict bash scripts/words.sh "$T/a" >"$T/a.log" 2>&1 & pa=$!
WORDS_DICT_DIR=$dict bash scripts/words.sh "$T/b" >"$T/b.log" 2>&1 & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then ok
else bad "words.sh failed ($ra, $rb): $(tail -n 3 "$T/a.log" "$T/b.log")"; finish ""; exit; fi
if cmp -s "$T/a/train.csv" "$T/b/train.csv" && cmp -s "$T/a/test.csv" "$T/b/test.csv"; then ok
else bad "two runs of scripts/words.sh wrote different files"; fi

# 3. the contents, checked by an independent reader
if /usr/bin/python3 - "$T/a" "$dict" >"$T/check.log" 2>&1 <<'EOF'; then ok; else bad "contents: $(cat "$T/check.log")"; fi
import sys, unicodedata
out, d = sys.argv[1], sys.argv[2]
langs = dict(en='american-english', de='ngerman', fr='french', es='spanish', it='italian',
             pt='portuguese', nl='dutch', sv='swedish', pl='polish')
errors = []
def err(m):
    if len(errors) < 10: errors.append(m)
rows = {}
for name, n, per in (('train.csv', 28800, 3200), ('test.csv', 7200, 800)):
    raw = open(f'{out}/{name}', 'rb').read()
    lines = raw.decode('utf-8').split('\n')
    if lines[0] != 'word,lang': err(f'{name}: header {lines[0]!r}')
    if lines[-1] != '': err(f'{name}: no final newline')
    body = lines[1:-1]
    if len(body) != n: err(f'{name}: {len(body)} rows, expected {n}')
    count = {}
    for i, line in enumerate(body, 2):
        w, _, lang = line.partition(',')
        if lang not in langs: err(f'{name}:{i}: language {lang!r}')
        count[lang] = count.get(lang, 0) + 1
        if not 3 <= len(w) <= 20: err(f'{name}:{i}: {w!r} has {len(w)} characters')
        if unicodedata.normalize('NFC', w) != w: err(f'{name}:{i}: {w!r} is not NFC')
        if not all(unicodedata.category(c) == 'Ll' for c in w): err(f'{name}:{i}: {w!r} is not all lowercase letters')
        if w in rows: err(f'{name}:{i}: {w!r} appears twice ({rows[w][1]} and {name})')
        rows[w] = (lang, name)
    if count != {l: per for l in langs}: err(f'{name}: per language {count}, expected {per} each')
# every list, again: which lists have each word, in any capitalisation
seen = {w: set() for w in rows}
for lang, f in langs.items():
    raw = open(f'{d}/{f}', 'rb').read()
    try: text = raw.decode('utf-8')
    except UnicodeDecodeError: text = raw.decode('iso-8859-1')
    for e in text.splitlines():
        l = unicodedata.normalize('NFC', e).lower()
        if l in seen: seen[l].add(lang)
for w, (lang, name) in rows.items():
    if seen[w] != {lang}: err(f'{name}: {w!r} ({lang}) is in the lists {sorted(seen[w])}')
if errors: sys.exit('\n'.join(errors))
print(f'{len(rows)} words checked')
EOF
finish ""
