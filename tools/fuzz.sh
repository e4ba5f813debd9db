#!/usr/bin/env bash
# Fuzzes every reader of untrusted input with libFuzzer (clang's -fsanitize=fuzzer) under AddressSanitizer and
# UndefinedBehaviorSanitizer: one target per reader (tests/fuzz/fuzz_*.cpp: the data sets' binary formats, the
# tensor-file/checkpoint reader, config parsing, core-set files, the mini-ImageNet converter's CSVs and images),
# each run for a bounded time from a small valid seed corpus plus the committed crash-regression inputs
# (tests/fuzz/regressions/<target>/: inputs that once crashed or misbehaved; each is run first). A target "passes" when no input crashed it, tripped a sanitizer, hung, or escaped with
# anything other than bts::Error. Independent of the CMake build (which uses g++).
#
#   tools/fuzz.sh [seconds per target (default 60)] [targets... (default: all eight)]
#   FUZZ_DIR=build/fuzz  where objects, binaries, corpora, logs and crash inputs go
#   CLANGXX=clang++      the compiler (clang 14 with libclang-rt-14-dev here)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cifar idx packed svhn tensorfile config coreset convert)
out=${FUZZ_DIR:-$root/build/fuzz}
cxx=${CLANGXX:-$(command -v clang++ || command -v clang++-14 || true)}
[ -n "$cxx" ] || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)"; exit 2; }
mkdir -p "$out/obj" "$out/bin" "$out/corpus" "$out/logs" "$out/crashes"

# The readers and what they need from the engine (its CPU backend and kernels, tensor files) and the trainer's
# config, progress and strategies (config validation knows the strategy names; core-set files are a strategy's);
# no CUDA, no OpenMP (the pragma is ignored), no OpenBLAS (the built-in GEMM).
sources=(data/cifar.cpp data/dataset.cpp data/device_dataset.cpp data/fashion_mnist.cpp data/fetch.cpp data/file_io.cpp data/idx.cpp
         data/miniimagenet.cpp data/miniimagenet_convert.cpp data/packed_file.cpp data/svhn.cpp
         engine/arena.cpp engine/backend.cpp engine/buffer.cpp engine/rng.cpp engine/tensor.cpp
         engine/cpu/cpu_backend.cpp engine/cpu/cpu_ops.cpp engine/cpu/cpu_training_kernels.cpp
         engine/crc32.cpp engine/device.cpp engine/file_write.cpp engine/steady_state.cpp engine/tensor_file.cpp
         train/config.cpp train/run_progress.cpp
         $(cd "$root" && ls kernels/cpu/*.cpp train/strategies/*.cpp))
common=(-std=c++17 -O1 -g -fno-omit-frame-pointer -Wno-unknown-pragmas -I"$root" -DBTS_WITH_MATIO -DBTS_WITH_STB)
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
libs=(-lmatio -lstb -lz)

echo "fuzz.sh: compiling readers with $($cxx --version | head -1)"
# An object is rebuilt when its source is newer; a changed header (a struct's layout) rebuilds them all, else
# objects compiled against the old layout would be linked with new ones.
stamp="$out/obj/.headers"
if [ -f "$stamp" ] && [ -n "$(cd "$root" && find kernels engine data models train tests/fuzz -name '*.h' -newer "$stamp" | head -1)" ]; then
  rm -f "$out/obj/"*.o
fi
touch "$stamp"
objs=()
for s in "${sources[@]}"; do
  o="$out/obj/$(echo "$s" | tr / _).o"
  if [ ! -f "$o" ] || [ "$root/$s" -nt "$o" ]; then
    "$cxx" "${common[@]}" "${san[@]}" -fsanitize=fuzzer-no-link -c "$root/$s" -o "$o"
  fi
  objs+=("$o")
done

# Seeds: one valid file per format, written by the project's own writers (plain build, no sanitizers).
seeds="$out/bin/make_seeds"
stale=0
[ -f "$seeds" ] || stale=1
for s in tests/fuzz/make_seeds.cpp "${sources[@]}"; do [ "$root/$s" -nt "$seeds" ] && stale=1; done
if [ $stale -eq 1 ]; then
  "$cxx" "${common[@]}" "$root/tests/fuzz/make_seeds.cpp" "${sources[@]/#/$root/}" -o "$seeds" "${libs[@]}"
fi
"$seeds" "$out/corpus"
# The crash-regression inputs join each target's corpus, so every run replays them first.
for t in "${targets[@]}"; do
  [ -d "$root/tests/fuzz/regressions/$t" ] && cp "$root/tests/fuzz/regressions/$t/"* "$out/corpus/$t/"
done

status=0
summary=()
for t in "${targets[@]}"; do
  bin="$out/bin/fuzz_$t"
  "$cxx" "${common[@]}" "${san[@]}" -fsanitize=fuzzer "$root/tests/fuzz/fuzz_$t.cpp" "${objs[@]}" -o "$bin" "${libs[@]}"
  echo "fuzz.sh: running fuzz_$t for ${seconds}s"
  log="$out/logs/fuzz_$t.log"
  rm -f "$out/crashes/${t}_"*  # artifacts of earlier runs; this run reports its own
  set +e
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a reader must not balloon on small inputs.
  # libmatio sizes some allocations from header fields before it can tell they are wrong (a 257-byte .mat made it
  # calloc 4.7 GB, untouched, then fail cleanly; a 250-byte one asks for 26 GB while reading a cell array's header,
  # before our reader can see the shape): for svhn only, single allocations up to 8 GB are allowed, and a larger one
  # fails as it does outside the sanitizer (calloc returns NULL: allocator_may_return_null) so that what matio does
  # with the failure is what gets tested; resident memory is still capped at 2 GB.
  extra=()
  asan_extra=""
  [ "$t" = svhn ] && extra=(-malloc_limit_mb=8192) && asan_extra=":allocator_may_return_null=1"
  ASAN_OPTIONS="detect_leaks=1$asan_extra" "$bin" "$out/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    "${extra[@]}" -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/crashes/${t}_" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if [ $rc -eq 0 ]; then
    summary+=("fuzz_$t: OK, $execs executions in ${seconds}s, coverage $cov, corpus $(ls "$out/corpus/$t" | wc -l) files")
  else
    status=1
    what=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer): [a-z-]+' "$log" \
           || grep -o -m1 'runtime error: .*' "$log" || echo "exit $rc")
    where="our code"
    grep -q -E '^ *#[0-9]+ .*(libmatio|libhdf5|libz)\.so' "$log" && where="a stack through libmatio/libhdf5/zlib"
    summary+=("fuzz_$t: FAILED ($what; $where) after $execs executions; log $log;"
              "  inputs: $(ls "$out/crashes" | grep "^${t}_" | tr '\n' ' ')")
  fi
done
echo "==== fuzz summary ===="
printf '%s\n' "${summary[@]}"
exit $status
