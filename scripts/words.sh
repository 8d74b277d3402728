#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make words: the "which language is this word?" data set of issue 15 (recipe 2), built from the
# Debian word lists into OUTDIR (default build/words; `make words` passes $(BUILD)/words, like every
# other generated file, so `make clean` removes it and `make words` rebuilds it in seconds):
#   train.csv  28,800 rows   test.csv  7,200 rows   columns word,lang
#   lang: en de fr es it pt nl sv pl, 4,000 words each (3,200 train, 800 test).
# The construction, step by step (scripts/words.py would be the same code; it is inline so the data
# set has one file to read):
#  1. each list is decoded (UTF-8; the Swedish list is ISO-8859-1, used when it is not valid UTF-8)
#     and every entry NFC-normalised;
#  2. a candidate is an entry of 3-20 code points that are all lowercase letters (Unicode category
#     Ll): proper nouns, abbreviations, words with an apostrophe, hyphen or digit are left out;
#  3. a candidate is kept only if it appears in no other list in any capitalisation (German "Bank"
#     removes English "bank"): a word two languages share has no single right answer;
#  4. the draw: a word's rank is the first 8 bytes of BLAKE2b("draw" NUL word) (a shuffle that needs
#     no generator state, the same on every Python version, and can take the first k of millions in
#     one pass); per language the 4,000 kept words of smallest rank, the first 3,200 to train, the
#     rest to test; each file is then ordered by BLAKE2b("train.csv" or "test.csv" NUL word).
# The output is the same bytes on every run (tests/data/test_words.sh checks it) on Debian 12:
# what can change it is a new version of a word list or of the Unicode tables.
#
# Why python3 for steps 1-4 and not bash + uconv: NFC normalisation needs either Python's
# unicodedata or ICU's uconv (icu-devtools, not a dependency), and the letter/lowercase test needs
# Unicode categories, which neither bash nor uconv gives per code point. python3 is already a
# dependency: scripts/deps.sh installs python3-numpy, which depends on Debian's python3 (3.11,
# Unicode 14.0). It is /usr/bin/python3 on purpose: a virtual environment's python could carry
# other Unicode tables. It takes about 30 s (the Polish list has 4.3 M lines) and 250 MB.
set -euo pipefail
out=${1:-build/words}
dict=${WORDS_DICT_DIR:-/usr/share/dict}   # tests/data/test_words.sh points it at empty lists
# language code, Debian package, file in /usr/share/dict
langs=(en de fr es it pt nl sv pl)
pkgs=(wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish wpolish)
files=(american-english ngerman french spanish italian portuguese dutch swedish polish)
missing=()
for i in "${!langs[@]}"; do
    [ -r "$dict/${files[$i]}" ] || missing+=("${pkgs[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "words: missing word lists in $dict: install ${missing[*]} (scripts/deps.sh installs them; or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
py=/usr/bin/python3
[ -x "$py" ] || { echo "words: $py not found: install python3 (scripts/deps.sh installs it with python3-numpy)" >&2; exit 1; }
mkdir -p "$out"
args=()
for i in "${!langs[@]}"; do args+=("${langs[$i]}=$dict/${files[$i]}"); done

"$py" - "$out" "${args[@]}" <<'EOF'
import hashlib, heapq, os, sys, unicodedata

PER_LANG, TRAIN_PER_LANG = 4000, 3200
# the draw looks at the POOL candidates of smallest rank per language; at least 74% of a list's
# candidates are in no other list (English, the lowest), so 16,000 leave a wide margin
POOL = 16000

def rank(tag, w):
    # a word's place in a random order: the first 8 bytes of BLAKE2b("tag" NUL word), then the
    # word itself on a tie. Sorting by it is a uniform shuffle that needs no generator state, is
    # the same on every Python version, and picks the k first of millions in one pass (heapq)
    h = hashlib.blake2b((tag + '\0' + w).encode('utf-8'), digest_size=8).digest()
    return (int.from_bytes(h, 'big'), w)

def entries(path):
    # one NFC-normalised entry per line, streamed (the Polish list has 4.3 M lines)
    enc = 'utf-8'
    try:
        with open(path, 'rb') as f:
            f.read().decode('utf-8')
    except UnicodeDecodeError:
        if not path.endswith('/swedish'):
            sys.exit(f"words: {path} is not valid UTF-8 (only the Swedish list is expected in ISO-8859-1)")
        enc = 'iso-8859-1'
    with open(path, encoding=enc, newline='') as f:
        for line in f:
            w = line.rstrip('\r\n')
            if w:
                yield unicodedata.normalize('NFC', w)

def candidate(w):
    if not 3 <= len(w) <= 20:
        return False
    if w.isascii():               # fast path, exact for ASCII: its letters are Lu or Ll
        return w.isalpha() and w.islower()
    return all(unicodedata.category(c) == 'Ll' for c in w)

out = sys.argv[1]
langs, paths = zip(*(a.split('=', 1) for a in sys.argv[2:]))
# pass 1: per language the POOL candidates of smallest rank, streamed (memory: the pool only);
# an entry a list repeats is drawn once (dict.fromkeys keeps the order)
pool, ncand = {}, {}
for lang, path in zip(langs, paths):
    ncand[lang] = 0
    def cands(path=path, lang=lang):
        for w in entries(path):
            if candidate(w):
                ncand[lang] += 1
                yield w
    pool[lang] = list(dict.fromkeys(heapq.nsmallest(POOL, cands(), key=lambda w: rank('draw', w))))
# pass 2: which lists have each pooled word, in any capitalisation
owners = {}
for lang in langs:
    for w in pool[lang]:
        owners.setdefault(w, set()).add(lang)
for lang, path in zip(langs, paths):
    for e in entries(path):
        l = e.lower()
        if l in owners:
            owners[l].add(lang)

train, test = [], []
for lang, path in zip(langs, paths):
    kept = [w for w in pool[lang] if owners[w] == {lang}][:PER_LANG]
    if len(kept) < PER_LANG:
        sys.exit(f"words: only {len(kept)} of the {len(pool[lang])} drawn {lang} words appear in no other list; "
                 f"{PER_LANG} are needed (is {path} the Debian 12 list?)")
    train += [(w, lang) for w in kept[:TRAIN_PER_LANG]]
    test += [(w, lang) for w in kept[TRAIN_PER_LANG:]]
    shared = sum(1 for w in pool[lang] if owners[w] != {lang})
    print(f"words: {lang}: {ncand[lang]} candidate entries; of the {len(pool[lang])} drawn first, {shared} are in another list")

for name, rows in (('train.csv', train), ('test.csv', test)):
    rows.sort(key=lambda r: rank(name, r[0]))   # shuffled: no runs of one language
    path = os.path.join(out, name)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8', newline='\n') as f:
        f.write('word,lang\n')
        f.writelines(f'{w},{lang}\n' for w, lang in rows)
    os.replace(tmp, path)   # a reader never sees half a file
    print(f"words: {path}: {len(rows)} rows")
EOF
