#include "train/strategies/selective_backprop.h"

#include <algorithm>

#include "engine/backend.h"
#include "kernels/common/check.h"
#include "kernels/common/selective_backprop.h"
#include "train/strategies/uniform.h"

namespace bts {

namespace {
Shape with_rows(int64_t rows, const Shape& image) {
  Shape s{rows};
  s.insert(s.end(), image.begin(), image.end());
  return s;
}
}  // namespace

SelectiveBackprop::SelectiveBackprop(const SelectiveBackpropOptions& options, int64_t batch, const Shape& image,
                                     Device device, Layout layout)
    : opt_(options), batch_(batch), row_(shape_numel(image)), image_(image), device_(device), layout_(layout) {
  // Rows of any shape in NCHW (plain rows); channels last needs images {C, H, W}.
  BTS_CHECK(layout_ == Layout::NCHW || (layout_ == Layout::NHWC && image_.size() == 3),
            "selective backprop: images " << shape_str(image_) << " in " << layout_name(layout_)
                                          << " (expected NCHW, or NHWC images {C, H, W})");
  BTS_CHECK(opt_.beta >= 0, "selective backprop: beta must be >= 0, got " << opt_.beta);
  BTS_CHECK(opt_.history >= batch_, "selective backprop: the loss history (" << opt_.history
                                                                             << ") must hold at least one batch ("
                                                                             << batch_ << ")");
  // The GPU selection keeps one flag per slot in shared memory (48 KiB without opting in to more).
  BTS_CHECK(batch_ <= kernels::kSbMaxBatch,
            "selective backprop handles batches up to " << kernels::kSbMaxBatch << ", got " << batch_);
  BTS_CHECK(opt_.targets >= 1, "selective backprop: " << opt_.targets << " targets per image");
  // A cached loss belongs to a data-set sample; a mixed image's loss belongs to the mix (its partners change).
  BTS_CHECK(opt_.targets == 1 || opt_.staleness == 0,
            "selective backprop's staleness reuses each sample's cached loss, but a mixup/RICAP image's loss "
            "depends on its partners: turn sb.staleness or mixup/RICAP off");
  history_ = Tensor::zeros({opt_.history}, DType::F32, device);
  // Zeroed so that checkpoints (which hold the whole queue) are the same bytes for the same run.
  queue_images_ = Tensor::zeros(with_rows(2 * batch_, image_), DType::F32, device, layout_);
  queue_labels_ = Tensor::zeros({2 * batch_ * opt_.targets}, DType::I32, device);
  if (opt_.targets > 1) queue_label_weights_ = Tensor::zeros({2 * batch_ * opt_.targets}, DType::F32, device);
  queue_indices_ = Tensor::zeros({2 * batch_}, DType::I32, device);
  slots_ = Tensor::empty({batch_}, DType::I32, device);
  if (opt_.staleness > 0) {
    BTS_CHECK(opt_.train_size > 0, "selective backprop with staleness needs the data set size");
    cached_loss_ = Tensor::zeros({opt_.train_size}, DType::F32, device);
    scored_epoch_ = Tensor::empty({opt_.train_size}, DType::I32);
    scored_epoch_.fill(kernels::kNeverScored);
    scored_epoch_ = scored_epoch_.to(device);
    batch_loss_ = Tensor::empty({batch_}, DType::F32, device);
    need_ = Tensor::empty({batch_}, DType::I32, device);
    // Zeroed: rows past a batch's count go through the forward too (scoring_rows), so they must be valid inputs.
    scoring_images_ = Tensor::zeros(with_rows(batch_, image_), DType::F32, device, layout_);
    scoring_labels_ = Tensor::zeros({batch_}, DType::I32, device);
  }
}

int64_t SelectiveBackprop::prepare_scoring(int64_t epoch, const Tensor& indices, const Tensor& images,
                                           const Tensor& labels) {
  BTS_CHECK(opt_.staleness > 0, "selective backprop: prepare_scoring is the staleness variant's");
  const int64_t b = indices.numel();
  BTS_CHECK(b == batch_ && images.numel() == b * row_ && labels.numel() == b && images.layout() == layout_,
            "selective backprop: a scoring batch of " << b << " in " << layout_name(images.layout()) << " (expected "
                                                      << batch_ << " in " << layout_name(layout_) << ")");
  Backend& be = backend(device_);
  need_count_ = be.sb_split_stale(indices.data<int32_t>(), b, cached_loss_.data<float>(), scored_epoch_.data<int32_t>(),
                                  epoch, opt_.staleness, batch_loss_.data<float>(), need_.data<int32_t>());
  be.gather_rows(images.data<float>(), row_, need_.data<int32_t>(), need_count_, scoring_images_.data<float>());
  be.gather_rows(labels.data<int32_t>(), 1, need_.data<int32_t>(), need_count_, scoring_labels_.data<int32_t>());
  return need_count_;
}

int64_t SelectiveBackprop::scoring_rows() const {
  const int64_t quarter = (batch_ + 3) / 4;
  return std::min(batch_, (need_count_ + quarter - 1) / quarter * quarter);
}
Tensor SelectiveBackprop::scoring_images(int64_t rows) const {
  BTS_CHECK(rows == scoring_rows(), "selective backprop: " << rows << " scoring rows, " << scoring_rows() << " prepared");
  return Tensor::wrap(scoring_images_.raw(), with_rows(rows, image_), DType::F32, device_, layout_);
}
Tensor SelectiveBackprop::scoring_labels(int64_t rows) const {
  BTS_CHECK(rows == scoring_rows(), "selective backprop: " << rows << " scoring rows, " << scoring_rows() << " prepared");
  return Tensor::wrap(scoring_labels_.raw(), {rows}, DType::I32, device_);
}

void SelectiveBackprop::finish_scoring(int64_t epoch, const Tensor& indices, const Tensor& scored) {
  BTS_CHECK(scored.numel() == need_count_, "selective backprop: " << scored.numel() << " scores for "
                                                                  << need_count_ << " prepared slots");
  backend(device_).sb_scatter_scores(indices.data<int32_t>(), need_.data<int32_t>(), need_count_,
                                     scored.data<float>(), epoch, batch_loss_.data<float>(), cached_loss_.data<float>(),
                                     scored_epoch_.data<int32_t>());
}

int64_t SelectiveBackprop::select(int64_t epoch, uint64_t step, const Tensor& loss, const Tensor& images,
                                  const Tensor& labels, const Tensor& indices, const Tensor& label_weights) {
  const int64_t b = loss.numel(), M = opt_.targets;
  BTS_CHECK(b <= batch_ && images.numel() == b * row_ && labels.numel() == b * M && indices.numel() == b,
            "selective backprop: a scoring batch of " << b << " does not match its images/labels/indices");
  BTS_CHECK(images.layout() == layout_, "selective backprop: a scoring batch in " << layout_name(images.layout())
                                                                                  << ", the queue holds "
                                                                                  << layout_name(layout_));
  BTS_CHECK(M == 1 || (label_weights.defined() && label_weights.numel() == b * M),
            "selective backprop: " << M << " targets per image need their label weights");
  BTS_CHECK(queued_ + b <= 2 * batch_, "selective backprop: queue overflow (" << queued_ << " queued)");
  const bool prime = epoch < opt_.prime_epochs;
  const int64_t len = std::min(appended_ + b, opt_.history);
  Backend& be = backend(device_);
  be.sb_append_history(history_.data<float>(), opt_.history, appended_, loss.data<float>(), b);
  const int64_t kept = be.sb_select(loss.data<float>(), b, history_.data<float>(), len, opt_.beta, prime, opt_.seed,
                                    step, slots_.data<int32_t>());
  be.gather_rows(images.data<float>(), row_, slots_.data<int32_t>(), kept, queue_images_.data<float>() + queued_ * row_);
  be.gather_rows(labels.data<int32_t>(), M, slots_.data<int32_t>(), kept, queue_labels_.data<int32_t>() + queued_ * M);
  if (M > 1)
    be.gather_rows(label_weights.data<float>(), M, slots_.data<int32_t>(), kept,
                   queue_label_weights_.data<float>() + queued_ * M);
  be.gather_rows(indices.data<int32_t>(), 1, slots_.data<int32_t>(), kept, queue_indices_.data<int32_t>() + queued_);
  appended_ += b;
  queued_ += kept;
  return kept;
}

Tensor SelectiveBackprop::images(int64_t k) const {
  BTS_CHECK(k <= queued_, "selective backprop: " << k << " requested, " << queued_ << " queued");
  return Tensor::wrap(queue_images_.raw(), with_rows(k, image_), DType::F32, device_, layout_);
}
Tensor SelectiveBackprop::labels(int64_t k) const {
  BTS_CHECK(k <= queued_, "selective backprop: " << k << " requested, " << queued_ << " queued");
  const Shape shape = opt_.targets > 1 ? Shape{k, opt_.targets} : Shape{k};
  return Tensor::wrap(queue_labels_.raw(), shape, DType::I32, device_);
}
Tensor SelectiveBackprop::label_weights(int64_t k) const {
  BTS_CHECK(opt_.targets > 1, "selective backprop: label weights are queued only under mixup/RICAP");
  BTS_CHECK(k <= queued_, "selective backprop: " << k << " requested, " << queued_ << " queued");
  return Tensor::wrap(queue_label_weights_.raw(), {k, opt_.targets}, DType::F32, device_);
}
Tensor SelectiveBackprop::indices(int64_t k) const {
  BTS_CHECK(k <= queued_, "selective backprop: " << k << " requested, " << queued_ << " queued");
  return Tensor::wrap(queue_indices_.raw(), {k}, DType::I32, device_);
}

void SelectiveBackprop::pop(int64_t k) {
  BTS_CHECK(k >= 0 && k <= queued_, "selective backprop: pop " << k << " of " << queued_);
  const int64_t rest = queued_ - k;
  if (rest > 0) {
    // The rest (< b after a full batch trained) never overlaps its destination when k >= rest.
    BTS_CHECK(rest <= k, "selective backprop: overlapping queue move (" << rest << " after " << k << ")");
    auto move = [&](const Tensor& q, int64_t row, DType dt) {
      const size_t es = dtype_size(dt);
      char* base = static_cast<char*>(q.raw());
      copy_bytes(base, device_, base + k * row * es, device_, static_cast<size_t>(rest * row) * es);
    };
    move(queue_images_, row_, DType::F32);
    move(queue_labels_, opt_.targets, DType::I32);
    if (opt_.targets > 1) move(queue_label_weights_, opt_.targets, DType::F32);
    move(queue_indices_, 1, DType::I32);
  }
  queued_ = rest;
}

std::vector<double> SelectiveBackprop::history() const {
  std::vector<double> h = history_.to_double_vector();
  h.resize(static_cast<size_t>(history_length()));
  return h;
}

// Checkpoints hold the queued images in NCHW whatever the run's batch layout, so a run resumes on a device or
// precision whose batches are laid out otherwise.
void SelectiveBackprop::save(TensorMap& m) const {
  m.emplace("sb.history", history_.view());
  if (layout_ == Layout::NCHW) {
    m.emplace("sb.queue_images", queue_images_.view());
  } else {
    Tensor nchw = Tensor::empty(queue_images_.shape(), DType::F32, device_);
    backend(device_).relayout(queue_images_, GradTarget{nchw.raw(), false, Layout::NCHW});
    m.emplace("sb.queue_images", std::move(nchw));
  }
  m.emplace("sb.queue_labels", queue_labels_.view());
  m.emplace("sb.queue_indices", queue_indices_.view());
  if (opt_.targets > 1) m.emplace("sb.queue_label_weights", queue_label_weights_.view());
  m.emplace("sb.state", Tensor::from_vector<int64_t>({appended_, queued_}, {2}));
  if (opt_.staleness > 0) {
    m.emplace("sb.cached_loss", cached_loss_.view());
    m.emplace("sb.scored_epoch", scored_epoch_.view());
  }
}

void SelectiveBackprop::load(const TensorMap& m) {
  // Losses are non-negative, labels and indices non-negative (indices below N when N is known), label weights
  // in [0, 1]; the queue holds at most its capacity.
  const double n_max = opt_.train_size > 0 ? static_cast<double>(opt_.train_size - 1) : 2147483647.0;
  restore_entry(m, "sb.history", history_, 0.0);
  if (layout_ == Layout::NCHW) {
    restore_entry(m, "sb.queue_images", queue_images_);
  } else {
    Tensor nchw = Tensor::empty(queue_images_.shape(), DType::F32, device_);
    restore_entry(m, "sb.queue_images", nchw);
    backend(device_).relayout(nchw, GradTarget{queue_images_.raw(), false, layout_});
  }
  restore_entry(m, "sb.queue_labels", queue_labels_, 0.0);
  restore_entry(m, "sb.queue_indices", queue_indices_, 0.0, n_max);
  if (opt_.targets > 1) restore_entry(m, "sb.queue_label_weights", queue_label_weights_, 0.0, 1.0);
  const Tensor& st = tensor_entry(m, "", "sb.state", DType::I64, {2});
  check_entry_values(st, "sb.state", 0, 9.0e15);
  BTS_CHECK(st.data<int64_t>()[1] <= queue_indices_.numel(),
            "entry 'sb.state' has " << st.data<int64_t>()[1] << " queued samples, the queue holds "
                                    << queue_indices_.numel());
  appended_ = st.data<int64_t>()[0];
  queued_ = st.data<int64_t>()[1];
  if (opt_.staleness > 0) {
    restore_entry(m, "sb.cached_loss", cached_loss_, 0.0);
    restore_entry(m, "sb.scored_epoch", scored_epoch_);
  }
}

// Selective backprop's presentation order: every scoring batch of every epoch, T epochs of floor(N/b)
// (registry.cpp); the trainer scores, selects (SelectiveBackprop above) and trains from the queue.
std::unique_ptr<Sampler> make_selective_backprop_order(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<RandomOrderSampler>("sb", c, c.epochs, c.train_size / c.batch_size);
}

}  // namespace bts
