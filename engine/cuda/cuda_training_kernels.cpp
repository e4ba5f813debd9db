// The CUDA backend's sampling, strategy and augmentation kernels (kernels/cuda/), queued on the context's stream.
// The epoch draws' keys, sorts and reductions live in the backend's reusable scratch (one size for all three, so it
// grows once); the selection counts in its device int.
#include "engine/cuda/cuda_backend.h"
#include "engine/steady_state.h"
#include "kernels/cuda/augment_batch.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/forgetting.h"
#include "kernels/cuda/importance.h"
#include "kernels/cuda/mixing.h"
#include "kernels/cuda/randaugment.h"
#include "kernels/cuda/sampling.h"
#include "kernels/cuda/selective_backprop.h"

namespace bts {

namespace kg = kernels::cuda;

namespace {
cudaStream_t cu_stream() { return kg::current_context().stream(); }
}  // namespace

void CudaBackend::random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order) {
  const size_t bytes = kg::epoch_draw_scratch_bytes(n);
  kg::random_order(cu_stream(), seed, epoch, n, order, scratch(bytes), bytes);
}

void CudaBackend::add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) {
  kg::add_counts(cu_stream(), idx, b, counts, weights);
}

void CudaBackend::accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t n,
                                         int64_t k, int64_t m, double* stats) {
  kg::accumulate_batch_stats(cu_stream(), logits, loss, labels, n, k, m, stats);
}

void CudaBackend::update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                                          const int32_t* source_slot, int64_t b, int64_t m, double* sum_p,
                                          int32_t* visits, float* last_p) {
  kg::update_importance_stats(cu_stream(), idx, prob, label_weights, source_slot, b, m, sum_p, visits, last_p);
}

void CudaBackend::importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                                     kernels::ImportanceKind kind, bool averaging, bool use_eps, double* w) {
  const size_t bytes = kg::epoch_draw_scratch_bytes(n);
  kg::importance_weights(cu_stream(), n, sum_p, visits, last_p, kind, averaging, use_eps, w, scratch(bytes), bytes);
}

void CudaBackend::weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order) {
  const size_t bytes = kg::epoch_draw_scratch_bytes(n);
  kg::weighted_order(cu_stream(), seed, epoch, n, w, order, scratch(bytes), bytes);
}

void CudaBackend::top_q_weights(const float* loss, int64_t b, int64_t q, float* weights) {
  kg::top_q_weights(cu_stream(), loss, b, q, weights);
}

void CudaBackend::update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                                    int64_t k, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  kg::update_forgetting(cu_stream(), logits, labels, idx, b, k, last_correct, ever_correct, forgets);
}

void CudaBackend::sb_append_history(float* history, int64_t r, int64_t appended, const float* loss, int64_t b) {
  kg::sb_append_history(cu_stream(), history, r, appended, loss, b);
}

int64_t CudaBackend::sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta,
                               bool prime, uint64_t seed, uint64_t step, int32_t* slots) {
  steady_state::note_host_wait("sb_select's count");  // named as on the CPU, before the read below
  kg::sb_select(cu_stream(), loss, b, history, len, beta, prime, seed, step, slots, device_count());
  // The host needs the count to know when a training batch is full: one 4-byte read per scoring batch.
  return read_count();
}

int64_t CudaBackend::sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss,
                                    const int32_t* scored_epoch, int64_t epoch, int64_t staleness, float* loss,
                                    int32_t* need) {
  steady_state::note_host_wait("sb_split_stale's count");
  kg::sb_split_stale(cu_stream(), idx, b, cached_loss, scored_epoch, epoch, staleness, loss, need, device_count());
  return read_count();  // the scoring forward's batch size
}

void CudaBackend::sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                                    int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch) {
  kg::sb_scatter_scores(cu_stream(), idx, need, count, scored, epoch, loss, cached_loss, scored_epoch);
}

void CudaBackend::gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst) {
  kg::gather_rows(cu_stream(), src, row_elems, slots, count, dst);
}

void CudaBackend::gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                              int32_t* dst) {
  kg::gather_rows(cu_stream(), src, row_elems, slots, count, dst);
}

void CudaBackend::augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                                const int32_t* idx, int64_t b, const kernels::AugmentArgs* args, float* out,
                                int32_t* out_labels, const uint8_t* gathered,
                                kernels::MemoryOrder order) {
  kg::augment_batch(cu_stream(), images, labels, n, c, h, w, idx, b, args, out, out_labels, gathered, order);
}

size_t CudaBackend::randaugment_scratch_bytes(int64_t b, int c, int h, int w, int n) {
  return kg::randaugment_scratch_bytes(b, c, h, w, n);
}

void CudaBackend::randaugment_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b, int c,
                                    int h, int w, int rounds, const kernels::RandAugmentPlan* plan, uint8_t* out,
                                    uint8_t* scratch, size_t scratch_bytes) {
  kg::randaugment_batch(cu_stream(), images, n_images, idx, b, c, h, w, rounds, plan, out, scratch,
                        scratch_bytes);
}

void CudaBackend::mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                              const kernels::MixupArgs* args, float* out, int32_t* labels_out, float* label_weights,
                              int32_t* source_slot) {
  kg::mixup_batch(cu_stream(), images, labels, b, c, h, w, args, out, labels_out, label_weights, source_slot);
}

void CudaBackend::ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                              const kernels::RicapArgs* args, float* out, int32_t* labels_out, float* label_weights,
                              int32_t* source_slot, kernels::MemoryOrder order) {
  kg::ricap_batch(cu_stream(), images, labels, b, c, h, w, args, out, labels_out, label_weights, source_slot, order);
}

void CudaBackend::cutout_batch(float* images, int64_t b, int c, int h, int w, const kernels::CutoutArgs* args,
                                kernels::MemoryOrder order) {
  kg::cutout_batch(cu_stream(), images, b, c, h, w, args, order);
}

}  // namespace bts
