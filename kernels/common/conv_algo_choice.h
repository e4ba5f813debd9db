// Which convolution algorithm to run, from the list cuDNN's heuristics return: the rule, kept free of cuDNN's types
// so that the CPU tests can prove it (tests/cpu/test_conv_algo_choice.cpp); kernels/cuda/cudnn_conv.cpp maps
// cuDNN's perf results to these candidates and back.
#pragma once
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace bts::kernels {

// The math a heuristic entry reports. Default permits TF32 on Ampere and later unless the descriptor says FMA.
enum class ConvMath { Default, TensorOp, TensorOpAllowConversion, Fma };

struct ConvAlgoCandidate {
  int algo = 0;
  bool ok = true;               // cuDNN's status for the entry was success
  std::string status;           // cuDNN's status name, for messages
  ConvMath math = ConvMath::Default;
  bool deterministic = false;
  size_t memory = 0;            // workspace bytes
  bool transform_based = false; // FFT or Winograd
};

struct ConvAlgoPolicy {
  bool tf32 = true;
  size_t max_workspace = size_t(1) << 30;
};

inline const char* conv_math_name(ConvMath m) {
  switch (m) {
    case ConvMath::Default: return "default";
    case ConvMath::TensorOp: return "tensor-op";
    case ConvMath::TensorOpAllowConversion: return "tensor-op+fp16-conversion";
    case ConvMath::Fma: return "fma";
  }
  return "?";
}

// Index of the entry to use, or -1. Rules: skip failed entries and those over the workspace cap; never an fp16
// down-conversion; with TF32 off never an entry that reports tensor-op math (fma and default are accepted: the
// descriptor keeps FMA math, so default cannot mean TF32), and FFT/Winograd only when nothing else is left (their
// fp32 error is 1e-5..1e-4); among the rest the first deterministic entry (a run repeats bitwise), else the first.
inline int choose_conv_algo(const std::vector<ConvAlgoCandidate>& list, const ConvAlgoPolicy& policy) {
  int first = -1, transform = -1;
  for (size_t i = 0; i < list.size(); ++i) {
    const ConvAlgoCandidate& c = list[i];
    if (!c.ok || c.memory > policy.max_workspace) continue;
    if (c.math == ConvMath::TensorOpAllowConversion) continue;
    if (!policy.tf32 && c.math == ConvMath::TensorOp) continue;
    if (!policy.tf32 && c.transform_based) {
      if (transform < 0) transform = static_cast<int>(i);
      continue;
    }
    if (c.deterministic) return static_cast<int>(i);
    if (first < 0) first = static_cast<int>(i);
  }
  return first >= 0 ? first : transform;
}

// One line per entry, for the error message when nothing can be used.
inline std::string describe_conv_candidates(const std::vector<ConvAlgoCandidate>& list) {
  std::ostringstream os;
  if (list.empty()) os << "    (the heuristics returned no entries)\n";
  for (const ConvAlgoCandidate& c : list)
    os << "    algo " << c.algo << ": status " << (c.status.empty() ? (c.ok ? "success" : "failed") : c.status)
       << ", math " << conv_math_name(c.math) << ", " << (c.deterministic ? "deterministic" : "non-deterministic")
       << ", workspace " << c.memory << " bytes" << (c.transform_based ? ", FFT/Winograd" : "") << "\n";
  return os.str();
}

}  // namespace bts::kernels
