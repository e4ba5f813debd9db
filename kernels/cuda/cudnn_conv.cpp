// cuDNN's legacy convolution API (deprecated but present in cuDNN 9; the graph API would add several hundred
// lines for the same three calls). Plans (descriptors + chosen algorithms) are cached per shape, math mode and data
// kind (f32 or bf16, NCHW or NHWC: kernels/common/conv_algo_record.h's ConvData). bf16 convolutions compute in fp32
// (cuDNN's only bf16 configuration) with tensor-core math whatever the TF32 setting: bf16 data promises no fp32
// accuracy to keep.
// The candidates come from cuDNN's heuristics, or, when the search is set to Measure, from cudnnFind*Ex timing each
// algorithm once per shape on scratch buffers (fastest first); a shape whose algorithms were imported (a run's
// conv_algorithms.txt) uses those. The choice rule over the candidates is kernels/common/conv_algo_choice.h; when
// it accepts none, the implicit-GEMM algorithms are tried; when those fail too, the error lists what was offered.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>
#include <vector>

#include "kernels/common/conv_algo_choice.h"
#include "kernels/common/conv_algo_record.h"
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
  // Why cuDNN has no backward-data algorithm for this shape (empty: it has one). A network's first convolution
  // never needs one (its input has no gradient; e.g. the 3-channel NHWC stem), so only a call that does fails.
  std::string bwd_data_missing;
  ~Plan() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    for (auto d : {conv_fwd, conv_bwd_data, conv_bwd_filter})
      if (d) cudnnDestroyConvolutionDescriptor(d);
  }
};

// N C H W K R S stride pad, TF32, heuristics enabled, search (ConvAlgoSearch), bf16, channels last.
using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool,
                       int, bool, bool>;

// Tensor-core math allowed: TF32 for f32 data when the run asks for it; always for bf16 data.
bool tensor_ops(bool tf32, ConvData data) { return tf32 || data.bf16; }

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

struct FindBuffers;

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
  static void find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                   Perf* perf, int* n);
  static constexpr int kIndex = 0;
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
  static void find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                   Perf* perf, int* n);
  static constexpr int kIndex = 1;
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
  static void find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                   Perf* perf, int* n);
  static constexpr int kIndex = 2;
};

// Device buffers for measuring one shape's algorithms (cudnnFind*Ex runs each candidate on real memory): the
// input, weights and output of the shape (sized for 4-byte elements, enough for bf16 too), and the largest
// workspace any candidate may use. Zeroed, so no NaN or
// denormal slows a candidate down. Made for one plan, freed after it (plans are built while warming up).
struct CudaFree {
  void operator()(void* p) const noexcept { cudaFree(p); }
};
using DeviceBlock = std::unique_ptr<void, CudaFree>;

struct FindBuffers {
  DeviceBlock x_block, w_block, y_block, ws_block;  // freed even when a later allocation throws
  float* x = nullptr;
  float* w = nullptr;
  float* y = nullptr;
  void* ws = nullptr;
  size_t ws_bytes = 0;
  FindBuffers(const ConvShape& s, cudaStream_t st) {
    auto make = [&](size_t bytes) {
      void* p = nullptr;
      BTS_CUDA_CHECK(cudaMalloc(&p, bytes));
      DeviceBlock block(p);
      BTS_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, st));
      return block;
    };
    x_block = make(sizeof(float) * static_cast<size_t>(s.N * s.C * s.H * s.W));
    w_block = make(sizeof(float) * static_cast<size_t>(s.K * s.C * s.R * s.S));
    y_block = make(sizeof(float) * static_cast<size_t>(s.N * s.K * s.P() * s.Q()));
    x = static_cast<float*>(x_block.get());
    w = static_cast<float*>(w_block.get());
    y = static_cast<float*>(y_block.get());
    // As much workspace as candidates may use, within what is free now; free memory is a snapshot (another
    // allocation may take some), so a failed allocation halves the ask, down to none (candidates needing a
    // workspace are then reported as failed and not chosen).
    size_t free_bytes = 0, total = 0;
    BTS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    for (ws_bytes = std::min(kMaxWorkspace, free_bytes / 2); ws_bytes >= (size_t(1) << 20); ws_bytes /= 2) {
      void* p = nullptr;
      if (cudaMalloc(&p, ws_bytes) == cudaSuccess) {
        ws_block.reset(p);
        break;
      }
      cudaGetLastError();  // clear the failed allocation's error before trying a smaller one
    }
    if (!ws_block) ws_bytes = 0;
    ws = ws_block.get();
    BTS_CUDA_CHECK(cudaStreamSynchronize(st));
  }
};

