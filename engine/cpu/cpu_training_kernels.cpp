// The CPU backend's sampling, strategy and augmentation kernels: the CPU twins of kernels/cuda/*, called with
// the same arguments (host pointers) and giving the same bits where the kernels say so.
#include "engine/cpu/cpu_backend.h"
#include "engine/steady_state.h"
#include "kernels/cpu/augment_batch.h"
#include "kernels/cpu/forgetting.h"
#include "kernels/cpu/importance.h"
#include "kernels/cpu/mixing.h"
#include "kernels/cpu/randaugment.h"
#include "kernels/cpu/sampling.h"
#include "kernels/cpu/selective_backprop.h"

namespace bts {

namespace kc = kernels::cpu;

void CpuBackend::random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order) {
  kc::random_order(seed, epoch, n, order);
}

void CpuBackend::add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) {
  kc::add_counts(idx, b, counts, weights);
}

void CpuBackend::accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t n,
                                        int64_t k, int64_t m, double* stats) {
  kc::accumulate_batch_stats(logits, loss, labels, n, k, m, stats);
}

void CpuBackend::update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                                         const int32_t* source_slot, int64_t b, int64_t m, double* sum_p,
                                         int32_t* visits, float* last_p) {
  kc::update_importance_stats(idx, prob, label_weights, source_slot, b, m, sum_p, visits, last_p);
}

void CpuBackend::importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                                    kernels::ImportanceKind kind, bool averaging, bool use_eps, double* w) {
  kc::importance_weights(n, sum_p, visits, last_p, kind, averaging, use_eps, w);
}

void CpuBackend::weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order) {
  kc::weighted_order(seed, epoch, n, w, order);
}

void CpuBackend::top_q_weights(const float* loss, int64_t b, int64_t q, float* weights) {
  kc::top_q_weights(loss, b, q, weights);
}

void CpuBackend::update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                                   int64_t k, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  kc::update_forgetting(logits, labels, idx, b, k, last_correct, ever_correct, forgets);
}

void CpuBackend::sb_append_history(float* history, int64_t r, int64_t appended, const float* loss, int64_t b) {
  kc::sb_append_history(history, r, appended, loss, b);
}

int64_t CpuBackend::sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta,
                              bool prime, uint64_t seed, uint64_t step, int32_t* slots) {
  steady_state::note_host_wait("sb_select's count");  // as the GPU's 4-byte read back
  return kc::sb_select(loss, b, history, len, beta, prime, seed, step, slots);
}

int64_t CpuBackend::sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss, const int32_t* scored_epoch,
                                   int64_t epoch, int64_t staleness, float* loss, int32_t* need) {
  steady_state::note_host_wait("sb_split_stale's count");
  return kc::sb_split_stale(idx, b, cached_loss, scored_epoch, epoch, staleness, loss, need);
}

void CpuBackend::sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                                   int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch) {
  kc::sb_scatter_scores(idx, need, count, scored, epoch, loss, cached_loss, scored_epoch);
}

void CpuBackend::gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst) {
  kc::gather_rows(src, row_elems, slots, count, dst);
}

void CpuBackend::gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                             int32_t* dst) {
  kc::gather_rows(src, row_elems, slots, count, dst);
}

void CpuBackend::augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                               const int32_t* idx, int64_t b, const kernels::AugmentArgs* args, float* out,
                               int32_t* out_labels, const uint8_t* gathered,
                               kernels::MemoryOrder order) {
  kc::augment_batch(images, labels, n, c, h, w, idx, b, *args, out, out_labels, gathered, order);
}

void CpuBackend::randaugment_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b, int c,
                                   int h, int w, int rounds, const kernels::RandAugmentPlan* plan, uint8_t* out,
                                   uint8_t*, size_t) {
  BTS_CHECK(plan->c == c && plan->h == h && plan->w == w && plan->n == rounds,
            "randaugment_batch: the plan is for " << plan->n << " ops on " << plan->c << "x" << plan->h << "x"
                                                  << plan->w << " images, called for " << rounds << " on " << c << "x"
                                                  << h << "x" << w);
  kc::randaugment_batch(images, n_images, idx, b, *plan, out);
}

void CpuBackend::mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                             const kernels::MixupArgs* args, float* out, int32_t* labels_out, float* label_weights,
                             int32_t* source_slot) {
  kc::mixup_batch(images, labels, b, c, h, w, *args, out, labels_out, label_weights, source_slot);
}

void CpuBackend::ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                             const kernels::RicapArgs* args, float* out, int32_t* labels_out, float* label_weights,
                             int32_t* source_slot, kernels::MemoryOrder order) {
  kc::ricap_batch(images, labels, b, c, h, w, *args, out, labels_out, label_weights, source_slot, order);
}

void CpuBackend::cutout_batch(float* images, int64_t b, int c, int h, int w, const kernels::CutoutArgs* args,
                              kernels::MemoryOrder order) {
  kc::cutout_batch(images, b, c, h, w, *args, order);
}

}  // namespace bts
