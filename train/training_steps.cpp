// The steps of a run: a training step (forward, loss, statistics, the strategy's hook, backward, SGD; full batches
// recorded and replayed, train/recorded_step.h), the presented batch's step, and selective backprop's scoring step
// and queued training.
#include <memory>

#include "engine/backend.h"
#include "engine/ops.h"
#include "train/training_run.h"

namespace bts {

namespace {
Tensor view_of(const Tensor& t) { return t.defined() ? t.view() : Tensor(); }
}  // namespace

StepInputs StepInputs::views() const {
  return {view_of(images), view_of(labels), view_of(label_weights), view_of(source_slot), view_of(indices), k};
}

// The per-step arguments of the batch build (the augmentation's step and RandAugment's plan, the mixing draws),
// written to device memory in stream order, where the build's kernels read them when they run.
void TrainingRun::set_batch_step(int64_t step) {
  data_.train.set_batch_options(
      BatchOptions{cfg_.seed, static_cast<uint64_t>(step), cfg_.crop_flip, cfg_.randaugment_n, cfg_.randaugment_m});
  mixer_.set_step(static_cast<uint64_t>(step));
}

// The batch build's kernels: gather, RandAugment, crop/flip/normalise, cutout, mixup/RICAP, into the fixed batch
// buffers (buf_.images/labels, the mixer's). Reads only device memory and run-constant values, so a recorded step
// holds it; `timer` is nullptr while recording.
// What a recorded batch build holds besides the fixed buffers: RandAugment on or off and its N, and its scratch.
void TrainingRun::add_build_key(RecordedStepKey& key) const {
  key.addresses.push_back(data_.train.randaugment_scratch_address());
  key.values.push_back(data_.train.randaugment_rounds());
}

void TrainingRun::build_batch_work(const Tensor& idx, PhaseTimer* timer) {
  if (timer) timer->start("augmentation");
  data_.train.build_batch(idx, buf_.images, buf_.labels);
  if (mixer_.active()) mixer_.mix(buf_.images, buf_.labels);
  if (timer) timer->stop("augmentation");
}

// A presented batch's step: the batch build and the training step, recorded together, so with step_graph on the
// whole step (augmentation and mixing included) is one replay.
void TrainingRun::train_presented_batch(int64_t step, const Tensor& idx) {
  set_batch_step(step);
  const double lr = lr_at(step);
  if (mixer_.targets() > 1)
    train_step({mixer_.images().view(), mixer_.labels().view(), mixer_.label_weights().view(),
                mixer_.source_slot().view(), idx.view(), b_},
               lr, /*build_batch=*/true);
  else
    train_step({buf_.images.view(), buf_.labels.view(), Tensor(), Tensor(), idx.view(), b_}, lr, /*build_batch=*/true);
}

// One training step on k images, after building its batch from in.indices when `build_batch` (a presented batch;
// set_batch_step has written the build's arguments). With step_graph on, a full batch goes through the recorded
// step: its indices are copied to a fixed buffer and the learning rate written to the optimizer's device word, in
// stream order, and the work is replayed (or, while warming up, run eagerly on the step tape). Otherwise
// (step_graph off, or a smaller batch: selective backprop's flush) the work runs eagerly on the presented tensors,
// as it always did: the tests compare the two.
void TrainingRun::train_step(const StepInputs& in, double lr, bool build_batch) {
  sgd_->set_lr(lr);
  if (!recorded_step_.enabled() || in.k != b_) {
    if (build_batch) build_batch_work(in.indices, &timer_);
    step_work(in, tape_, &timer_);
  } else {
    // Shared: a recording keeps its inputs for its replays (std::function needs a copyable closure).
    const auto fixed = std::make_shared<StepInputs>(in.views());
    buf_.step_indices.copy_from(in.indices);
    fixed->indices = buf_.step_indices.view();
    RecordedStepKey key;
    for (const Tensor* t : {&fixed->images, &fixed->labels, &fixed->label_weights, &fixed->source_slot})
      key.addresses.push_back(t->defined() ? t->raw() : nullptr);
    key.values = {fixed->k, fixed->labels.numel(), sampler_->recorded_step_key(), build_batch ? 1 : 0};
    if (build_batch) add_build_key(key);
    recorded_step_.run(
        key,
        [this, fixed, build_batch](PhaseTimer* timer) {
          if (build_batch) build_batch_work(fixed->indices, timer);
          step_work(*fixed, step_tape_, timer);
        },
        timer_);
  }
  progress_.last_lr = lr;
  Counters& c = progress_.counters;
  ++c.iterations;
  c.samples_forward += in.k;
  c.samples_backward += sampler_->backward_count(in.k);
  progress_.epoch_trained += in.k;
}

// The step's device work on k images: train-mode forward, loss, statistics, the sampler's hook (importance
// statistics, OSGD's top-q), backward, SGD step (at the rate Sgd::set_lr wrote), presentation counts. Recorded for
// replay, so it reads only device memory and values fixed for the run or named in the recording's key; `timer`
// is nullptr while recording (the replay is timed as one phase).
void TrainingRun::step_work(const StepInputs& in, Tape& tape, PhaseTimer* timer) {
  const auto start = [timer](const char* phase) {
    if (timer) timer->start(phase);
  };
  const auto stop = [timer](const char* phase) {
    if (timer) timer->stop(phase);
  };
  const int64_t k = in.k;
  const int64_t M = in.label_weights.defined() ? in.labels.numel() / k : 1;
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
  start("forward");
  tape.clear();
  model_->zero_grad();
  Targets tg;
  tg.labels = Tensor::wrap(in.labels.raw(), {k, M}, DType::I32, dev_);
  tg.label_weights = Tensor::wrap(M > 1 ? in.label_weights.raw() : buf_.label_weights.raw(), {k, M}, DType::F32, dev_);
  tg.sample_weights = w.view();
  Var logits = model_->forward(tape, tape.input(in.images));
  CrossEntropyResult ce = cross_entropy(tape, logits, tg);
  // Under mixing the training accuracy counts the first target's label (mixup: the image's own).
  be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(), tg.labels.data<int32_t>(),
                            k, logits.value().dim(1), M, buf_.stats.data<double>());
  stop("forward");
  start("strategy");  // the sampler's own per-batch work (importance statistics, OSGD's top-q)
  if (forgetting_) forgetting_->update(logits.value(), in.labels, in.indices);
  BatchView view{in.indices, *ce.loss_per_sample, *ce.prob_per_target, w};
  if (M > 1) {
    view.label_weights = &in.label_weights;
    if (in.source_slot.defined()) view.source_slot = &in.source_slot;  // selective backprop's queue has none
  }
  sampler_->after_forward(view);
  stop("strategy");
  start("backward");
  tape.backward(ce.total);
  stop("backward");
  start("optimizer");
  sgd_->step();
  be.add_counts(in.indices.data<int32_t>(), in.indices.numel(), buf_.counts.data<int32_t>(), w.data<float>());
  stop("optimizer");
}