void ForwardPass::find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                       Perf* perf, int* n) {
  BTS_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, p.x, b.x, p.w, b.w, d, p.y, b.y, kCount, n, perf, b.ws,
                                                         b.ws_bytes));
}
void BackwardDataPass::find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                            Perf* perf, int* n) {
  BTS_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, p.w, b.w, p.y, b.y, d, p.x, b.x, kCount, n, perf,
                                                              b.ws, b.ws_bytes));
}
void BackwardFilterPass::find(cudnnHandle_t h, const Plan& p, cudnnConvolutionDescriptor_t d, const FindBuffers& b,
                              Perf* perf, int* n) {
  BTS_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p.x, b.x, p.y, b.y, d, p.w, b.w, kCount, n, perf,
                                                                b.ws, b.ws_bytes));
}

template <typename Algo>
struct Choice {
  Algo algo{};
  cudnnMathType_t math{};
  size_t workspace = 0;
  bool fallback = false;
};

std::atomic<bool> g_heuristics_enabled{true};
std::atomic<int> g_search{static_cast<int>(ConvAlgoSearch::Heuristic)};
std::mutex g_records_mu;
std::vector<ConvAlgoRecord> g_imported;  // choices to use instead of searching (a run's conv_algorithms.txt)
struct ChosenPlan {
  ConvAlgoRecord record;
  bool measured = false;  // chosen by timing (cudnnFind), not by heuristics, fallbacks or a record
};
std::vector<ChosenPlan> g_chosen;  // every plan built, in order (what a run writes back)

