// The CPU backend: the reference kernels (float and double; the oracle every other path is tested against) and
// the fast CPU paths (im2col + OpenBLAS GEMM, OpenMP), behind the Backend interface. Always part of the engine.
// Its methods live in three files: cpu_backend.cpp (memory, timing), cpu_ops.cpp (the differentiable ops and
// SGD), cpu_training_kernels.cpp (sampling, strategies, augmentation).
#pragma once
#include "engine/backend.h"

namespace bts {

BackendRegistration cpu_backend_registration();

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::CPU; }

  void* allocate(size_t bytes) override;
  void release(void* p) noexcept override;
  void copy(void* dst, const void* src, size_t bytes, bool touches_host) override;
  void fill(void* dst, int byte_value, size_t bytes) override;
  StreamHandle stream() override { return nullptr; }
  void synchronize() override;  // nothing to wait for, but the steady-state guard counts it as a wait
  EventHandle create_event() override;
  void record_event(EventHandle e) override;
  double elapsed_ms(EventHandle begin, EventHandle end) override;
  bool elapsed_ms_if_done(EventHandle begin, EventHandle end, double* ms) override;
  void destroy_event(EventHandle e) noexcept override;
  // f32 with oneDNN: nChw16c where the channels are a multiple of 16 and this CPU's oneDNN works in 16-channel
  // blocks (AVX-512), else NHWC; NCHW otherwise.
  Layout activation_layout(DType dtype, int64_t channels) const override;
  // oneDNN takes a convolution's input in any layout. Tests set this to bring the input to the output's layout
  // first, as the CUDA backend does, so that path of engine/ops.cpp is proved on the CPU (NHWC where the input's
  // channels cannot be blocked by 16, e.g. the stem's 3).
  Layout conv_input_layout(Layout x, Layout y, int64_t in_channels) const override {
    if (!conv_input_follows_output_) return x;
    return y == Layout::NCHW16C && in_channels % 16 != 0 ? Layout::NHWC : y;
  }
  void set_conv_input_follows_output(bool on) { conv_input_follows_output_ = on; }
  void relayout(const Tensor& src, GradTarget dst) override;
  void set_tf32(bool) override {}
  bool tf32() const override { return false; }

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
  // Fused on channels-innermost f32 tensors (NHWC, nChw16c); elsewhere the Backend's composition.
  void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                    double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                    Tensor& running_mean, Tensor& running_var, Arena& scratch) override;
  void batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                               const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx, GradTarget dgamma,
                               GradTarget dbeta, Arena& scratch) override;
  void relu_forward(const Tensor& x, Tensor& y) override;
  void relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) override;
  void add_forward(const Tensor& a, const Tensor& b, Tensor& y) override;
  void copy_grad(const Tensor& dy, GradTarget dx) override;
  void convert(const Tensor& src, DType dst_dtype, GradTarget dst) override;
  void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) override;
  void add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db, Arena& scratch) override;
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
  size_t randaugment_scratch_bytes(int64_t, int, int, int, int) override { return 0; }
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
  bool conv_input_follows_output_ = false;
};

}  // namespace bts
