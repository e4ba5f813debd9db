#include "train/evaluation.h"

#include <algorithm>

#include "engine/backend.h"
#include "engine/ops.h"

namespace bts {

EvalResult evaluate(Model& model, const DeviceDataset& test, int64_t batch) {
  const Device dev = test.device();
  Backend& be = backend(dev);
  Tape tape(dev);
  NoGradGuard no_grad(tape);
  model.set_training(false);
  Tensor stats = Tensor::zeros({2}, DType::F64, dev);
  const int64_t n = test.size();
  // Target weights made once (accuracy and mean loss come from the per-sample outputs, not the weighted total).
  Tensor ones = Tensor::empty({batch}, DType::F32);
  ones.fill(1.0);
  ones = ones.to(dev);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    tape.clear();
    Tensor idx = index_range(start, b, dev);
    Batch bt = test.batch(idx, BatchOptions{0, 0, false});
    Targets tg;
    tg.labels = bt.labels.reshaped({b, 1});
    tg.label_weights = Tensor::wrap(ones.raw(), {b, 1}, DType::F32, dev);
    tg.sample_weights = Tensor::wrap(ones.raw(), {b}, DType::F32, dev);
    Var logits = model.forward(tape, tape.input(bt.images));
    CrossEntropyResult ce = cross_entropy(tape, logits, tg);
    be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(),
                              tg.labels.data<int32_t>(), b, logits.value().dim(1), 1, stats.data<double>());
  }
  model.set_training(true);
  const std::vector<double> s = stats.to_double_vector();
  return {s[0] / static_cast<double>(n), s[1] / static_cast<double>(n)};
}

}  // namespace bts