// A recorded choice, when cuDNN still accepts it for this shape (its workspace query succeeds within the cap);
// else the descriptor goes back to the run's math and the caller searches as usual. The recorded math passes
// through the same filter as a heuristic entry's: with TF32 off it is FMA whatever the record says, and an fp16
// down-conversion is never accepted.
template <typename Pass>
bool use_recorded(cudnnHandle_t h, const Plan& plan, cudnnConvolutionDescriptor_t d, const ConvAlgoRecord& r,
                  bool tf32, Choice<typename Pass::Algo>* c) {
  const auto algo = static_cast<typename Pass::Algo>(r.algo[Pass::kIndex]);
  const auto recorded_math = static_cast<cudnnMathType_t>(r.math[Pass::kIndex]);
  const cudnnMathType_t math = descriptor_math(recorded_math, tf32);
  size_t bytes = 0;
  const bool ok = recorded_math != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION &&
                  cudnnSetConvolutionMathType(d, math) == CUDNN_STATUS_SUCCESS &&
                  Pass::workspace(h, plan, d, algo, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= kMaxWorkspace;
  if (!ok) {
    BTS_CUDNN_CHECK(cudnnSetConvolutionMathType(d, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    return false;
  }
  c->algo = algo;
  c->math = math;
  c->workspace = bytes;
  return true;
}

// Chooses the algorithm of one pass and leaves the descriptor set to its math type. Never dead-ends while cuDNN
// supports a plain implicit-GEMM convolution; when even those fail, the error lists everything that was offered.

template <typename Pass>
Choice<typename Pass::Algo> choose_pass(cudnnHandle_t h, const Plan& plan, cudnnConvolutionDescriptor_t d, bool tf32,
                                        const std::string& where, const FindBuffers* measure,
                                        const ConvAlgoRecord* recorded) {
  Choice<typename Pass::Algo> c;
  if (recorded && use_recorded<Pass>(h, plan, d, *recorded, tf32, &c)) return c;
  std::vector<ConvAlgoCandidate> candidates;
  typename Pass::Perf perf[Pass::kCount];
  int n = 0;
  // Measured: cuDNN times every algorithm the descriptor's math allows and lists them fastest first, so the rule's
  // "first acceptable" is the fastest acceptable (the first deterministic one, unless none is).
  if (measure)
    Pass::find(h, plan, d, *measure, perf, &n);
  else if (g_heuristics_enabled.load())
    Pass::heuristics(h, plan, d, perf, &n);
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

std::unique_ptr<Plan> build_plan(Context& ctx, const ConvShape& s, ConvData data) {
  auto plan = std::make_unique<Plan>();
  const bool run_tf32 = ctx.allow_tf32();  // the run's setting: the plan's key and record
  const bool tf32 = tensor_ops(run_tf32, data);  // what the choice may use
  const cudnnTensorFormat_t format = data.channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  const cudnnDataType_t type = data.bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&plan->x));
  BTS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(plan->x, format, type, (int)s.N, (int)s.C, (int)s.H, (int)s.W));
  BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&plan->y));
  BTS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(plan->y, format, type, (int)s.N, (int)s.K, (int)s.P(), (int)s.Q()));
  BTS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&plan->w));
  BTS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(plan->w, type, format, (int)s.K, (int)s.C, (int)s.R, (int)s.S));
  plan->conv_fwd = make_conv_desc(s, tf32);
  plan->conv_bwd_data = make_conv_desc(s, tf32);
  plan->conv_bwd_filter = make_conv_desc(s, tf32);
  cudnnHandle_t h = ctx.cudnn();
  bool measure = g_search.load() == static_cast<int>(ConvAlgoSearch::Measure) && g_heuristics_enabled.load();
  ConvAlgoRecord recorded;
  bool have_record = false;
  {
    std::lock_guard<std::mutex> lock(g_records_mu);
    for (const ConvAlgoRecord& r : g_imported)
      if (same_key(r, s, run_tf32, data)) {
        recorded = r;
        have_record = true;
      }
    // Measuring again for every batch size would stall selective backprop's variable scoring batches (a find
    // synchronises and allocates): a shape already measured at another batch size reuses those algorithms.
    if (!have_record && measure)
      for (const ChosenPlan& c : g_chosen) {
        const ConvAlgoRecord& r = c.record;
        ConvShape other = s;
        other.N = r.shape.N;
        if (c.measured && r.shape.N != s.N && same_key(r, other, run_tf32, data) &&
            (!have_record || r.shape.N > recorded.shape.N)) {
          recorded = r;
          have_record = true;
        }
      }
  }
  if (have_record) measure = false;  // a recorded choice that cuDNN rejects falls back to the heuristics
  std::unique_ptr<FindBuffers> buffers = measure ? std::make_unique<FindBuffers>(s, ctx.stream()) : nullptr;
  const ConvAlgoRecord* rec = have_record && g_heuristics_enabled.load() ? &recorded : nullptr;
  const std::string where = conv_data_name(data) + " conv " + std::to_string(s.N) + "x" + std::to_string(s.C) + "x" + std::to_string(s.H) +
                            "x" + std::to_string(s.W) + " -> " + std::to_string(s.K) + " (" + std::to_string(s.R) +
                            "x" + std::to_string(s.S) + ", stride " + std::to_string(s.stride) + ")";
  const auto f = choose_pass<ForwardPass>(h, *plan, plan->conv_fwd, tf32, where, buffers.get(), rec);
  plan->fwd = f.algo;
  plan->math_fwd = f.math;
  plan->ws_fwd = f.workspace;
  plan->fallback_fwd = f.fallback;
  Choice<cudnnConvolutionBwdDataAlgo_t> d;
  try {
    d = choose_pass<BackwardDataPass>(h, *plan, plan->conv_bwd_data, tf32, where, buffers.get(), rec);
  } catch (const Error& e) {
    plan->bwd_data_missing = e.what();  // reported if a backward-data call ever comes
    d.fallback = true;                  // not a measured choice: never reused for another batch size
  }
  plan->bwd_data = d.algo;
  plan->math_bwd_data = d.math;
  plan->ws_bwd_data = d.workspace;
  plan->fallback_bwd_data = d.fallback;
  const auto w = choose_pass<BackwardFilterPass>(h, *plan, plan->conv_bwd_filter, tf32, where, buffers.get(), rec);
  plan->bwd_filter = w.algo;
  plan->math_bwd_filter = w.math;
  plan->ws_bwd_filter = w.workspace;
  plan->fallback_bwd_filter = w.fallback;
  ConvAlgoRecord chosen;
  chosen.shape = s;
  chosen.tf32 = run_tf32;
  chosen.data = data;
  chosen.algo[0] = static_cast<int>(f.algo);
  chosen.algo[1] = static_cast<int>(d.algo);
  chosen.algo[2] = static_cast<int>(w.algo);
  chosen.math[0] = static_cast<int>(f.math);
  chosen.math[1] = static_cast<int>(d.math);
  chosen.math[2] = static_cast<int>(w.math);
  {
    std::lock_guard<std::mutex> lock(g_records_mu);
    g_chosen.push_back({chosen, buffers != nullptr && !f.fallback && !d.fallback && !w.fallback});
  }
  return plan;
}

