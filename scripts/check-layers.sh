#!/usr/bin/env bash
# Keeps the layer direction honest: a file may include headers of its own layer and below.
#   cli -> nn, optim, data, io -> autograd -> ops -> tensor
set -u
rank() { case $1 in tensor) echo 0;; ops) echo 1;; autograd) echo 2;; nn|optim|data|io) echo 3;; cli) echo 4;; *) echo 9;; esac; }
bad=0
for f in src/*/*.[ch]; do
    layer=$(basename "$(dirname "$f")"); r=$(rank "$layer")
    while read -r inc; do
        dep=${inc%%/*}; [ "$dep" = "$inc" ] && continue
        d=$(rank "$dep")
        if [ "$d" -gt "$r" ] || { [ "$d" -eq 3 ] && [ "$r" -eq 3 ] && [ "$dep" != "$layer" ] && ! grep -q "^$layer:$dep\$" scripts/layer-exceptions 2>/dev/null; }; then
            echo "layer violation: $f ($layer) includes $inc"; bad=1
        fi
    done < <(sed -n 's/^#include "\.\.\/\([^"]*\)".*/\1/p' "$f")
done
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
