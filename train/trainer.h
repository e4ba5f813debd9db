// The budgeted trainer: runs one experiment (a TrainConfig) end to end and writes its run directory:
//   config.json        the resolved config
//   metrics.jsonl      one JSON line per epoch (train loss/accuracy, test accuracy, LR, counters, phase times)
//   result.json        the final result: budget asked and spent, final/best accuracy, entropy, wall-clock
//   sample_counts.bin  per-sample presentation counts (tensor file, I32 "counts")
//   checkpoint.bin     model, optimizer, BN statistics, sampler state, counters (every K epochs, on SIGINT/SIGTERM)
// Everything is written to a temporary file and renamed. A resumed run repeats an uninterrupted one bitwise on
// the same device. A NaN/inf loss stops the run with a message and keeps the last good checkpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "train/config.h"

namespace bts {

struct TrainOptions {
  bool resume = false;  // continue from run_dir/checkpoint.bin (must exist, config must match)
  bool quiet = false;   // no progress lines (tests)
  // Tests: stop (as if interrupted) after this many global steps; 0 = never.
  int64_t stop_after_steps = 0;
  // Prove the steady state (engine/steady_state.h): from the second epoch this process trains on, the sampler's
  // draw and every step run under the guard, and the run fails naming the first allocation or wait for the device
  // it meets. Progress lines, evaluation and checkpoints stay outside. `bts train --check-steady-state`.
  bool check_steady_state = false;
  // In-process callers running many short trainings (the GPU strategy test): the configured data set, already
  // read, used (copied) instead of reading it again. Its name must be the config's dataset.
  const DataSplit* data = nullptr;
};

// Runs the experiment; returns result.json's content. Throws bts::Error on bad input; returns with
// result["status"] == "interrupted" when stopped by a signal (a checkpoint was written).
nlohmann::json train(const TrainConfig& config, const TrainOptions& options = {});

// Test-set accuracy of the checkpoint in a run directory (bts eval).
nlohmann::json evaluate_run(const std::string& run_dir, const std::string& device = "auto");

// H(c) = -sum c_i ln c_i of counts normalised to sum 1 (0 ln 0 = 0); ln N at most.
double count_entropy(const std::vector<int32_t>& counts);

}  // namespace bts