// Selective backprop's scoring forward on n images: eval mode, no gradients; labels and label weights [n, M]. The
// per-sample losses, in `tape`'s memory.
Tensor TrainingRun::score_batch(const Tensor& images, const Tensor& labels, const Tensor& label_weights, int64_t n,
                                Tape& tape) {
  tape.clear();
  NoGradGuard no_grad(tape);
  model_->set_training(false);
  Targets tg;
  tg.labels = labels.view();
  tg.label_weights = label_weights.view();
  tg.sample_weights = Tensor::wrap(buf_.sample_weights.raw(), {n}, DType::F32, dev_);
  Var logits = model_->forward(tape, tape.input(images));
  CrossEntropyResult ce = cross_entropy(tape, logits, tg);
  model_->set_training(true);
  return ce.loss_per_sample->view();
}

// The scoring forward on n rows, recorded and replayed per shape (train/recorded_step.h) on a tape of its own, or
// with step_graph off eagerly on the eager tape. With `build_from` (recorded only; set_batch_step has run) the
// recording starts with the presented batch's build from those indices, copied to the fixed index buffer first, as
// a training step's does. The losses' view.
Tensor TrainingRun::score_rows(const Tensor& images, const Tensor& labels, const Tensor& label_weights, int64_t n,
                               const Tensor* build_from) {
  if (!recorded_scoring_.enabled()) {
    BTS_CHECK(!build_from, "score_rows: the batch build joins recorded scoring forwards only");
    return score_batch(images, labels, label_weights, n, tape_);
  }
  const auto in = std::make_shared<StepInputs>(
      StepInputs{images.view(), labels.view(), label_weights.view(), Tensor(), Tensor(), n});
  const bool build = build_from != nullptr;
  if (build) {
    buf_.step_indices.copy_from(*build_from);
    in->indices = buf_.step_indices.view();
  }
  RecordedStepKey key{{in->images.raw(), in->labels.raw(), in->label_weights.raw()}, {n, labels.dim(1), build ? 1 : 0}};
  if (build) add_build_key(key);
  // A replay runs no host code: the recording's closure left in scored_losses_ the address its forward writes.
  recorded_scoring_.run(
      key,
      [this, in, key, build](PhaseTimer*) {
        if (build) build_batch_work(in->indices, nullptr);
        scored_losses_[key] = score_batch(in->images, in->labels, in->label_weights, in->k, score_tape_);
      },
      timer_);
  return scored_losses_.at(key).view();
}

