// Core-set (Figure 1): the N*B most forgotten samples of a full SGD training that recorded forgetting events.
// The selection run is trained first (or resumed, or reused when it already completed, if its data and training
// length match), then its forgetting.bin ranks the samples; its cost is reported beside the core-set run's.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"
#include "train/run_log.h"
#include "train/trainer.h"

namespace bts {

struct CoresetSelection {
  std::vector<int32_t> subset;       // the chosen data-set indices, sorted
  nlohmann::json info;               // result.json's "core_set"
  bool interrupted = false;          // the selection run stopped early: `result` is its interrupted result
  nlohmann::json result;
};

CoresetSelection select_coreset(const TrainConfig& cfg, const TrainOptions& opt, const RunLog& log);

}  // namespace bts
