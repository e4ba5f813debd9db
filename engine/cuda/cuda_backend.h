// The CUDA backend: cuDNN convolutions, cuBLAS GEMMs and the custom kernels of kernels/cuda/, on the calling
// thread's context (kernels/cuda/context.h: one stream with its cuDNN and cuBLAS handles). f32, and bf16 with
// kernels of its own (native_bf16), its activations then channels last.
// Its own library (bts_engine_cuda), linked into executables through the CMake target bts_backends; it registers
// itself with the engine (cuda_backend.cpp). Methods: cuda_backend.cpp (registration, memory, timing),
// cuda_ops.cpp (ops and SGD), cuda_training_kernels.cpp (sampling, strategies, augmentation).
#pragma once
#include <map>
#include <vector>

#include "engine/backend.h"

namespace bts {

class CudaBackend final : public Backend {
 public:
  Device device() const override { return Device::CUDA; }

  void* allocate(size_t bytes) override;
  void release(void* p) noexcept override;
  void copy(void* dst, const void* src, size_t bytes, bool touches_host) override;
  void fill(void* dst, int byte_value, size_t bytes) override;
  StreamHandle stream() override;
  void synchronize() override;
  EventHandle create_event() override;
  void record_event(EventHandle e) override;
  double elapsed_ms(EventHandle begin, EventHandle end) override;
  bool elapsed_ms_if_done(EventHandle begin, EventHandle end, double* ms) override;
  void destroy_event(EventHandle e) noexcept override;
  // CUDA graphs of this thread's context stream (capture mode thread-local: other threads' work is unaffected).
  bool supports_graphs() const override { return true; }
  void begin_capture() override;
  GraphHandle end_capture() override;
  void abort_capture() noexcept override;
  void replay(GraphHandle graph) override;
  void destroy_graph(GraphHandle graph) noexcept override;
  uint64_t memory_generation() const override { return memory_generation_; }
  void set_tf32(bool on) override;
  void set_conv_algorithm_search(bool measure) override;
  std::string conv_algorithms() const override;
  void use_conv_algorithms(const std::string& text, const std::string& where) override;
  bool tf32() const override;

  // Mixed precision the way the tensor cores want it: bf16 activations NHWC, every convolution operand in its
  // output's layout (KRSC weights for NHWC), bf16 kernels throughout. set_native_bf16(false) runs bf16 through the
  // f32 kernels between casts instead, in NCHW (the engine's reference composition; the GPU tests compare both).
  bool native_bf16() const override { return native_bf16_; }
  void set_native_bf16(bool on) override { native_bf16_ = on; }
  void set_f32_channels_last(bool on) override { f32_channels_last_ = on; }
  void set_batchnorm_cudnn(bool on) override { batchnorm_cudnn_ = on; }
  // BatchNorm passes (forward or backward) that went to cuDNN so far: lets tests see the path was taken.
  int64_t cudnn_batchnorm_calls() const { return cudnn_batchnorm_calls_; }
  Layout activation_layout(DType dtype, int64_t channels) const override;
  Layout conv_input_layout(Layout /*x*/, Layout y, int64_t /*in_channels*/) const override { return y; }
  Layout conv_weight_layout(Layout y) const override { return y; }
  void relayout(const Tensor& src, GradTarget dst) override;

