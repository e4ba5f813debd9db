// Budget accounting (METHODS.md): how many epochs and iterations a budgeted run does, how many backward samples
// the budget buys (B*T*N), and where in its LR schedule each training step sits.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "train/config.h"
#include "train/run_progress.h"
#include "train/strategies/sampler.h"

namespace bts {

struct Budget {
  int64_t epochs = 0;                // epochs this run does (the sampler's)
  int64_t iterations_per_epoch = 0;  // presented batches per epoch (scoring batches for selective backprop)
  int64_t batch = 0;
  double full_samples = 0;           // T*N: the backward samples of the full training
  int64_t backward_samples = 0;      // floor(B*T*N): what the budget buys
  // The LR schedule's length: every presented batch trains once, except under selective backprop, which trains
  // as many steps as its backward budget buys (its epoch-end flushes add partial steps).
  int64_t schedule_iterations = 0;
  bool by_backward_samples = false;  // selective backprop: the schedule advances with backward samples spent
  // Every other method: at most floor(B*T*N / b) training steps. Only whole-epoch methods (scan-SGD, OSGD) with a
  // fractional T*B reach it before their last epoch ends; for the others it equals or exceeds their plan.
  int64_t step_cap = 0;

  static Budget of(const TrainConfig& cfg, const Sampler& sampler, int64_t train_size);
  // The schedule position of the training step about to run: the global presented step, or (selective
  // backprop) the backward samples spent so far in units of batches; clamped to the schedule's last iteration.
  int64_t schedule_position(int64_t step, const Counters& spent) const;
  // result.json's "budget_asked".
  nlohmann::json asked(const TrainConfig& cfg, int64_t train_size) const;
};

}  // namespace bts
