#!/usr/bin/env bash
# Prepares .carry/ (git-ignored), the folder that travels to the GPU machine in the device tool's `carry` list,
# because that machine has no apt and no network (see docs/GPU.md).
#
#   bash tools/prepare_carry.sh              header-only libraries -> .carry/include (always)
#   bash tools/prepare_carry.sh --binaries   also build here with CUDA (build/gpu-carry, sm_90, without OpenBLAS,
#                                            libmatio, stb) and copy the executables -> .carry/bin (way B of
#                                            tools/gpu_check.sh); without it an old .carry/bin is deleted
#   bash tools/prepare_carry.sh --data       also copy Fashion-MNIST (/usr/share/datasets/fashion-mnist, 30 MB)
#                                            -> .carry/data/fashion-mnist (the training stage needs it; kept
#                                            until removed by hand)
#   --jobs N                                 build parallelism for --binaries (default: nproc)
#
# What goes where:
#   .carry/include/{nlohmann,doctest,CLI}    from /usr/include (required; CMake finds them via BTS_EXTRA_PREFIX)
#   .carry/include/{zlib.h,zconf.h}          from /usr/include when present (for the data readers' .gz files)
#   .carry/lib/libz.so                       a link to the system's libz.so.1 (only the link travels; zlib's
#                                            runtime is on every Linux), so find_library(z) works without zlib1g-dev
#   .carry/bin/                              executables + BUILD_INFO (commit, source dir, needed libraries)
#   .carry/runtime-lib/libgomp.so.1          GCC's OpenMP runtime, a fallback for way B if the GPU machine lacks it
#   .carry/SOURCE_INFO                       the commit and state of the tree .carry was made from
# Prints the size of everything that will travel: it must stay under the device tool's 64 MiB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CARRY=.carry
BUILD=build/gpu-carry

want_binaries=0
want_data=0
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --binaries) want_binaries=1 ;;
    --data) want_data=1 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
    *) echo "prepare_carry: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

git check-ignore -q "$CARRY/x" || { echo "prepare_carry: $CARRY/ is not git-ignored; add /.carry/ to .gitignore" >&2; exit 1; }

# ---------------------------------------------------------------- header-only libraries
echo "== headers -> $CARRY/include"
rm -rf "${CARRY:?}/include" "${CARRY:?}/lib"
mkdir -p "$CARRY/include" "$CARRY/lib"
for d in nlohmann doctest CLI; do
  if [ ! -d "/usr/include/$d" ]; then
    echo "prepare_carry: /usr/include/$d is missing; run: bash tools/setup.sh" >&2
    exit 1
  fi
  cp -rL "/usr/include/$d" "$CARRY/include/"
done
for f in nlohmann/json.hpp nlohmann/json_fwd.hpp doctest/doctest.h CLI/CLI.hpp; do
  [ -f "$CARRY/include/$f" ] || { echo "prepare_carry: $CARRY/include/$f missing after the copy" >&2; exit 1; }
