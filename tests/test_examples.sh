#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The examples are programs users read first: each must run and print the right numbers.
set -u
B=${BUILD:-build}
fail=0
check() { if ! grep -qF -- "$2" <<<"$1"; then echo "expected '$2' in output of $3"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$("$B/examples/chain_rule" "$tmp/c.dot") || { echo "chain_rule failed"; fail=1; }
check "$out" "x                -2         -4" chain_rule
check "$out" "z                -4          3" chain_rule
check "$out" "f = q z         -12          1" chain_rule
grep -q 'digraph nabla' "$tmp/c.dot" || { echo "chain_rule: no DOT file"; fail=1; }
out=$("$B/examples/sigmoid_neuron" "$tmp/s.dot") || { echo "sigmoid_neuron failed"; fail=1; }
check "$out" "w0               2.0000   -0.1966" sigmoid_neuron
check "$out" "x1              -2.0000   -0.5898" sigmoid_neuron
check "$out" "f                0.7311    1.0000" sigmoid_neuron
grep -q 'font color="red">-0.5898' "$tmp/s.dot" || { echo "sigmoid_neuron: DOT lacks gradients"; fail=1; }
out=$("$B/examples/xor") || { echo "xor did not learn XOR"; fail=1; }
check "$out" "learned" xor
out=$("$B/examples/logistic_regression") || { echo "logistic_regression failed"; fail=1; }
check "$out" "f(w = (-3, 2, -3), x = (-1, -2)) = 0.7311" logistic_regression
check "$out" "w = (-2.99973, 1.99973, -3.00054), f = 0.7314" logistic_regression
out=$("$B/examples/char_classifier") || { echo "char_classifier failed (under 95% on unseen strings): $out"; fail=1; }
check "$out" "model: embedding 8 vocab 9; gru 32; dense 2" char_classifier
check "$out" "vocabulary 9 ids, strings of up to 12 characters" char_classifier
# the README's C example is examples/quickstart.c, verbatim but for the file's SPDX line
readme_code=$(awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' README.md)
if [ "$readme_code" != "$(sed '1{/^\/\* SPDX-License-Identifier: MIT \*\/$/d}' examples/quickstart.c)" ]; then echo "README's C example differs from examples/quickstart.c"; exit 1; fi
bdir=$(cd "$B" && pwd)
out=$(cd "$tmp" && "$bdir/examples/quickstart") || { echo "quickstart failed"; exit 1; }
check "$out" "accuracy" quickstart
[ -f "$tmp/blobs.safetensors" ] || { echo "quickstart saved no model"; exit 1; }
[ $fail -eq 0 ] && echo "test_examples: 6 examples and the README example checked"
exit $fail
