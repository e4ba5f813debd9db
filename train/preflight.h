// A sweep's preflight (`bts check`): every config a sweep is about to run goes through the checks `bts train`
// makes before it trains (keys, types, ranges, combinations, the strategy's budget arithmetic), and every distinct
// data set is read once and each config's subsets checked against it, so a missing data set or a bad override is
// one error before any run starts instead of every run failing on its own.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace bts {

// Combinations no single config field can refuse on its own (RandAugment without crop/flip, forgetting events
// under mixing); train() checks them too.
void check_combination(const TrainConfig& cfg);

struct PreflightError {
  std::string name;  // the point's name
  std::string what;
};

// `points`: a JSON array of {"name": ..., "config": {...}}. Returns one entry per point that would fail.
std::vector<PreflightError> preflight(const nlohmann::json& points);

}  // namespace bts
