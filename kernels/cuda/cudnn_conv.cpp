// cuDNN's legacy convolution API (deprecated but present in cuDNN 9; the graph API would add several hundred
// lines for the same three calls). Plans (descriptors + chosen algorithms) are cached per shape and math mode.
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>

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
  ~Plan() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    for (auto d : {conv_fwd, conv_bwd_data, conv_bwd_filter})
      if (d) cudnnDestroyConvolutionDescriptor(d);
  }
};

using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

cudnnConvolutionDescriptor_t make_conv_desc(const ConvShape& s, bool tf32) {
  cudnnConvolutionDescriptor_t d;
  BTS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
  BTS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, (int)s.pad, (int)s.pad, (int)s.stride, (int)s.stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(d, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  return d;
}

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

// From a heuristic list: the first deterministic algorithm that fits, else the first that fits. With TF32 off,
// transform-based algorithms only when nothing else fits.
template <typename Perf>
const Perf* choose(const Perf* perf, int count, bool tf32) {
  const Perf* fallback = nullptr;
  const Perf* transform = nullptr;
  for (int i = 0; i < count; ++i) {
    const Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspace) continue;
    // Never fp16 down-conversion; with TF32 off only FMA math (CUDNN_DEFAULT_MATH permits TF32 on cc >= 8.0).
    if (p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (!tf32 && p.mathType != CUDNN_FMA_MATH) continue;
    if (!tf32 && transform_based(p.algo)) {
      if (!transform) transform = &p;
      continue;
    }
    if (p.determinism == CUDNN_DETERMINISTIC) return &p;
    if (!fallback) fallback = &p;
  }
  return fallback ? fallback : transform;
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
  {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    BTS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, plan->x, plan->w, plan->conv_fwd, plan->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    const auto* p = choose(perf, n, tf32);
    BTS_CHECK(p != nullptr, "cuDNN offers no forward algorithm for " << where);
    plan->fwd = p->algo;
    plan->math_fwd = p->mathType;
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(plan->conv_fwd, p->mathType));
    BTS_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, plan->x, plan->w, plan->conv_fwd, plan->y,
                                                            plan->fwd, &plan->ws_fwd));
  }
  {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, plan->w, plan->y, plan->conv_bwd_data, plan->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    const auto* p = choose(perf, n, tf32);
    BTS_CHECK(p != nullptr, "cuDNN offers no backward-data algorithm for " << where);
    plan->bwd_data = p->algo;
    plan->math_bwd_data = p->mathType;
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(plan->conv_bwd_data, p->mathType));
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, plan->w, plan->y, plan->conv_bwd_data, plan->x,
                                                                 plan->bwd_data, &plan->ws_bwd_data));
  }
  {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        h, plan->x, plan->y, plan->conv_bwd_filter, plan->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    const auto* p = choose(perf, n, tf32);
    BTS_CHECK(p != nullptr, "cuDNN offers no backward-filter algorithm for " << where);
    plan->bwd_filter = p->algo;
    plan->math_bwd_filter = p->mathType;
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(plan->conv_bwd_filter, p->mathType));
    BTS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, plan->x, plan->y, plan->conv_bwd_filter,
                                                                   plan->w, plan->bwd_filter, &plan->ws_bwd_filter));
  }
  return plan;
}

Plan& plan_for(Context& ctx, const ConvShape& s) {
  static std::mutex mu;
  static std::map<Key, std::unique_ptr<Plan>> cache;
  std::lock_guard<std::mutex> lock(mu);
  Key k{s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride, s.pad, ctx.allow_tf32()};
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
  auto math = [](cudnnMathType_t m) { return m == CUDNN_FMA_MATH ? " (fma)" : " (tf32 allowed)"; };
  std::ostringstream os;
  os << "fwd " << static_cast<int>(p.fwd) << math(p.math_fwd) << ", bwd-data " << static_cast<int>(p.bwd_data)
     << math(p.math_bwd_data) << ", bwd-filter " << static_cast<int>(p.bwd_filter) << math(p.math_bwd_filter);
  return os.str();
}

}  // namespace bts::kernels::cuda
