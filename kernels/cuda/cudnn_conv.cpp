// cuDNN's legacy convolution API (deprecated but present in cuDNN 9; the graph API would add several hundred
// lines for the same three calls). Plans (descriptors + chosen algorithms) are cached per shape and math mode.
// The choice rule is kernels/common/conv_algo_choice.h; when the heuristics offer nothing it accepts, the
// implicit-GEMM algorithms are tried; when those fail too, the error lists what was offered.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>

#include "kernels/common/conv_algo_choice.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/conv2d.h"

namespace bts::kernels::cuda {

namespace {

constexpr size_t kMaxWorkspace = size_t(1) << 30;  // never pick an algorithm needing more than 1 GiB

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv_fwd = nullptr, conv_bwd_data = nullptr, conv_bwd_filter = nullptr;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t ws_fwd = 0, ws_bwd_data = 0, ws_bwd_filter = 0;
  cudnnMathType_t math_fwd{}, math_bwd_data{}, math_bwd_filter{};
  bool fallback_fwd = false, fallback_bwd_data = false, fallback_bwd_filter = false;
  ~Plan() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    for (auto d : {conv_fwd, conv_bwd_data, conv_bwd_filter})
      if (d) cudnnDestroyConvolutionDescriptor(d);
  }
};

using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool>;

cudnnConvolutionDescriptor_t make_conv_desc(const ConvShape& s, bool tf32) {
  cudnnConvolutionDescriptor_t d;
  BTS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
  BTS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, (int)s.pad, (int)s.pad, (int)s.stride, (int)s.stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(d, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  return d;
}

ConvMath to_conv_math(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_TENSOR_OP_MATH: return ConvMath::TensorOp;
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return ConvMath::TensorOpAllowConversion;
    case CUDNN_FMA_MATH: return ConvMath::Fma;
    default: return ConvMath::Default;
  }
}

// The math type the descriptor runs with. With TF32 off it stays FMA whatever the entry reported (an entry that
// reports default math would otherwise be free to use TF32 on this GPU); with TF32 on, the entry's own.
cudnnMathType_t descriptor_math(cudnnMathType_t reported, bool tf32) { return tf32 ? reported : CUDNN_FMA_MATH; }

// FFT and Winograd algorithms compute in a transformed domain whose rounding error in fp32 is well above a direct
// or GEMM convolution's (1e-5..1e-4 relative); with TF32 off the engine promises fp32 accuracy, so they are avoided.
bool transform_based(cudnnConvolutionFwdAlgo_t a) {
  return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}
bool transform_based(cudnnConvolutionBwdDataAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}
bool transform_based(cudnnConvolutionBwdFilterAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

// The three passes' cuDNN calls behind one shape, so that the choice (heuristics, rule, fallback, error) is
// written once. Fallbacks: the implicit-GEMM algorithms every cuDNN supports for plain fp32 NCHW convolutions.
struct ForwardPass {
  using Algo = cudnnConvolutionFwdAlgo_t;
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr const char* kName = "forward";
  static std::vector<Algo> fallbacks() {
    return {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM};
  }
  static void heuristics(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Perf* perf, int* n) {
    BTS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, d, p.y, kCount, n, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Algo a, size_t* b) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, p.x, p.w, d, p.y, a, b);
  }
};
struct BackwardDataPass {
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static constexpr const char* kName = "backward-data";
  static std::vector<Algo> fallbacks() { return {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0}; }
  static void heuristics(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Perf* perf, int* n) {
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, d, p.x, kCount, n, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Algo a, size_t* b) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w, p.y, d, p.x, a, b);
  }
};
struct BackwardFilterPass {
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static constexpr const char* kName = "backward-filter";
  static std::vector<Algo> fallbacks() {
    return {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0};
  }
  static void heuristics(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Perf* perf, int* n) {
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, d, p.w, kCount, n, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, Algo a, size_t* b) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x, p.y, d, p.w, a, b);
  }
};

template <typename Algo>
struct Choice {
  Algo algo{};
  cudnnMathType_t math{};
  size_t workspace = 0;
  bool fallback = false;
};

std::atomic<bool> g_heuristics_enabled{true};