// The plans made so far (lock order: g_plans_mu, then g_records_mu inside build_plan).
std::mutex g_plans_mu;
std::map<Key, std::unique_ptr<Plan>> g_plans;

Key key_of(Context& ctx, const ConvShape& s, ConvData data) {
  return Key{s.N,       s.C,   s.H, s.W, s.K, s.R, s.S, s.stride, s.pad, ctx.allow_tf32(), g_heuristics_enabled.load(),
             g_search.load(), data.bf16, data.channels_last};
}

Plan& plan_for(Context& ctx, const ConvShape& s, ConvData data) {
  std::lock_guard<std::mutex> lock(g_plans_mu);
  const Key k = key_of(ctx, s, data);
  auto it = g_plans.find(k);
  if (it == g_plans.end()) {
    // Making a plan queries cuDNN and, when measured, allocates and waits: none of it can be recorded in a CUDA
    // graph. Say so here rather than let a capture fail later on an allocation it cannot name.
    BTS_CHECK(!::bts::detail::stream_capture_active(),
              "a new cuDNN convolution plan (N=" << s.N << " C=" << s.C << " " << s.H << "x" << s.W << " K=" << s.K
                                                 << ") was asked for while a CUDA graph was being recorded: run the "
                                                    "shape eagerly first");
    it = g_plans.emplace(k, build_plan(ctx, s, data)).first;
  }
  return *it->second;
}

void check_workspace(size_t need, size_t have, const char* pass) {
  BTS_CHECK(have >= need, "cuDNN " << pass << " needs " << need << " workspace bytes, got " << have);
}

}  // namespace

size_t conv2d_workspace_bytes(Context& ctx, const ConvShape& s, ConvPass pass, ConvData data) {
  Plan& p = plan_for(ctx, s, data);
  switch (pass) {
    case ConvPass::Forward: return p.ws_fwd;
    case ConvPass::BackwardData: return p.ws_bwd_data;
    case ConvPass::BackwardFilter: return p.ws_bwd_filter;
  }
  return 0;
}

// alpha and beta are floats for both data types (cuDNN takes float scaling factors unless the data is double).
void conv2d_forward(Context& ctx, const ConvShape& s, ConvData data, const void* x, const void* w, void* y, void* ws,
                    size_t ws_bytes) {
  Plan& p = plan_for(ctx, s, data);
  check_workspace(p.ws_fwd, ws_bytes, "forward");
  const float one = 1.f, zero = 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionForward(ctx.cudnn(), &one, p.x, x, p.w, w, p.conv_fwd, p.fwd, ws, ws_bytes, &zero,
                                          p.y, y));
}

