#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages nabla's build, demo and tests need, and only those that are
# missing (safe to run again). Each is there on purpose:
#   gcc make libc6-dev   the C11 toolchain (gcc's sanitizer runtimes come with it)
#   clang                the second compiler CI builds with (-Wall -Wextra -Werror)
#   libopenblas-dev      CBLAS matrix products (nabla falls back to its own kernels without it)
#   zlib1g-dev           reading .gz datasets (the IDX files of Fashion-MNIST are gzipped)
#   dataset-fashion-mnist  the Fashion-MNIST IDX files, for the demo and the reference tests
#   python3-numpy        the independent safetensors reader used by one test (json + numpy)
#   libclang-rt-14-dev   libFuzzer for clang-14 (`make fuzz`, `make fuzz-smoke`: fuzz/)
# PyTorch (python3-torch) is never needed: it only produced the committed reference files.
set -euo pipefail
pkgs=(gcc make libc6-dev clang libopenblas-dev zlib1g-dev dataset-fashion-mnist python3-numpy
      libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: run as root: apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
