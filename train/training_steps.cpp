// The steps of a run: a training step (forward, loss, statistics, the strategy's hook, backward, SGD), the
// presented batch's step, and selective backprop's scoring step and queued training.
#include "engine/backend.h"
#include "engine/ops.h"
#include "train/training_run.h"

namespace bts {

void TrainingRun::train_presented_batch(int64_t step, const Tensor& idx) {
  const double lr = lr_at(step);
  if (mixer_.targets() > 1)
    train_step({mixer_.images(), mixer_.labels(), &mixer_.label_weights(), &mixer_.source_slot(), idx, b_}, lr);
  else
    train_step({buf_.images, buf_.labels, nullptr, nullptr, idx, b_}, lr);
}

// One training step on k images: train-mode forward, loss, statistics, the sampler's hook (importance
// statistics, OSGD's top-q), backward, SGD step, presentation counts.
void TrainingRun::train_step(const StepInputs& in, double lr) {
  const int64_t k = in.k;
  const int64_t M = in.label_weights ? in.labels.numel() / k : 1;
  Tensor* weights = &buf_.sample_weights;
  if (k != b_) {
    if (buf_.partial_k != k) {
      buf_.partial_weights.fill(1.0 / static_cast<double>(k));
      buf_.partial_k = k;
    }
    weights = &buf_.partial_weights;
  }
  Tensor w = Tensor::wrap(weights->raw(), {k}, DType::F32, dev_);
  Backend& be = backend(dev_);
  timer_.start("forward");
  tape_.clear();
  model_->zero_grad();
  Targets tg;
  tg.labels = Tensor::wrap(in.labels.raw(), {k, M}, DType::I32, dev_);
  tg.label_weights = Tensor::wrap(M > 1 ? in.label_weights->raw() : buf_.label_weights.raw(), {k, M}, DType::F32, dev_);
  tg.sample_weights = w.view();
  Var logits = model_->forward(tape_, tape_.input(in.images));
  CrossEntropyResult ce = cross_entropy(tape_, logits, tg);
  // Under mixing the training accuracy counts the first target's label (mixup: the image's own).
  be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(), tg.labels.data<int32_t>(),
                            k, logits.value().dim(1), M, buf_.stats.data<double>());
  timer_.stop("forward");
  timer_.start("strategy");  // the sampler's own per-batch work (importance statistics, OSGD's top-q)
  if (forgetting_) forgetting_->update(logits.value(), in.labels, in.indices);
  BatchView view{in.indices, *ce.loss_per_sample, *ce.prob_per_target, w};
  if (M > 1) {
    view.label_weights = in.label_weights;
    view.source_slot = in.source_slot;
  }
  sampler_->after_forward(view);
  timer_.stop("strategy");
  timer_.start("backward");
  tape_.backward(ce.total);
  timer_.stop("backward");
  timer_.start("optimizer");
  sgd_->step(lr);
  progress_.last_lr = lr;
  be.add_counts(in.indices.data<int32_t>(), in.indices.numel(), buf_.counts.data<int32_t>(), w.data<float>());
  timer_.stop("optimizer");
  Counters& c = progress_.counters;
  ++c.iterations;
  c.samples_forward += k;
  c.samples_backward += sampler_->backward_count(k);
  progress_.epoch_trained += k;
}

// Selective backprop's scoring forward: eval mode, no gradients, on the very tensors a later backward will use
// (under mixup/RICAP the mixed images with their soft targets); the kept samples join the queue. With staleness,
// only the slots whose cached loss is too old are scored (a smaller forward).
void TrainingRun::sb_scoring_step(int64_t epoch, int64_t step, const Tensor& idx) {
  timer_.start("scoring");
  const bool stale = cfg_.sb_staleness > 0, mixed = mixer_.targets() > 1;
  const Tensor no_weights;
  const Tensor& batch_images = mixed ? mixer_.images() : buf_.images;
  const Tensor& batch_labels = mixed ? mixer_.labels() : buf_.labels;
  const Tensor& batch_weights = mixed ? mixer_.label_weights() : no_weights;
  const int64_t n_score = stale ? sb_->prepare_scoring(epoch, idx, buf_.images, buf_.labels) : b_;
  tape_.clear();
  NoGradGuard no_grad(tape_);
  Tensor scored;
  if (n_score > 0) {
    model_->set_training(false);
    const int64_t M = mixer_.targets();
    Targets tg;
    tg.labels = stale ? sb_->scoring_labels(n_score).reshaped({n_score, 1}) : batch_labels.reshaped({b_, M});
    tg.label_weights = Tensor::wrap(mixed ? batch_weights.raw() : buf_.label_weights.raw(), {n_score, M}, DType::F32,
                                    dev_);
    tg.sample_weights = Tensor::wrap(buf_.sample_weights.raw(), {n_score}, DType::F32, dev_);
    Var logits = model_->forward(tape_, tape_.input(stale ? sb_->scoring_images(n_score) : batch_images.view()));
    CrossEntropyResult ce = cross_entropy(tape_, logits, tg);
    model_->set_training(true);
    scored = ce.loss_per_sample->view();
    progress_.counters.samples_scored += n_score;
  }
  if (!scored.defined()) scored = Tensor::empty({0}, DType::F32, dev_);  // every loss was fresh
  if (stale) sb_->finish_scoring(epoch, idx, scored);
  sb_->select(epoch, static_cast<uint64_t>(step), stale ? sb_->batch_loss() : scored, batch_images, batch_labels, idx,
              batch_weights);
  progress_.sb_presented += b_;
  timer_.stop("scoring");
}

// Selective backprop: trains k queued samples, or fewer when the budget runs out first (then the run ends).
void TrainingRun::sb_train_queued(int64_t k) {
  if (cfg_.sb_exact_budget) {
    const int64_t left = budget_.backward_samples - progress_.counters.samples_backward;
    if (left <= k) {
      k = left;
      progress_.budget_spent = true;
    }
  }
  if (k > 0) {
    const Tensor weights = mixer_.targets() > 1 ? sb_->label_weights(k) : Tensor();
    // Selective backprop's schedule position is the backward samples spent (lr_at's step is unused). Its last
    // step, whether the budget or the epochs run out first, takes the schedule's last LR: when the epochs end
    // first the samples spent fall short of the budget (e.g. 53.0k of 54k) and the LR would stop short of
    // lr.final.
    const bool last_step = progress_.budget_spent || (last_presentation_ && k == sb_->queued());
    train_step({sb_->images(k), sb_->labels(k), weights.defined() ? &weights : nullptr, nullptr, sb_->indices(k), k},
               last_step ? last_lr() : lr_at(0));
  }
  sb_->pop(progress_.budget_spent ? sb_->queued() : k);
}

}  // namespace bts
