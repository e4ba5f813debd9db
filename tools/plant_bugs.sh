#!/usr/bin/env bash
# Proves the golden test is a test: plants one bug at a time in a copy of the tree (one per op, forward and
# backward, plus the optimizer and the loss reduction), rebuilds, runs the golden suite, and expects it to FAIL.
# Usage: tools/plant_bugs.sh [workdir]   (default /tmp/bts_plant). Exit 0 only if every planted bug was caught.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/bts_plant}"
rm -rf "$work" && mkdir -p "$work"
mkdir -p "$work/tree" && (cd "$src" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$work/tree" && tar xf -)
cmake -S "$work/tree" -B "$work/build" -G Ninja -DBTS_CUDA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" --target bts_tests_cpu >/dev/null

# file | perl substitution (applied once) | what the bug is
bugs=(
  "kernels/cpu/conv2d_ref.cpp|s/\* w\[\(\(k \* s\.C \+ c\) \* s\.R \+ r\) \* s\.S \+ t\];/* w[((k * s.C + c) * s.R + t) * s.S + r];/|conv forward (reference): kernel rows and columns transposed"
  "kernels/cpu/conv2d_gemm.cpp|s/out\[q\] = \(w >= 0 && w < s\.W\) \? in\[w\] : T\(0\);/out[q] = (w >= 0 && w <= s.W) ? in[w < s.W ? w : 0] : T(0);/|conv forward (gemm): right padding column reads pixel 0"
  "kernels/cpu/conv2d_gemm.cpp|s/if \(w >= 0 && w < s\.W\) out\[w\] \+= in\[q\];/if (w >= 0 && w < s.W) out[w] -= in[q];/|conv backward-data (gemm): col2im subtracts"
  "kernels/cpu/conv2d_ref.cpp|s/dx\[\(\(n \* s\.C \+ c\) \* s\.H \+ h\) \* s\.W \+ ww\] \+= g \*/dx[((n * s.C + c) * s.H + h) * s.W + ww] -= g */|conv backward-data (reference): wrong sign"
  "kernels/cpu/conv2d_gemm.cpp|s/T beta = \(n == 0 && !accumulate\) \? T\(0\) : T\(1\);/T beta = T(0);/|conv backward-filter (gemm): only the last image contributes"
  "kernels/cpu/conv2d_ref.cpp|s/out = accumulate \? out \+ acc : acc;/out = accumulate ? out + acc : acc * T(0.999);/|conv backward-filter (reference): 0.1% scale error"
  "kernels/cpu/batchnorm.cpp|s/const double var = sq \/ static_cast<double>\(M\);/const double var = sq \/ static_cast<double>(M - 1);/|BN forward: unbiased variance used to normalise"
  "kernels/cpu/batchnorm.cpp|s/momentum \* unbiased\);/momentum * var);/|BN running variance: biased instead of unbiased"
  "kernels/cpu/batchnorm.cpp|s/- sum_dy - xhat \* sum_dy_xhat/- sum_dy/|BN backward: missing the xhat * sum(dy * xhat) term"
  "kernels/cpu/batchnorm.cpp|s/dgamma\[c\] = static_cast<T>\(accumulate_params \? dgamma\[c\] \+ sum_dy_xhat : sum_dy_xhat\);/dgamma[c] = static_cast<T>(accumulate_params ? dgamma[c] + sum_dy : sum_dy);/|BN backward: dgamma gets dbeta's value"
  "kernels/cpu/elementwise.cpp|s/T g = y\[i\] > T\(0\) \? dy\[i\] : T\(0\);/T g = y[i] >= T(0) ? dy[i] : T(0);/|ReLU backward: gradient passes where the output is 0"
  "engine/ops.cpp|s/if \(GradTarget gb = t\.grad_target\(b\)\) be\.copy_grad/if (GradTarget gb = GradTarget{}) be.copy_grad/|residual add backward: the shortcut gets no gradient"
  "kernels/cpu/pool.cpp|s/const T g = dy\[nc\] \/ static_cast<T>\(HW\);/const T g = dy[nc];/|global average pool backward: missing 1\/HW"
  "kernels/cpu/pool.cpp|s/y\[nc\] = static_cast<T>\(acc \/ static_cast<double>\(HW\)\);/y[nc] = static_cast<T>(acc \/ static_cast<double>(HW + 1));/|global average pool forward: divides by HW+1"
  "kernels/cpu/batchnorm.cpp|s/const double scale = gamma\[c\] \* invstd, shift = beta\[c\] - running_mean\[c\] \* scale;/const double scale = gamma[c] * invstd, shift = beta[c] + running_mean[c] * scale;/|BN eval: running mean added instead of subtracted"
  "kernels/cpu/linear.cpp|s/db\[o\] = accumulate_params \? db\[o\] \+ gb : gb;\n  \}\n\}\n\n#define/db[o] = accumulate_params ? db[o] + gb : gb * T(2);\n  }\n}\n\n#define/|linear backward (gemm): bias gradient doubled"
  "kernels/cpu/linear.cpp|s/for \(int64_t o = 0; o < s\.O; \+\+o\) acc \+= dy\[n \* s\.O \+ o\] \* w\[o \* s\.I \+ i\];/for (int64_t o = 0; o < s.O; ++o) acc += dy[n * s.O + o] * w[i % s.O * s.I + o % s.I];/|linear backward-data (reference): transposed weight index"
  "kernels/cpu/cross_entropy.cpp|s/dz\[labels\[i \* s\.M \+ m\]\] -= /dz[labels[i * s.M + m]] += /|cross-entropy backward: wrong sign on the target term"
  "kernels/cpu/cross_entropy.cpp|s/loss \+= label_weights\[i \* s\.M \+ m\] \* \(lse - z\[y\]\);/loss += label_weights[i * s.M + m] * (lse - z[y] + 1e-9);/|cross-entropy forward: loss off by 1e-9"
  "engine/ops.cpp|s/tg\.sample_weights\.fill\(N > 0 \? 1\.0 \/ static_cast<double>\(N\) : 0\.0\);/tg.sample_weights.fill(N > 1 ? 1.0 \/ static_cast<double>(N - 1) : 0.0);/|mean reduction divides by N-1"
  "kernels/common/sgd_math.h|s/\n  g \+= wd \* w;/\n  g += wd * w * T(0.5);/|SGD: half the weight decay"
  "kernels/common/sgd_math.h|s/\n  buf = momentum \* buf \+ g;/\n  buf = momentum * buf + (1 - momentum) * g;/|SGD: dampened momentum (not PyTorch's rule)"
)

caught=0; missed=0
for entry in "${bugs[@]}"; do
  IFS='|' read -r file expr what <<<"$entry"
  cp "$work/tree/$file" "$work/orig"
  perl -0pi -e "$expr" "$work/tree/$file"
  if cmp -s "$work/tree/$file" "$work/orig"; then
    echo "PATTERN DID NOT APPLY: $what ($file)"; missed=$((missed+1)); continue
  fi
  if ! cmake --build "$work/build" --target bts_tests_cpu >"$work/build.log" 2>&1; then
    echo "BUILD FAILED for: $what"; tail -5 "$work/build.log"; missed=$((missed+1))
  elif "$work/build/tests/bts_tests_cpu" --test-suite=golden >"$work/run.log" 2>&1; then
    echo "MISSED  $what"; missed=$((missed+1))
  else
    worst=$(grep -c "<-- FAIL" "$work/run.log" || true)
    echo "caught  $what  ($worst tensor comparisons over their limit)"; caught=$((caught+1))
  fi
  cp "$work/orig" "$work/tree/$file"
done
echo "planted bugs: $caught caught, $missed missed"
[ "$missed" -eq 0 ]
