// Where a run stands: the budget counters and the position and history that a checkpoint carries
// (state_json in checkpoint.bin), so that a resumed run continues exactly where the interrupted one stopped.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace bts {

// Samples and iterations spent so far (result.json's budget_spent).
struct Counters {
  int64_t iterations = 0, samples_forward = 0, samples_backward = 0, samples_scored = 0;
  nlohmann::json to_json() const;
  void from_json(const nlohmann::json& j);
};

struct RunProgress {
  int64_t epoch = 0;               // the epoch to run next (or the one in progress)
  int64_t iteration_in_epoch = 0;  // the next iteration of that epoch
  int64_t epoch_trained = 0;       // samples trained in that epoch so far
  bool budget_spent = false;       // selective backprop: the backward budget ran out
  double last_lr = 0;              // the LR of the last training step (metrics, progress)
  int64_t sb_presented = 0;        // selective backprop: samples presented for selection (scored or cached)
  Counters counters;
  double best_test_accuracy = -1, last_test_accuracy = -1;
  double elapsed_seconds = 0;      // wall clock spent before this process (resumes add up)
  nlohmann::json history = nlohmann::json::array();  // one metrics line per finished epoch
  std::map<std::string, double> phase_ms;

  nlohmann::json to_json() const;
  // Reads a checkpoint's state; `batch` and `lr_initial` fill what older checkpoints did not record.
  static RunProgress from_json(const nlohmann::json& st, int64_t batch, double lr_initial);
  // Throws unless this is a position the run could have reached: epoch in [0, epochs], iteration below the
  // epoch's length, counters non-negative and consistent (backward <= forward <= iterations x batch), one history
  // line per finished epoch, accuracies in [0, 1] (or -1: none yet), times finite and non-negative.
  void validate(int64_t epochs, int64_t iterations_per_epoch, int64_t batch) const;
};

}  // namespace bts
