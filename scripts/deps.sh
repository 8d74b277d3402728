#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages nabla's build, demo and tests need, and only those that are
# missing (safe to run again). Each is there on purpose:
#   gcc make libc6-dev   the C11 toolchain (gcc's sanitizer runtimes come with it)
#   clang                the second compiler CI builds with (-Wall -Wextra -Werror)
#   libopenblas-dev      CBLAS matrix products (nabla falls back to its own kernels without it)
#   zlib1g-dev           reading .gz datasets (the IDX files of Fashion-MNIST are gzipped)
#   dataset-fashion-mnist  the Fashion-MNIST IDX files, for the demo and the reference tests
#   python3-numpy        the independent safetensors reader used by one test (json + numpy); it
#                        brings Debian's python3, which scripts/words.sh uses (NFC, Unicode categories)
#   libclang-rt-14-dev   libFuzzer for clang-14 (`make fuzz`, `make fuzz-smoke`: fuzz/)
#   openmpi-bin libopenmpi-dev  Open MPI: `mpirun -np N nabla train` trains data-parallel (src/dist/,
#                        docs/DISTRIBUTED.md) and `make test` runs the distributed tests with it
#   help2man             builds the man page nabla.1 from the CLI's --help (make install, make test)
#   locales              the de_DE.UTF-8 locale (generated below if missing): tests/data/test_locale
#                        checks that numbers are read and written the same under a ',' decimal point
#   wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish wpolish
#                        the word lists (/usr/share/dict) `make words` (scripts/words.sh) builds the
#                        "which language is this word?" data set from (issue 15, recipe 2)
#   python3-onnx python3-opencv  test only: independent ONNX tooling that checks the files
#                        `nabla export` writes (onnx.checker, and OpenCV's dnn runs them:
#                        tests/cli/test_export.sh, which skips those checks without them)
#   chromium             the report's browser test (tests/report/test_browser.sh opens the HTML
#                        report headless); large (about 120 MB to fetch, 410 MB installed)
# PyTorch (python3-torch) is never needed: it only produced the committed reference files.
set -euo pipefail
pkgs=(gcc make libc6-dev clang libopenblas-dev zlib1g-dev dataset-fashion-mnist python3-numpy
      libclang-rt-14-dev openmpi-bin libopenmpi-dev help2man locales
      wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish wpolish chromium
      python3-onnx python3-opencv)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# de_DE.UTF-8 shows in `locale -a` as de_DE.utf8
need_locale=0
locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8' || need_locale=1
if [ ${#missing[@]} -eq 0 ] && [ $need_locale -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages and the de_DE.UTF-8 locale present"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: run as root (packages: ${missing[*]:-none}; locale de_DE.UTF-8 missing: $need_locale)" >&2; exit 1; }
    sudo=sudo
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "deps: installed ${missing[*]}"
fi
if ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
    # enable the line in /etc/locale.gen (commented out by default), then generate what it lists
    if grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then :
    elif grep -q '^# *de_DE.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
        $sudo sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
    else
        echo 'de_DE.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
    fi
    $sudo locale-gen >/dev/null
    echo "deps: generated the de_DE.UTF-8 locale"
fi
