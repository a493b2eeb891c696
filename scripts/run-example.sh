#!/usr/bin/env bash
# The main job, for now: build lowbit and run a real lowbit pipeline over the
# bundled example (examples/prelu_block.mlir), printing the optimized IR and
# what the pipeline changed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh --target lowbit-opt

in=examples/prelu_block.mlir
out=build/prelu_block.opt.mlir
pipeline=(--lowbit-fold-prelu-requant --canonicalize --cse)
echo "== lowbit-opt $in ${pipeline[*]}"
build/bin/lowbit-opt "$in" "${pipeline[@]}" -o "$out"
cat "$out"

count() { build/bin/lowbit-opt "$1" | grep -o "lowbit\.$2 " | wc -l; }
echo
echo "== what the pipeline changed"
printf '%-28s %8s %8s\n' op before after
for op in conv2d fully_connected requant prelu clamp max_pool global_avg_pool reshape; do
  printf '%-28s %8d %8d\n' "lowbit.$op" "$(count "$in" "$op")" "$(count "$out" "$op")"
done
dual() { build/bin/lowbit-opt "$1" | grep -c 'lowbit\.requant .*neg_multiplier' || true; }
printf '%-28s %8d %8d\n' "requant with neg_multiplier" "$(dual "$in")" "$(dual "$out")"