// Selective backprop's scoring step: the batch build, the scoring forward on the very tensors a later backward will
// use (under mixup/RICAP the mixed images with their soft targets), then the selection; the kept samples join the
// queue. The forward is recorded and replayed like the training step, and without staleness its recording starts
// with the batch build; with staleness the built batch decides which slots are scored, so it is built first, and
// only the slots whose cached loss is too old are scored, in one of four sizes (SelectiveBackprop::scoring_rows),
// each recorded.
void TrainingRun::sb_scoring_step(int64_t epoch, int64_t step, const Tensor& idx) {
  const bool stale = cfg_.sb_staleness > 0, mixed = mixer_.targets() > 1;
  set_batch_step(step);
  const bool build_in_scoring = !stale && recorded_scoring_.enabled();
  if (!build_in_scoring) build_batch_work(idx, &timer_);
  timer_.start("scoring");
  const int64_t M = mixer_.targets();
  const Tensor no_weights;
  const Tensor& batch_images = mixed ? mixer_.images() : buf_.images;
  const Tensor& batch_labels = mixed ? mixer_.labels() : buf_.labels;
  const Tensor& batch_weights = mixed ? mixer_.label_weights() : no_weights;
  Tensor scored;
  if (stale) {
    const int64_t n_score = sb_->prepare_scoring(epoch, idx, buf_.images, buf_.labels);
    if (n_score > 0) {
      const int64_t rows = sb_->scoring_rows();
      const Tensor losses = score_rows(sb_->scoring_images(rows), sb_->scoring_labels(rows).reshaped({rows, 1}),
                                       Tensor::wrap(buf_.label_weights.raw(), {rows, 1}, DType::F32, dev_), rows);
      scored = Tensor::wrap(losses.raw(), {n_score}, DType::F32, dev_);  // the rows past n_score are padding
      progress_.counters.samples_scored += n_score;
    } else {
      scored = Tensor::wrap(buf_.sample_weights.raw(), {0}, DType::F32, dev_);  // every loss was fresh
    }
    sb_->finish_scoring(epoch, idx, scored);
  } else {
    scored = score_rows(batch_images, batch_labels.reshaped({b_, M}),
                        Tensor::wrap(mixed ? batch_weights.raw() : buf_.label_weights.raw(), {b_, M}, DType::F32, dev_),
                        b_, build_in_scoring ? &idx : nullptr);
    progress_.counters.samples_scored += b_;
  }
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
    train_step({sb_->images(k), sb_->labels(k), weights.defined() ? weights.view() : Tensor(), Tensor(), sb_->indices(k), k},
               last_step ? last_lr() : lr_at(0));
  }
  sb_->pop(progress_.budget_spent ? sb_->queued() : k);
}

}  // namespace bts
