// The one seam between the engine and the devices it runs on.
//
// Every device-specific action the layers above need is a virtual call on the Backend of the tensors' device:
// memory, copies and fills, stream order and timing events, the differentiable ops' kernels (engine/ops.cpp), the
// optimizer step, and the kernels of the sampling strategies, augmentations and batch assembly (train/, data/).
// Callers never branch on which backends a build has: they ask backend(device) and call.
//
// The CPU backend (engine/cpu/) is always part of the engine. The CUDA backend (engine/cuda/, its own library)
// registers itself when it is linked: a CPU-only build and a CUDA build differ only in which backend libraries the
// executables link (CMake target bts_backends). Asking for a backend that is not linked throws a clear error.
//
// Conventions: tensors passed to a backend live on its device; a GradTarget says where a backward writes and
// whether it adds; `scratch` is the calling tape's arena (step-lifetime temporaries, e.g. cuDNN workspaces). The
// pointer-level calls (strategies, augmentation) take f32/i32 device pointers, exactly the kernels' arguments.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/dtype.h"
#include "kernels/common/check.h"
#include "kernels/common/augment.h"
#include "kernels/common/conv_shape.h"
#include "kernels/common/importance.h"
#include "kernels/common/memory_order.h"
#include "kernels/common/mixing.h"
#include "kernels/common/randaugment.h"
#include "kernels/common/sgd_math.h"
#include "kernels/common/stream_write.h"

namespace bts {

class Arena;
class Tensor;

using StreamHandle = void*;  // cudaStream_t on the GPU; nullptr on the CPU
using EventHandle = void*;   // cudaEvent_t on the GPU; a host timestamp on the CPU
using GraphHandle = void*;   // an instantiated CUDA graph

// The kernels' name for a layout (kernels/common/memory_order.h indexes elements by it).
inline kernels::MemoryOrder memory_order(Layout l) {
  static_assert(static_cast<int>(Layout::NCHW) == static_cast<int>(kernels::MemoryOrder::NCHW) &&
                    static_cast<int>(Layout::NHWC) == static_cast<int>(kernels::MemoryOrder::NHWC) &&
                    static_cast<int>(Layout::NCHW16C) == static_cast<int>(kernels::MemoryOrder::NCHW16C),
                "Layout and MemoryOrder list the layouts in the same order");
  return static_cast<kernels::MemoryOrder>(l);
}

// Where a backward writes a gradient: the pointer, whether to add to what is there, and the memory layout of the
// gradient (that of the value it is the gradient of).
struct GradTarget {
  void* ptr = nullptr;
  bool accumulate = false;
  Layout layout = Layout::NCHW;
  explicit operator bool() const { return ptr != nullptr; }
  template <typename T> T* as() const { return static_cast<T*>(ptr); }
};

// What a backend reports about its devices (for `bts info`, logs and the choice of device).
struct BackendProbe {
  int devices = 0;          // usable devices of this kind (the CPU: 1)
  std::string description;  // the first device's name, or why there is none
};

// One device of a kind, as a run's result records it.
struct DeviceIdentity {
  int index = 0;
  std::string name, uuid;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // ---- memory and order. Work is queued on the backend's stream in call order. copy() moves bytes between this
  // backend's memory and host memory or itself; it returns only when a copy that touches host memory is done
  // (`touches_host`: the caller knows each side's device, so the backend need not ask the driver).
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void copy(void* dst, const void* src, size_t bytes, bool touches_host) = 0;
  virtual void fill(void* dst, int byte_value, size_t bytes) = 0;
  virtual StreamHandle stream() = 0;
  virtual void synchronize() = 0;

  // ---- timing: events recorded in stream order; elapsed_ms waits for `end`. Making an event counts as an
  // allocation for the steady-state guard (engine/phase_timer.h keeps a pool).
  virtual EventHandle create_event() = 0;
  virtual void record_event(EventHandle e) = 0;
  virtual double elapsed_ms(EventHandle begin, EventHandle end) = 0;
  // The same without waiting: false when `end` has not completed yet.
  virtual bool elapsed_ms_if_done(EventHandle begin, EventHandle end, double* ms) = 0;
  virtual void destroy_event(EventHandle e) noexcept = 0;