// Chooses the algorithm of one pass and leaves the descriptor set to its math type. Never dead-ends while cuDNN
// supports a plain implicit-GEMM convolution; when even those fail, the error lists everything that was offered.
template <typename Pass>
Choice<typename Pass::Algo> choose_pass(cudnnHandle_t h, const Plan& plan, cudnnConvolutionDescriptor_t d, bool tf32,
                                        const std::string& where) {
  Choice<typename Pass::Algo> c;
  std::vector<ConvAlgoCandidate> candidates;
  typename Pass::Perf perf[Pass::kCount];
  int n = 0;
  if (g_heuristics_enabled.load()) Pass::heuristics(h, plan, d, perf, &n);
  for (int i = 0; i < n; ++i) {
    ConvAlgoCandidate k;
    k.algo = static_cast<int>(perf[i].algo);
    k.ok = perf[i].status == CUDNN_STATUS_SUCCESS;
    k.status = cudnnGetErrorString(perf[i].status);
    k.math = to_conv_math(perf[i].mathType);
    k.deterministic = perf[i].determinism == CUDNN_DETERMINISTIC;
    k.memory = perf[i].memory;
    k.transform_based = transform_based(perf[i].algo);
    candidates.push_back(k);
  }
  ConvAlgoPolicy policy;
  policy.tf32 = tf32;
  policy.max_workspace = kMaxWorkspace;
  const int pick = choose_conv_algo(candidates, policy);
  if (pick >= 0) {
    c.algo = perf[pick].algo;
    c.math = descriptor_math(perf[pick].mathType, tf32);
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(d, c.math));
    BTS_CUDNN_CHECK(Pass::workspace(h, plan, d, c.algo, &c.workspace));
    return c;
  }
  std::ostringstream tried;
  for (typename Pass::Algo a : Pass::fallbacks()) {
    const cudnnMathType_t math = tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(d, math));
    size_t bytes = 0;
    const cudnnStatus_t st = Pass::workspace(h, plan, d, a, &bytes);
    tried << "    algo " << static_cast<int>(a) << ": " << cudnnGetErrorString(st) << ", workspace " << bytes
          << " bytes\n";
    if (st == CUDNN_STATUS_SUCCESS && bytes <= kMaxWorkspace) {
      c.algo = a;
      c.math = math;
      c.workspace = bytes;
      c.fallback = true;
      return c;
    }
  }
  BTS_FAIL("cuDNN offers no usable " << Pass::kName << " algorithm for " << where << " (TF32 " << (tf32 ? "on" : "off")
                                     << ").\n  heuristics returned:\n"
                                     << describe_conv_candidates(candidates) << "  fallbacks tried:\n"
                                     << tried.str());
}

std::unique_ptr<Plan> build_plan(Context& ctx, const ConvShape& s) {
  auto plan = std::make_unique<Plan>();
  const bool tf32 = ctx.allow_tf32();
  BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&plan->x));
  BTS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)s.N, (int)s.C,
                                             (int)s.H, (int)s.W));
  BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&plan->y));
  BTS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)s.N, (int)s.K,
                                             (int)s.P(), (int)s.Q()));
  BTS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&plan->w));
  BTS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(plan->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, (int)s.K, (int)s.C,
                                             (int)s.R, (int)s.S));
  plan->conv_fwd = make_conv_desc(s, tf32);
  plan->conv_bwd_data = make_conv_desc(s, tf32);
  plan->conv_bwd_filter = make_conv_desc(s, tf32);
  cudnnHandle_t h = ctx.cudnn();
  const std::string where = "conv " + std::to_string(s.N) + "x" + std::to_string(s.C) + "x" + std::to_string(s.H) +
                            "x" + std::to_string(s.W) + " -> " + std::to_string(s.K) + " (" + std::to_string(s.R) +
                            "x" + std::to_string(s.S) + ", stride " + std::to_string(s.stride) + ")";
  const auto f = choose_pass<ForwardPass>(h, *plan, plan->conv_fwd, tf32, where);
  plan->fwd = f.algo;
  plan->math_fwd = f.math;
  plan->ws_fwd = f.workspace;
  plan->fallback_fwd = f.fallback;
  const auto d = choose_pass<BackwardDataPass>(h, *plan, plan->conv_bwd_data, tf32, where);
  plan->bwd_data = d.algo;
  plan->math_bwd_data = d.math;
  plan->ws_bwd_data = d.workspace;
  plan->fallback_bwd_data = d.fallback;
  const auto w = choose_pass<BackwardFilterPass>(h, *plan, plan->conv_bwd_filter, tf32, where);
  plan->bwd_filter = w.algo;
  plan->math_bwd_filter = w.math;
  plan->ws_bwd_filter = w.workspace;
  plan->fallback_bwd_filter = w.fallback;
  return plan;
}

