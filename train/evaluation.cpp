#include "train/evaluation.h"

#include <algorithm>

#include "engine/backend.h"
#include "engine/ops.h"
#include "engine/steady_state.h"
#include "kernels/common/check.h"

namespace bts {

Evaluator::Evaluator(const DeviceDataset& test, int64_t batch)
    : test_(test),
      batch_(std::max<int64_t>(1, std::min(batch, test.size()))),
      indices_(index_range(0, test.size(), test.device())),
      images_(Tensor::empty({batch_, test.channels(), test.height(), test.width()}, DType::F32, test.device())),
      labels_(Tensor::empty({batch_}, DType::I32, test.device())),
      ones_(Tensor::empty({batch_}, DType::F32, test.device())),
      stats_(Tensor::zeros({2}, DType::F64, test.device())),
      tape_(test.device()) {
  BTS_CHECK(batch > 0, "evaluation batch size " << batch << ": must be positive");
  ones_.fill(1.0);
}

EvalResult Evaluator::run(Model& model) {
  const Device dev = test_.device();
  Backend& be = backend(dev);
  NoGradGuard no_grad(tape_);
  model.set_training(false);
  stats_.zero();
  const int64_t n = test_.size();
  const Layout layout = model.input_layout(dev, test_.channels());  // the buffer holds a batch in either
  for (int64_t start = 0; start < n; start += batch_) {
    const int64_t b = std::min(batch_, n - start);
    tape_.clear();
    const Tensor idx = Tensor::wrap(indices_.data<int32_t>() + start, {b}, DType::I32, dev);
    Tensor images =
        Tensor::wrap(images_.raw(), {b, images_.dim(1), images_.dim(2), images_.dim(3)}, DType::F32, dev, layout);
    Tensor labels = Tensor::wrap(labels_.raw(), {b}, DType::I32, dev);
    test_.make_batch(idx, BatchOptions{0, 0, false}, images, labels);
    Targets tg;
    tg.labels = labels.reshaped({b, 1});
    tg.label_weights = Tensor::wrap(ones_.raw(), {b, 1}, DType::F32, dev);
    tg.sample_weights = Tensor::wrap(ones_.raw(), {b}, DType::F32, dev);
    Var logits = model.forward(tape_, tape_.input(images));
    CrossEntropyResult ce = cross_entropy(tape_, logits, tg);
    be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(),
                              tg.labels.data<int32_t>(), b, logits.value().dim(1), 1, stats_.data<double>());
  }
  model.set_training(true);
  // Let go of the last batch's tensors now: a first evaluation's arena folds to its peak here, not at the start
  // of the next evaluation.
  tape_.clear();
  ++runs_;
  const SteadyStatePause result_read;  // the evaluation's one wait: its two numbers
  const std::vector<double> s = stats_.to_double_vector();
  return {s[0] / static_cast<double>(n), s[1] / static_cast<double>(n)};
}

EvalResult evaluate(Model& model, const DeviceDataset& test, int64_t batch) {
  Evaluator e(test, batch);
  return e.run(model);
}

}  // namespace bts