  // ---- graphs: the work this thread queues between begin_capture and end_capture is recorded instead of run,
  // and replay runs it again with the same pointers and arguments (one launch for a whole step). Only where
  // supports_graphs() (CUDA); engine/step_graph.h wraps this and, elsewhere, calls the step again instead. A capture
  // that fails part-way must be ended with abort_capture (the stream is unusable while capturing).
  virtual bool supports_graphs() const { return false; }
  virtual void begin_capture();
  virtual GraphHandle end_capture();
  virtual void abort_capture() noexcept {}
  virtual void replay(GraphHandle graph);
  virtual void destroy_graph(GraphHandle /*graph*/) noexcept {}
  // Bumped whenever a buffer the backend owns and a graph may have captured (scratch, convolution workspace) moves
  // to a new address (it grew): a graph captured before then would read freed memory, so StepGraph refuses it.
  virtual uint64_t memory_generation() const { return 0; }

  // ---- numerics: TF32 tensor-core math for f32 convolutions and GEMMs (a no-op where it does not exist).
  virtual void set_tf32(bool on) = 0;
  virtual bool tf32() const = 0;

  // ---- convolution algorithms (cuDNN): from heuristics, or measured once per shape (`measure`); the choices made
  // so far as text (a run keeps them in conv_algorithms.txt, kernels/common/conv_algo_record.h), and such a text
  // taken back so the next plans use the same ones (an empty text forgets earlier ones; `where` names it in errors).
  // The CPU has nothing to choose: no-ops there.
  virtual void set_conv_algorithm_search(bool /*measure*/) {}
  virtual std::string conv_algorithms() const { return {}; }
  virtual void use_conv_algorithms(const std::string& /*text*/, const std::string& /*where*/) {}