Plan& plan_for(Context& ctx, const ConvShape& s) {
  static std::mutex mu;
  static std::map<Key, std::unique_ptr<Plan>> cache;
  std::lock_guard<std::mutex> lock(mu);
  Key k{s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride, s.pad, ctx.allow_tf32(), g_heuristics_enabled.load()};
  auto it = cache.find(k);
  if (it == cache.end()) it = cache.emplace(k, build_plan(ctx, s)).first;
  return *it->second;
}

void check_workspace(size_t need, size_t have, const char* pass) {
  BTS_CHECK(have >= need, "cuDNN " << pass << " needs " << need << " workspace bytes, got " << have);
}

}  // namespace

size_t conv2d_workspace_bytes(Context& ctx, const ConvShape& s, ConvPass pass) {
  Plan& p = plan_for(ctx, s);
  switch (pass) {
    case ConvPass::Forward: return p.ws_fwd;
    case ConvPass::BackwardData: return p.ws_bwd_data;
    case ConvPass::BackwardFilter: return p.ws_bwd_filter;
  }
  return 0;
}

void conv2d_forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y, void* ws,
                    size_t ws_bytes) {
  Plan& p = plan_for(ctx, s);
  check_workspace(p.ws_fwd, ws_bytes, "forward");
  const float one = 1.f, zero = 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionForward(ctx.cudnn(), &one, p.x, x, p.w, w, p.conv_fwd, p.fwd, ws, ws_bytes, &zero,
                                          p.y, y));
}

void conv2d_backward_data(Context& ctx, const ConvShape& s, const float* dy, const float* w, float* dx,
                          bool accumulate, void* ws, size_t ws_bytes) {
  Plan& p = plan_for(ctx, s);
  check_workspace(p.ws_bwd_data, ws_bytes, "backward-data");
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.cudnn(), &one, p.w, w, p.y, dy, p.conv_bwd_data, p.bwd_data, ws,
                                               ws_bytes, &beta, p.x, dx));
}

void conv2d_backward_filter(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw,
                            bool accumulate, void* ws, size_t ws_bytes) {
  Plan& p = plan_for(ctx, s);
  check_workspace(p.ws_bwd_filter, ws_bytes, "backward-filter");
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.cudnn(), &one, p.x, x, p.y, dy, p.conv_bwd_filter,
                                                 p.bwd_filter, ws, ws_bytes, &beta, p.w, dw));
}

std::string conv2d_algorithms(Context& ctx, const ConvShape& s) {
  Plan& p = plan_for(ctx, s);
  auto math = [](cudnnMathType_t m, bool fallback) {
    return std::string(m == CUDNN_FMA_MATH ? " (fma" : " (tf32 allowed") + (fallback ? ", fallback)" : ")");
  };
  std::ostringstream os;
  os << "fwd " << static_cast<int>(p.fwd) << math(p.math_fwd, p.fallback_fwd) << ", bwd-data "
     << static_cast<int>(p.bwd_data) << math(p.math_bwd_data, p.fallback_bwd_data) << ", bwd-filter "
     << static_cast<int>(p.bwd_filter) << math(p.math_bwd_filter, p.fallback_bwd_filter);
  return os.str();
}

bool conv2d_algorithms_are_fallbacks(Context& ctx, const ConvShape& s) {
  Plan& p = plan_for(ctx, s);
  return p.fallback_fwd && p.fallback_bwd_data && p.fallback_bwd_filter;
}

void set_conv_heuristics_enabled(bool on) { g_heuristics_enabled.store(on); }

}  // namespace bts::kernels::cuda