  void conv2d_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, Tensor& y,
                      Arena& scratch) override;
  void conv2d_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, GradTarget dx,
                            Arena& scratch) override;
  void conv2d_backward_filter(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy, GradTarget dw,
                              Arena& scratch) override;
  void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, double momentum,
                               Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                               Tensor& running_var, Arena& scratch) override;
  void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const Tensor& running_mean, const Tensor& running_var, Tensor& y) override;
  void batchnorm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                          const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                          Arena& scratch) override;
  // BatchNorm + ReLU and add + ReLU fused into the kernels of the ops before them (kernels/cuda/batchnorm.h,
  // elementwise.h): no intermediate tensor, one pass fewer each way.
  void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                    double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                    Tensor& running_mean, Tensor& running_var, Arena& scratch) override;
  void batchnorm_add_relu_forward_train(const Tensor& x, const Tensor& z, const Tensor& gamma, const Tensor& beta,
                                        double eps, double momentum, Tensor& y, Tensor& save_mean,
                                        Tensor& save_invstd, Tensor& running_mean, Tensor& running_var,
                                        Arena& scratch) override;
  void batchnorm_add_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                   const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx, GradTarget dz,
                                   GradTarget dgamma, GradTarget dbeta, Arena& scratch) override;
  void batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                               const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx, GradTarget dgamma,
                               GradTarget dbeta, Arena& scratch) override;
  void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) override;
  void add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db, Arena& scratch) override;
  void relu_forward(const Tensor& x, Tensor& y) override;
  void relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) override;
  void add_forward(const Tensor& a, const Tensor& b, Tensor& y) override;
  void copy_grad(const Tensor& dy, GradTarget dx) override;
  void convert(const Tensor& src, DType dst_dtype, GradTarget dst) override;
  void global_avg_pool_forward(const Tensor& x, Tensor& y) override;
  void global_avg_pool_backward(const Tensor& dy, int64_t hw, GradTarget dx) override;
  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) override;
  void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, GradTarget dx, GradTarget dw,
                       GradTarget db, Arena& scratch) override;
  void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                             const Tensor& sample_weights, Tensor& loss_per_sample, Tensor& prob_per_target,
                             Tensor& saved, Tensor& total) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                              const Tensor& sample_weights, const Tensor& saved, const Tensor& dtotal,
                              GradTarget dlogits) override;
  void sgd_step(Tensor& w, const Tensor& g, Tensor& momentum, const Tensor& lr, const kernels::SgdHyper& h) override;
  void write_bytes(void* dst, const void* src, size_t bytes) override;

  void random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order) override;
  void add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) override;
  void accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t n, int64_t k,
                              int64_t m, double* stats) override;
  void update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                               const int32_t* source_slot, int64_t b, int64_t m, double* sum_p, int32_t* visits,
                               float* last_p) override;
  void importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                          kernels::ImportanceKind kind, bool averaging, bool use_eps, double* w) override;
  void weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order) override;
  void top_q_weights(const float* loss, int64_t b, int64_t q, float* weights) override;
  void update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b, int64_t k,
                         int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) override;
  void sb_append_history(float* history, int64_t r, int64_t appended, const float* loss, int64_t b) override;
  int64_t sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta, bool prime,
                    uint64_t seed, uint64_t step, int32_t* slots) override;
  int64_t sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss, const int32_t* scored_epoch,
                         int64_t epoch, int64_t staleness, float* loss, int32_t* need) override;
  void sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored, int64_t epoch,
                         float* loss, float* cached_loss, int32_t* scored_epoch) override;
  void gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst) override;
  void gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                   int32_t* dst) override;
  void augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                     const int32_t* idx, int64_t b, const kernels::AugmentArgs* args, float* out, int32_t* out_labels,
                     const uint8_t* gathered, kernels::MemoryOrder order) override;
  size_t randaugment_scratch_bytes(int64_t b, int c, int h, int w, int n) override;
  void randaugment_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b, int c, int h, int w,
                         int rounds, const kernels::RandAugmentPlan* plan, uint8_t* out, uint8_t* scratch,
                         size_t scratch_bytes) override;
  void mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                   const kernels::MixupArgs* args, float* out, int32_t* labels_out, float* label_weights,
                   int32_t* source_slot) override;
  void ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                   const kernels::RicapArgs* args, float* out, int32_t* labels_out, float* label_weights,
                   int32_t* source_slot, kernels::MemoryOrder order) override;
  void cutout_batch(float* images, int64_t b, int c, int h, int w, const kernels::CutoutArgs* args,
                    kernels::MemoryOrder order) override;

 private:
  // Device memory of at least `bytes` for one call's temporaries (sort keys), grown and then reused: no
  // allocation per epoch once warm. Stream order makes reuse by the next call safe.
  void* scratch(size_t bytes);
  // The convolutions' one cuDNN workspace, grown to the largest need seen and shared by every convolution (they
  // run one after another on the stream): the step arena no longer holds a workspace per convolution, and its
  // address stays put once warm (what a captured graph needs).
  void* conv_workspace(size_t bytes);
  // One device int the selection kernels count into; the host reads it back (4 bytes) when it needs the count.
  int32_t* device_count();
  int64_t read_count();
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  int32_t* count_ = nullptr;
  bool native_bf16_ = true;
  uint64_t memory_generation_ = 0;  // moves of scratch_ or workspace_ (memory_generation)
  // Blocks released while a graph was being captured (cudaFree is not allowed then): freed when the capture ends,
  // which then fails, since the recorded work may read them (release).
  std::vector<void*> freed_in_capture_;
  void free_deferred() noexcept;
  bool f32_channels_last_ = false;
  // batchnorm: cudnn. What a cuDNN BatchNorm forward leaves for its backward, keyed by its save_mean (a tape
  // scratch tensor, unique per BatchNorm and step): the reserve (tape arena), beta and eps, which our backward
  // interface does not carry. A backward whose forward was ours finds no entry and runs ours.
  struct CudnnBatchNormRecord {
    void* reserve = nullptr;
    size_t reserve_bytes = 0;
    const float* beta = nullptr;
    double eps = 0;
    bool relu = false;
    bool add = false;
    const void* x = nullptr;  // the forward's input, checked by the backward
  };
  bool batchnorm_cudnn_ = false;
  int64_t cudnn_batchnorm_calls_ = 0;
  std::map<const void*, CudnnBatchNormRecord> cudnn_batchnorms_;
  bool cudnn_batchnorm_applies(const Tensor& x) const;
  bool cudnn_batchnorm_forward(const Tensor& x, const Tensor* z, const Tensor& gamma, const Tensor& beta, double eps,
                               double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                               Tensor& running_mean, Tensor& running_var, bool relu, Arena& tape_arena);
  bool cudnn_batchnorm_backward(const Tensor& x, const Tensor* relu_y, const Tensor& dy, const Tensor& gamma,
                                const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx, GradTarget* dz,
                                GradTarget dgamma, GradTarget dbeta, Arena& scratch);
};

}  // namespace bts