  // ---- differentiable ops (engine/ops.cpp validates shapes, dtypes and devices before calling).
  // The memory layout this backend wants a convolution's output (and so the BatchNorm, ReLU and residual adds after
  // it) in, for tensors of this dtype with this many channels. It must depend on nothing else, so that both
  // branches of a residual add (same channel count) agree. Every op accepts NCHW; ops keep their input's layout.
  virtual Layout activation_layout(DType, int64_t /*channels*/) const { return Layout::NCHW; }
  // The layouts a convolution's input and weights are brought to (engine/ops.cpp inserts the relayouts), given its
  // output's layout: oneDNN takes any input layout with KCRS weights; cuDNN's channels-last kernels want every
  // operand alike (NHWC input, KRSC weights: KCRS stored channels last).
  virtual Layout conv_input_layout(Layout x, Layout /*y*/, int64_t /*in_channels*/) const { return x; }
  virtual Layout conv_weight_layout(Layout /*y*/) const { return Layout::NCHW; }
  // The layout (NCHW or NHWC) the batch kernels write a model's input in: the one its stem convolution (in_channels
  // in, stem_channels out, computing in `compute`) takes it in, so the step does not transpose its input (NHWC for
  // bf16 and channels-last f32 on the GPU). Any layout gives the same results; this one saves a pass.
  Layout input_layout(DType compute, int64_t in_channels, int64_t stem_channels) const {
    const Layout l = conv_input_layout(Layout::NCHW, activation_layout(compute, stem_channels), in_channels);
    return l == Layout::NHWC ? Layout::NHWC : Layout::NCHW;
  }
  // dst (+)= src moved to dst.layout (same shape and dtype; kernels/cpu/relayout.h).
  virtual void relayout(const Tensor& src, GradTarget dst) = 0;
  // Mixed precision: true when conv2d, the BatchNorms (with their fused ReLU), ReLU, add, add+ReLU, copy_grad,
  // global_avg_pool and relayout take bf16 tensors themselves, computing in fp32 and rounding each output once:
  // the semantics of the cast composition engine/ops.cpp runs otherwise (their f32 kernels between casts). linear
  // and the loss always run the composition (fp32 logits).
  virtual bool native_bf16() const { return false; }
  // Turns a backend's own bf16 kernels off (the composition instead) or back on; ignored by a backend without them.
  virtual void set_native_bf16(bool /*on*/) {}
  // f32 activations channels last too (the CUDA backend: NHWC convolutions for fp32/TF32, which cuDNN's tensor-core
  // kernels read without transposes; NCHW by default until measured). Ignored where the layout is fixed otherwise.
  virtual void set_f32_channels_last(bool /*on*/) {}
  // Training-mode BatchNorm (and BatchNorm + ReLU) of channels-last activations through cuDNN's fused kernels
  // instead of the backend's own, for comparison (config `batchnorm: cudnn`, bench --batchnorm cudnn). Only the
  // CUDA backend has them; the others refuse to turn it on.
  virtual void set_batchnorm_cudnn(bool on) {
    BTS_CHECK(!on, "batchnorm 'cudnn' needs cuDNN: the " << device_name(device())
                                                           << " backend has its own BatchNorm only");
  }
  virtual void conv2d_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, Tensor& y,
                              Arena& scratch) = 0;
  virtual void conv2d_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, GradTarget dx,
                                    Arena& scratch) = 0;
  virtual void conv2d_backward_filter(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy, GradTarget dw,
                                      Arena& scratch) = 0;
  // BatchNorm over [N, C, H*W]: training normalises with the batch statistics (saved for backward: mean, 1/std)
  // and updates the running ones; eval uses the running ones. `scratch` is the step's arena (what a backend keeps
  // for the backward lives there: cuDNN's reserve).
  virtual void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                       double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                       Tensor& running_mean, Tensor& running_var, Arena& scratch) = 0;
  virtual void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                      const Tensor& running_mean, const Tensor& running_var, Tensor& y) = 0;
  // dgamma and dbeta share one accumulate flag; targets left empty are computed into scratch and dropped.
  virtual void batchnorm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                                  const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                                  Arena& scratch) = 0;
  // BatchNorm followed by ReLU as one op (y = relu(batchnorm(x)); the BatchNorm output is never stored). Backward
  // takes the ReLU's output y and its gradient dy. The defaults compose the two ops above through a step-lifetime
  // temporary in `scratch`; a backend overrides them to fuse the passes.
  virtual void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                            double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                            Tensor& running_mean, Tensor& running_var, Arena& scratch);
  virtual void batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                       const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                       GradTarget dgamma, GradTarget dbeta, Arena& scratch);
  // relu(BatchNorm(x) + z) as one op (a residual block's end), the BatchNorm output rounded to x's dtype before the
  // add. Backward takes the op's output y and its gradient dy, and writes the gradients of x, z, gamma and beta.
  // The defaults compose batchnorm, add_relu and their backwards through step-lifetime temporaries in `scratch`.
  virtual void batchnorm_add_relu_forward_train(const Tensor& x, const Tensor& z, const Tensor& gamma,
                                                const Tensor& beta, double eps, double momentum, Tensor& y,
                                                Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                                                Tensor& running_var, Arena& scratch);
  virtual void batchnorm_add_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                           const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                           GradTarget dz, GradTarget dgamma, GradTarget dbeta, Arena& scratch);
  virtual void relu_forward(const Tensor& x, Tensor& y) = 0;
  virtual void relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) = 0;
  virtual void add_forward(const Tensor& a, const Tensor& b, Tensor& y) = 0;
  virtual void copy_grad(const Tensor& dy, GradTarget dx) = 0;
  // dst (+)= src converted to `dst_dtype` element by element: the casts of mixed precision, f32 <-> bf16 (bf16
  // rounds to nearest even; a bf16 destination that accumulates adds in fp32 and rounds once; kernels/cpu/convert.h).
  // The layout is kept.
  // A destination in another layout than src (4-D) is moved there in the same pass (the weights of a bf16
  // convolution: the f32 master copy straight into the kernels' layout).
  virtual void convert(const Tensor& src, DType dst_dtype, GradTarget dst) = 0;
  // relu(a + b) as one op (the residual join); backward takes its output y and gradient dy and writes both inputs'
  // gradients (either target may be empty). The defaults compose add, ReLU and copy_grad; a backend may fuse them.
  virtual void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y);
  virtual void add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db, Arena& scratch);
  virtual void global_avg_pool_forward(const Tensor& x, Tensor& y) = 0;  // [N, C, H, W] -> [N, C]
  virtual void global_avg_pool_backward(const Tensor& dy, int64_t hw, GradTarget dx) = 0;
  // y = x w^T + b; dw and db share one accumulate flag, an empty dx is skipped.
  virtual void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) = 0;
  virtual void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, GradTarget dx, GradTarget dw,
                               GradTarget db, Arena& scratch) = 0;
  // Soft-target cross-entropy: labels/label_weights [N, M], sample_weights [N]; writes the per-sample loss, each
  // target's probability and the weighted total. `saved` ([N], f64) keeps what the backward reuses
  // (the GPU: each sample's log-sum-exp; the CPU recomputes it).
  virtual void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                     const Tensor& sample_weights, Tensor& loss_per_sample, Tensor& prob_per_target,
                                     Tensor& saved, Tensor& total) = 0;
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                      const Tensor& sample_weights, const Tensor& saved, const Tensor& dtotal,
                                      GradTarget dlogits) = 0;

  // ---- optimizer: one SGD-with-momentum update of a flat parameter array (PyTorch semantics), with the learning
  // rate read from lr (F64 [1], this device) when the update runs; write_bytes sets such a word in stream order.
  virtual void sgd_step(Tensor& w, const Tensor& g, Tensor& momentum, const Tensor& lr,
                        const kernels::SgdHyper& h) = 0;
  // Copies `bytes` (at most kernels::kMaxStreamWriteBytes) of host memory to this device's `dst` in stream order,
  // without a host wait; `src` is free on return. How a recorded step's per-step inputs (learning rate, the batch
  // build's arguments) reach device memory before its replay.
  virtual void write_bytes(void* dst, const void* src, size_t bytes) = 0;

  // ---- sampling and per-sample statistics (train/strategies/, the trainer's counters).
  virtual void random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order) = 0;
  virtual void add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) = 0;
  virtual void accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t n,
                                      int64_t k, int64_t m, double* stats) = 0;
  virtual void update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                                       const int32_t* source_slot, int64_t b, int64_t m, double* sum_p,
                                       int32_t* visits, float* last_p) = 0;
  virtual void importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                                  kernels::ImportanceKind kind, bool averaging, bool use_eps, double* w) = 0;
  virtual void weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order) = 0;
  virtual void top_q_weights(const float* loss, int64_t b, int64_t q, float* weights) = 0;
  virtual void update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                                 int64_t k, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) = 0;
  // Selective backprop. select and split_stale return a count the host needs (the GPU reads 4 bytes back).
  virtual void sb_append_history(float* history, int64_t r, int64_t appended, const float* loss, int64_t b) = 0;
  virtual int64_t sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta,
                            bool prime, uint64_t seed, uint64_t step, int32_t* slots) = 0;
  virtual int64_t sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss,
                                 const int32_t* scored_epoch, int64_t epoch, int64_t staleness, float* loss,
                                 int32_t* need) = 0;
  virtual void sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                                 int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch) = 0;
  virtual void gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count,
                           float* dst) = 0;
  virtual void gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                           int32_t* dst) = 0;

  // ---- augmentation and batch assembly (data/, train/batch_mixing). The argument structs (and RandAugment's plan,
  // made by kernels::make_checked_randaugment_plan) are in this device's memory, written with write_bytes and read
  // when the kernels run: a recorded step's replay builds the batch of the step the host wrote there. The float
  // batches are NCHW or NHWC (`order`; input_layout says which a model's step takes without a transpose); the
  // data set's uint8 images and RandAugment's output stay NCHW.
  virtual void augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                             const int32_t* idx, int64_t b, const kernels::AugmentArgs* args, float* out,
                             int32_t* out_labels, const uint8_t* gathered, kernels::MemoryOrder order) = 0;
  // RandAugment writes the batch's b uint8 images to `out`; `scratch` holds randaugment_scratch_bytes() more.
  virtual size_t randaugment_scratch_bytes(int64_t b, int c, int h, int w, int n) = 0;
  virtual void randaugment_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b, int c,
                                 int h, int w, int rounds, const kernels::RandAugmentPlan* plan, uint8_t* out,
                                 uint8_t* scratch, size_t scratch_bytes) = 0;
  virtual void mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                           const kernels::MixupArgs* args, float* out, int32_t* labels_out, float* label_weights,
                           int32_t* source_slot) = 0;
  virtual void ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                           const kernels::RicapArgs* args, float* out, int32_t* labels_out, float* label_weights,
                           int32_t* source_slot, kernels::MemoryOrder order) = 0;
  virtual void cutout_batch(float* images, int64_t b, int c, int h, int w, const kernels::CutoutArgs* args,
                            kernels::MemoryOrder order) = 0;
};

// How a backend library makes itself known: a probe that never throws (no device is an answer, not an error)
// and a factory called once, on first use.
struct BackendRegistration {
  BackendProbe (*probe)() = nullptr;
  Backend* (*create)() = nullptr;
  // Devices of this kind by index (a machine with several GPUs): who device `index` is, and making it the one the
  // backend will run on (called before the backend is created). Null for a kind with one device (the CPU).
  DeviceIdentity (*identify)(int index) = nullptr;
  bool (*select)(int index, std::string* why) = nullptr;
};
// Called by a backend library's static initialiser (engine/cuda/cuda_backend_registration.cpp).
bool register_backend(Device device, BackendRegistration registration);

// The backend of `device`, created on first use; throws when this build links none for it.
Backend& backend(Device device);
// Whether a backend for `device` is linked, and what it finds.
bool backend_linked(Device device);
BackendProbe probe_backend(Device device);
// Device `index` of that kind runs everything of this process that uses the kind; must come before the backend's
// first use (a later call for another index throws). Throws naming what exists when the index does not.
void select_backend_device(Device device, int index);
// The device selected (0 unless select_backend_device chose another), with its name and UUID.
DeviceIdentity selected_device(Device device);

}  // namespace bts