void conv2d_backward_data(Context& ctx, const ConvShape& s, ConvData data, const void* dy, const void* w, void* dx,
                          bool accumulate, void* ws, size_t ws_bytes) {
  Plan& p = plan_for(ctx, s, data);
  BTS_CHECK(p.bwd_data_missing.empty(), p.bwd_data_missing);
  check_workspace(p.ws_bwd_data, ws_bytes, "backward-data");
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.cudnn(), &one, p.w, w, p.y, dy, p.conv_bwd_data, p.bwd_data, ws,
                                               ws_bytes, &beta, p.x, dx));
}

void conv2d_backward_filter(Context& ctx, const ConvShape& s, ConvData data, const void* x, const void* dy,
                            void* dw, bool accumulate, void* ws, size_t ws_bytes) {
  Plan& p = plan_for(ctx, s, data);
  check_workspace(p.ws_bwd_filter, ws_bytes, "backward-filter");
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  BTS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.cudnn(), &one, p.x, x, p.y, dy, p.conv_bwd_filter,
                                                 p.bwd_filter, ws, ws_bytes, &beta, p.w, dw));
}

std::string conv2d_algorithms(Context& ctx, const ConvShape& s, ConvData data) {
  Plan& p = plan_for(ctx, s, data);
  auto math = [](cudnnMathType_t m, bool fallback) {
    return std::string(m == CUDNN_FMA_MATH ? " (fma" : " (tensor-op") + (fallback ? ", fallback)" : ")");
  };
  std::ostringstream os;
  os << "fwd " << static_cast<int>(p.fwd) << math(p.math_fwd, p.fallback_fwd) << ", bwd-data "
     << static_cast<int>(p.bwd_data) << math(p.math_bwd_data, p.fallback_bwd_data) << ", bwd-filter "
     << static_cast<int>(p.bwd_filter) << math(p.math_bwd_filter, p.fallback_bwd_filter);
  return os.str();
}

bool conv2d_algorithms_are_fallbacks(Context& ctx, const ConvShape& s, ConvData data) {
  Plan& p = plan_for(ctx, s, data);
  return p.fallback_fwd && p.fallback_bwd_data && p.fallback_bwd_filter;
}

void set_conv_heuristics_enabled(bool on) { g_heuristics_enabled.store(on); }

bool conv2d_has_plan(Context& ctx, const ConvShape& s, ConvData data) {
  std::lock_guard<std::mutex> lock(g_plans_mu);
  return g_plans.count(key_of(ctx, s, data)) != 0;
}

void set_conv_algo_search(ConvAlgoSearch search) { g_search.store(static_cast<int>(search)); }

std::string conv2d_export_algorithms() {
  std::lock_guard<std::mutex> lock(g_records_mu);
  // One line per shape and math mode (the last plan built for it), imported ones included: the file describes
  // every convolution the run ran.
  std::vector<ConvAlgoRecord> out = g_imported;
  for (const ChosenPlan& c : g_chosen) {
    const ConvAlgoRecord& r = c.record;
    bool replaced = false;
    for (ConvAlgoRecord& o : out)
      if (same_key(o, r.shape, r.tf32, r.data)) {
        o = r;
        replaced = true;
      }
    if (!replaced) out.push_back(r);
  }
  return format_conv_algo_records(out);
}

void conv2d_import_algorithms(const std::string& text, const std::string& where) {
  std::vector<ConvAlgoRecord> records = parse_conv_algo_records(text, where);
  // A run starts here: plans made before (an earlier run in this process) are dropped so the next ones follow the
  // imported choices, and the export lists this run's convolutions only. Called between runs, never while a plan
  // is in use.
  std::lock_guard<std::mutex> plans_lock(g_plans_mu);
  g_plans.clear();
  std::lock_guard<std::mutex> lock(g_records_mu);
  g_imported = std::move(records);
  g_chosen.clear();
}

}  // namespace bts::kernels::cuda
