#!/usr/bin/env bash
# The layer rule (docs/ARCHITECTURE.md): apps -> experiments -> train -> {data, models} -> engine -> kernels.
# A file may include headers of its own layer and of the layers below it, never above (data and models are
# siblings: neither includes the other). Inside kernels/, common/ is shared by both sides and includes neither
# cpu/ nor cuda/, and cpu/ never includes cuda/. And which backends a build has is no business of the layers
# above the seam: BTS_WITH_CUDA appears in no C++ file outside engine/cuda/ and kernels/cuda/.
# Exit 0 when every file keeps the rule; otherwise one line per violation and exit 1. Run by CTest (layers).
# --self-test: plants one violation of each kind in a copy of the tree and fails unless each is caught.
set -euo pipefail
if [ "${1:-}" = "--self-test" ]; then
  src="$(cd "$(dirname "$0")/.." && pwd)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  plant() {  # plant FILE LINE: copy the tree, add LINE to FILE, expect a violation naming FILE
    rm -rf "$tmp/t" && mkdir -p "$tmp/t"
    (cd "$src" && cp -r kernels engine data models train experiments apps "$tmp/t/")
    echo "$2" >> "$tmp/t/$1"
    if out="$(bash "$src/tools/check_layers.sh" "$tmp/t")"; then
      echo "layers self-test: planting '$2' in $1 was not caught"; exit 1
    fi
    echo "$out" | grep -q "$1" || { echo "layers self-test: the report does not name $1: $out"; exit 1; }
  }
  bash "$src/tools/check_layers.sh" "$src" > /dev/null
  plant engine/tensor.cpp '#include "train/trainer.h"'
  plant data/dataset.cpp '#include "models/resnet18.h"'
  plant kernels/cpu/sgd.cpp '#include "engine/tensor.h"'
  plant kernels/cpu/sgd.cpp '#include "kernels/cuda/sgd.h"'
  plant models/resnet18.cpp '#include "experiments/grid.h"'
  plant train/trainer.cpp '#ifdef BTS_WITH_CUDA'
  echo "layers self-test: every planted violation was caught"
  exit 0
fi
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

allowed() {  # the top-level folders a file in folder $1 may include from
  case "$1" in
    kernels) echo "kernels" ;;
    engine) echo "engine kernels" ;;
    data) echo "data engine kernels" ;;
    models) echo "models engine kernels" ;;
    train) echo "train data models engine kernels" ;;
    experiments) echo "experiments train data models engine kernels" ;;
    apps) echo "apps experiments train data models engine kernels" ;;
  esac
}

violations=0
report() { echo "layers: $1"; violations=$((violations + 1)); }

checked=0
while IFS= read -r file; do
  layer="${file%%/*}"
  ok_layers=" $(allowed "$layer") "
  checked=$((checked + 1))
  while IFS= read -r line; do
    inc="${line#*\"}"
    inc="${inc%%\"*}"
    target="${inc%%/*}"
    [ "$target" = "$inc" ] && continue  # a header beside it, no folder
    case " kernels engine data models train experiments apps tests " in *" $target "*) ;; *) continue ;; esac
    if [[ "$ok_layers" != *" $target "* ]]; then
      report "$file includes \"$inc\": $layer may include only from {$(allowed "$layer")}"
    fi
    if [ "$layer" = kernels ]; then
      sub="${file#kernels/}"; sub="${sub%%/*}"
      tsub="${inc#kernels/}"; tsub="${tsub%%/*}"
      if { [ "$sub" = common ] && [ "$tsub" != common ]; } || { [ "$sub" = cpu ] && [ "$tsub" = cuda ]; }; then
        report "$file includes \"$inc\": kernels/$sub may not include kernels/$tsub"
      fi
    fi
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$file" || true)
done < <(find kernels engine data models train experiments apps -type f \
           \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \) | sort)

while IFS= read -r hit; do
  report "$hit: BTS_WITH_CUDA outside the CUDA backend (engine/cuda/, kernels/cuda/); ask the backend seam instead"
done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.cu' 'BTS_WITH_CUDA' \
           kernels engine data models train experiments apps | grep -v '^engine/cuda/\|^kernels/cuda/' || true)

if [ "$checked" -eq 0 ]; then
  echo "layers: no source files found under $root" >&2
  exit 2
fi
if [ "$violations" -gt 0 ]; then
  echo "layers: $violations violation(s) in $checked files"
  exit 1
fi
echo "layers: $checked files keep the rule"
