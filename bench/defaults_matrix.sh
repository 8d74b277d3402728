#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/defaults_matrix.sh - how well `nabla train` does with its DEFAULTS (no optimizer, lr,
# epochs or batch flags): scikit-learn's small tables (iris, wine, breast cancer; diabetes for
# regression) on a fixed 70/30 train/test split, and Fashion-MNIST (MLP and the README's CNN,
# trained on the first FMNIST_LIMIT images, scored on t10k). Extra arguments are added to every
# train command through EXTRA, e.g. EXTRA='--optimizer sgd --lr 0.01 --epochs 10 --target-scale none'
# for the old defaults.
# Usage: [NABLA=build/nabla] [EXTRA="flags"] bench/defaults_matrix.sh; prints a Markdown table.
set -eu
NABLA=${NABLA:-build/nabla}
SK=${SK:-/usr/lib/python3/dist-packages/sklearn/datasets/data}
FM=${FM:-/usr/share/datasets/fashion-mnist}
FMNIST_LIMIT=${FMNIST_LIMIT:-10000}
EXTRA=${EXTRA:-}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
# the sklearn files start with a count line: drop it; a seeded shuffle splits 70/30
split() { # $1 name, stdin: headerless CSV rows
    awk 'BEGIN { srand(13) } { print rand() "\t" $0 }' | sort -k1,1 | cut -f2- >"$W/$1.all"
    n=$(wc -l <"$W/$1.all"); k=$((n * 7 / 10))
    head -n "$k" "$W/$1.all" >"$W/$1.train.csv"; tail -n +"$((k + 1))" "$W/$1.all" >"$W/$1.test.csv"
}
tail -n +2 "$SK/iris.csv" | split iris
tail -n +2 "$SK/wine_data.csv" | split wine
tail -n +2 "$SK/breast_cancer.csv" | split cancer
zcat "$SK/diabetes_data_raw.csv.gz" | tr ' ' ',' >"$W/dx"; zcat "$SK/diabetes_target.csv.gz" >"$W/dy"
paste -d, "$W/dx" "$W/dy" | split diabetes
echo "| data | model | test metric |"
echo "|---|---|---|"
row() { # $1 data, $2 model label, $3 metric key, rest: train args
    data=$1 label=$2 key=$3; shift 3
    # shellcheck disable=SC2086 # EXTRA is a list of flags
    if "$NABLA" train "$@" $EXTRA --out "$W/m.safetensors" --metrics-json "$W/m.json" -q >/dev/null 2>"$W/err"; then
        v=$(python3 -c "import json,sys; print('%.4f' % json.load(open(sys.argv[1]))['test'][sys.argv[2]])" "$W/m.json" "$key")
    else v="fails: $(head -c 100 "$W/err")"; fi
    rm -f "$W/m.json"
    echo "| $data | $label | $key $v |"
}
for d in iris wine cancer; do
    row "$d" "dense 16; relu; dense K" accuracy --train "$W/$d.train.csv" --test "$W/$d.test.csv" --model "dense 16; relu; dense $(cut -d, -f"$(head -1 "$W/$d.train.csv" | awk -F, '{print NF}')" "$W/$d.all" | sort -u | wc -l)"
done
row diabetes "dense 32; tanh; dense 1" r2 --train "$W/diabetes.train.csv" --test "$W/diabetes.test.csv" --task regress --model "dense 32; tanh; dense 1"
row diabetes "dense 1 (linear)" r2 --train "$W/diabetes.train.csv" --test "$W/diabetes.test.csv" --task regress --model "dense 1"
if [ -d "$FM" ]; then
    row fashion-mnist "dense 256; relu; dense 128; relu; dense 10" accuracy --train "$FM" --test "$FM" --limit "$FMNIST_LIMIT" --model "dense 256; relu; dense 128; relu; dense 10"
    row fashion-mnist "conv 16 3x3 pad 1; relu; maxpool 2; flatten; dense 10" accuracy --train "$FM" --test "$FM" --limit "$FMNIST_LIMIT" --model "conv 16 3x3 pad 1; relu; maxpool 2; flatten; dense 10"
fi
