// Selective backprop (Jiang et al. 2019; METHODS.md): every presented batch is first scored by an eval-mode
// forward without gradients; each sample is then kept for backprop with probability
// P = (fraction of the last R losses strictly below its loss)^beta, and kept samples wait in a queue (their
// augmented images exactly as scored) until a full batch of them can train. This class owns the loss history
// and the queue; the trainer runs the forwards and the training steps. Everything stays on the trainer's device
// except one integer per scoring batch (how many were kept).
// Under mixup/RICAP the unit of selection is the mixed image: it is scored with its soft-target loss
// (sum_m w_m CE(y_m)) and queued with its M labels and label weights, so the step that trains it sees exactly the
// loss that was scored. Its data-set index is that of its batch slot (mixup: the image's own sample).
#pragma once
#include <cstdint>

#include "engine/tensor.h"
#include "engine/tensor_file.h"

namespace bts {

struct SelectiveBackpropOptions {
  double beta = 3;              // the official default; the trainer passes 1/B - 1 unless configured
  int64_t history = 1024;       // R
  int64_t prime_epochs = 0;     // epochs [0, prime_epochs) keep every scored sample
  uint64_t seed = 0;
  int64_t staleness = 0;        // > 0: reuse a sample's loss scored at most this many epochs ago
  int64_t train_size = 0;       // N (needed for the loss cache when staleness > 0)
  int64_t targets = 1;          // M: label columns per queued image (2 mixup, 4 RICAP); staleness needs M = 1
};

class SelectiveBackprop {
 public:
  // batch: the scoring and training batch size b; image: {C, H, W} of the (augmented, normalised) batches, which
  // are in `layout` (NCHW or NHWC, as the data set builds them); the queued images keep it (checkpoints hold NCHW).
  SelectiveBackprop(const SelectiveBackpropOptions& options, int64_t batch, const Shape& image, Device device,
                    Layout layout = Layout::NCHW);

  // Appends the b losses of scoring step `step` to the history, decides, and queues the kept samples' images,
  // labels and data-set indices (in slot order). Returns how many were kept. labels hold b x M entries; with
  // M > 1, label_weights ([b, M] F32) are queued beside them (with M = 1 it may be an undefined Tensor).
  int64_t select(int64_t epoch, uint64_t step, const Tensor& loss, const Tensor& images, const Tensor& labels,
                 const Tensor& indices, const Tensor& label_weights = Tensor());
  int64_t queued() const { return queued_; }

  // Staleness variant (options.staleness > 0), before select: slots whose sample's cached loss is fresh take it
  // into batch_loss(); the others (returned count) are gathered into scoring_images/labels for a scoring forward,
  // whose first `count` losses finish_scoring puts back (and caches). Then select(..., batch_loss(), ...).
  // The forward runs on scoring_rows() rows: the count rounded up to a quarter of the batch, so that it comes in
  // four sizes, not b (each size is a cuDNN plan and a recording; a plan built mid-run allocates and waits). The
  // rows past the count hold earlier batches' images and labels (zeros at first): valid inputs whose losses are
  // ignored, and no other row's loss depends on them (the scoring forward is in eval mode).
  int64_t prepare_scoring(int64_t epoch, const Tensor& indices, const Tensor& images, const Tensor& labels);
  int64_t scoring_rows() const;
  Tensor scoring_images(int64_t rows) const;  // rows: scoring_rows()
  Tensor scoring_labels(int64_t rows) const;
  void finish_scoring(int64_t epoch, const Tensor& indices, const Tensor& scored);
  const Tensor& batch_loss() const { return batch_loss_; }
  // Views of the first k queued samples: images [k, C, H, W], labels [k] ([k, M] when M > 1), indices [k];
  // label_weights [k, M] only when M > 1.
  Tensor images(int64_t k) const;
  Tensor labels(int64_t k) const;
  Tensor label_weights(int64_t k) const;
  Tensor indices(int64_t k) const;
  // Drops the first k queued (they trained, or the budget ran out) and moves the rest to the front.
  void pop(int64_t k);

  const SelectiveBackpropOptions& options() const { return opt_; }
  int64_t history_length() const { return appended_ < opt_.history ? appended_ : opt_.history; }
  // Host copy of the current history (tests).
  std::vector<double> history() const;

  void save(TensorMap& m) const;
  void load(const TensorMap& m);

 private:
  SelectiveBackpropOptions opt_;
  int64_t batch_;
  int64_t row_;  // floats per image
  Shape image_;
  Device device_;
  Layout layout_;
  Tensor history_;                          // F32 [R] ring
  int64_t appended_ = 0;                    // losses ever appended
  Tensor queue_images_, queue_labels_, queue_indices_;  // capacity 2b (at most b-1 wait + b new)
  Tensor queue_label_weights_;                            // [2b, M] when M > 1
  int64_t queued_ = 0;
  Tensor slots_;                            // I32 [b] selected slots (device)
  // Staleness: per-sample cached loss and the epoch it was scored; this batch's losses and slots to score.
  Tensor cached_loss_, scored_epoch_, batch_loss_, need_, scoring_images_, scoring_labels_;
  int64_t need_count_ = 0;
};

}  // namespace bts