done
# zlib for the .gz readers (data/): its headers, and a link named libz.so to the runtime that every Linux has.
# (libmatio and stb are compiled libraries there is no point carrying: the GPU build goes without them.)
for f in zlib.h zconf.h; do [ -f "/usr/include/$f" ] && cp -L "/usr/include/$f" "$CARRY/include/"; done
ln -sfn /lib/x86_64-linux-gnu/libz.so.1 "$CARRY/lib/libz.so"
du -sh "$CARRY/include"/* | sed 's/^/   /'

{
  echo "made: $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "uncommitted changes: $(git status --porcelain 2>/dev/null | wc -l) paths"
  echo "source dir: $ROOT"
} >"$CARRY/SOURCE_INFO"

# ---------------------------------------------------------------- binaries (way B)
if [ "$want_binaries" = 1 ]; then
  echo "== build -> $BUILD (Release, sm_90, CUDA on, OpenBLAS/matio/stb off, -j$jobs)"
  export PATH="/usr/local/cuda/bin:$PATH"
  command -v nvcc >/dev/null || { echo "prepare_carry: nvcc not found (expected /usr/local/cuda/bin/nvcc)" >&2; exit 1; }
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  mkdir -p "$BUILD"
  # OpenBLAS, oneDNN, libmatio and stb are switched off explicitly (their cache variables preset to OFF, so find_*
  # is skipped): the GPU machine has none of them, and a binary that needs libopenblas.so.0, libdnnl.so.2 or
  # libmatio.so.11 would not start there. zlib stays (libz.so.1 is everywhere).
  cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DBTS_CUDA=ON \
    -DBTS_BUILD_TESTS=ON -DBTS_REQUIRE_OPENBLAS=OFF -DBTS_OPENBLAS_LIB=OFF -DBTS_CBLAS_INCLUDE=OFF \
    -DBTS_REQUIRE_DNNL=OFF -DBTS_DNNL_LIB=OFF -DBTS_DNNL_INCLUDE=OFF \
    -DBTS_REQUIRE_DATA_LIBS=OFF -DBTS_MATIO_LIB=OFF -DBTS_MATIO_INCLUDE=OFF -DBTS_STB_LIB=OFF -DBTS_STB_INCLUDE=OFF \
    >"$BUILD/configure.log" 2>&1 || { tail -n 40 "$BUILD/configure.log"; echo "prepare_carry: configure failed" >&2; exit 1; }
  grep -E '^-- bts:' "$BUILD/configure.log" | sed 's/^/   /' || true
  grep -q 'bts: CUDA backend ON' "$BUILD/configure.log" || { echo "prepare_carry: CUDA backend is OFF; cannot make GPU binaries" >&2; exit 1; }
  cmake --build "$BUILD" -j "$jobs" || { echo "prepare_carry: build failed" >&2; exit 1; }

  rm -rf "${CARRY:?}/bin" "${CARRY:?}/runtime-lib"
  mkdir -p "$CARRY/bin" "$CARRY/runtime-lib"
  bins=()
  for f in "$BUILD"/apps/* "$BUILD/tests/bts_tests_gpu" "$BUILD/tests/bts_tests_cpu"; do
    if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
    cp "$f" "$CARRY/bin/"
    strip --strip-unneeded "$CARRY/bin/$(basename "$f")" 2>/dev/null || true
    bins+=("$(basename "$f")")
  done
  for need in bts bts_tests_gpu bts_tests_cpu; do
    [ -f "$CARRY/bin/$need" ] || { echo "prepare_carry: $BUILD did not produce $need" >&2; exit 1; }
  done
  gomp=$(readlink -f "$(g++ -print-file-name=libgomp.so.1)" 2>/dev/null || true)
  [ -f "$gomp" ] && cp "$gomp" "$CARRY/runtime-lib/libgomp.so.1"
  {
    # shellcheck disable=SC1091
    echo "built: $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname) ($(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown OS}"))"
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "uncommitted changes: $(git status --porcelain 2>/dev/null | wc -l) paths"
    echo "source dir: $ROOT"
    echo "nvcc: $(nvcc --version | tail -n 1)"
    echo "glibc: $(ldd --version | head -n 1)"
    grep -E '^-- bts:' "$BUILD/configure.log" | sed 's/^-- /configure: /'
    echo "binaries: ${bins[*]}"
    for b in "${bins[@]}"; do
      echo "needs $b: $(readelf -d "$CARRY/bin/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    done
  } >"$CARRY/bin/BUILD_INFO"
  echo "== binaries -> $CARRY/bin"
  sed 's/^/   /' "$CARRY/bin/BUILD_INFO"
  du -h "$CARRY"/bin/* "$CARRY"/runtime-lib/* | sed 's/^/   /'
else
  if [ -d "$CARRY/bin" ]; then
    echo "== removing $CARRY/bin (stale binaries would test old code; rerun with --binaries to make new ones)"
    rm -rf "${CARRY:?}/bin" "${CARRY:?}/runtime-lib"
  fi
fi

# ---------------------------------------------------------------- data (optional)
if [ "$want_data" = 1 ]; then
  src=/usr/share/datasets/fashion-mnist
  [ -d "$src" ] || { echo "prepare_carry: $src missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
  rm -rf "$CARRY/data/fashion-mnist"
  mkdir -p "$CARRY/data"
  cp -rL "$src" "$CARRY/data/fashion-mnist"
  echo "== data -> $CARRY/data/fashion-mnist ($(du -sh "$CARRY/data/fashion-mnist" | cut -f1))"
fi

# ---------------------------------------------------------------- size of what travels
echo "== size of what travels (the device tool's limit: 64 MiB for the tree plus the carried paths)"
golden_ok=1
for g in tests/golden/*.bin; do
  [ -e "$g" ] || continue
  if git ls-files --error-unmatch "$g" >/dev/null 2>&1; then
    echo "   tracked (travels without carry): $g $(du -h "$g" | cut -f1)"
  else
    echo "   WARNING: $g is not tracked by git: it travels only if not ignored; commit it" >&2
    golden_ok=0
  fi
done
tree_bytes=$(git ls-files -co --exclude-standard -z | xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s+=$1} END {print s+0}')
carry_bytes=$(du -sb "$CARRY" | cut -f1)
total=$((tree_bytes + carry_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "   working tree (tracked + untracked, not ignored): $(mib "$tree_bytes")"
echo "   $CARRY:                                           $(mib "$carry_bytes")"
du -sh "$CARRY"/* 2>/dev/null | sed 's/^/      /'
echo "   total:                                            $(mib "$total") of 64 MiB"
if [ "$total" -gt $((64 * 1048576)) ]; then
  echo "prepare_carry: over the 64 MiB limit: the device call would be refused" >&2
  exit 1
elif [ "$total" -gt $((48 * 1048576)) ]; then
  echo "   WARNING: over 48 MiB; little room left"
fi
[ "$golden_ok" = 1 ] || exit 1
echo "== done: carry [\".carry\"] and run: bash tools/gpu_check.sh   (docs/GPU.md)"
