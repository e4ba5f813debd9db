#include "train/budget.h"

#include <algorithm>
#include <cmath>

namespace bts {

Budget Budget::of(const TrainConfig& cfg, const Sampler& sampler, int64_t train_size) {
  Budget b;
  b.epochs = sampler.epochs();
  b.iterations_per_epoch = sampler.iterations_per_epoch();
  b.batch = cfg.batch_size;
  b.full_samples = static_cast<double>(cfg.epochs) * static_cast<double>(train_size);
  b.backward_samples = static_cast<int64_t>(std::floor(cfg.budget * b.full_samples + 1e-9));
  b.by_backward_samples = cfg.method == "sb";
  b.step_cap = b.by_backward_samples ? 0
                                     : std::max<int64_t>(1, std::min(b.epochs * b.iterations_per_epoch,
                                                                     b.backward_samples / b.batch));
  b.schedule_iterations = b.by_backward_samples ? std::max<int64_t>(1, (b.backward_samples + b.batch - 1) / b.batch)
                                                : b.step_cap;
  return b;
}

int64_t Budget::schedule_position(int64_t step, const Counters& spent) const {
  const int64_t it = by_backward_samples
                         ? static_cast<int64_t>(static_cast<double>(spent.samples_backward) *
                                                static_cast<double>(schedule_iterations) /
                                                static_cast<double>(std::max<int64_t>(1, backward_samples)))
                         : step;
  return std::min(it, schedule_iterations - 1);
}

nlohmann::json Budget::asked(const TrainConfig& cfg, int64_t train_size) const {
  return {{"budget", cfg.budget},
          {"full_training_epochs", cfg.epochs},
          {"train_size", train_size},
          {"full_training_samples", full_samples},
          {"budget_samples", cfg.budget * full_samples}};
}

}  // namespace bts
