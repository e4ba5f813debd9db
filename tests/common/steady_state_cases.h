// Toy trainings under the steady-state guard (engine/steady_state.h): every method and augmentation whose steps
// must neither allocate nor wait for the device once warmed up, and selective backprop, which still reads its
// selection count back per scoring batch (the guard must name that read). The CPU suite runs them on the CPU, where
// the guard sees the same engine and trainer calls a GPU run makes; the GPU suite runs the same cases on the GPU,
// where the CUDA backend's own waits and allocations (scratch growth, count reads) are guarded too.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "engine/steady_state.h"
#include "train/config.h"
#include "train/trainer.h"

namespace bts::test {

struct SteadyStateCase {
  std::string method;
  nlohmann::json extra;     // merged into the config
  std::string waits_at;     // empty: the run must finish under the guard; else what the violation must name
};

inline std::vector<SteadyStateCase> steady_state_cases() {
  return {{"unif-sgd", {}, ""},
          {"scan-sgd", {}, ""},
          // warm-up of one epoch, so the guarded epochs draw by importance (weights, keys, sort on the device)
          {"p-sgd", {{"importance", {{"warmup_epochs", 1}, {"eps", true}}}}, ""},
          {"c-sgd", {{"importance", {{"warmup_epochs", 1}, {"averaging", false}}}}, ""},
          {"osgd", {}, ""},
          {"random-subset", {}, ""},
          {"unif-sgd", {{"augment", {{"mixup_alpha", 0.3}}}}, ""},
          {"p-sgd", {{"augment", {{"ricap_beta", 0.3}}}, {"importance", {{"warmup_epochs", 1}}}}, ""},
          {"unif-sgd", {{"augment", {{"cutout", -1}}}}, ""},
          {"unif-sgd", {{"augment", {{"randaugment_n", 2}, {"randaugment_m", 4}}}}, ""},
          {"unif-sgd", {{"precision", "bf16"}}, ""},
          // Selective backprop decides on the host when a training batch is full: one count read per scoring
          // batch, which the guard must catch (and, with staleness, the split's count first).
          {"sb", {{"sb", {{"beta", 1}}}}, "sb_select"},
          {"sb", {{"sb", {{"beta", 1}, {"staleness", 1}}}}, "sb_split_stale"}};
}

inline nlohmann::json steady_state_case_config(const SteadyStateCase& c, const std::string& device,
                                               const std::string& dir) {
  // 3 epochs of 512 samples, batch 64, B = 0.5: 4 steps per epoch, the last two epochs under the guard.
  nlohmann::json j = {{"dataset", "fashion-mnist"}, {"method", c.method},  {"budget", 0.5},
                      {"epochs", 3},                {"batch_size", 64},    {"model", {{"width", 0.0625}}},
                      {"train_subset", 512},        {"test_subset", 100},  {"device", device},
                      {"run_dir", dir},             {"seed", 3}};
  if (c.extra.is_object()) j.merge_patch(c.extra);
  return j;
}

inline void run_steady_state_cases(const std::string& device, const DataSplit& data) {
  namespace fs = std::filesystem;
  const std::string dir = "bts_steady_state_" + device;
  TrainOptions opt;
  opt.quiet = true;
  opt.data = &data;
  opt.check_steady_state = true;
  for (const SteadyStateCase& c : steady_state_cases()) {
    INFO(c.method << " " << c.extra.dump() << " on " << device);
    fs::remove_all(dir);
    const TrainConfig cfg = config_from_json(steady_state_case_config(c, device, dir));
    if (c.waits_at.empty()) {
      nlohmann::json r;
      CHECK_NOTHROW(r = train(cfg, opt));
      CHECK((r.is_object() && r.value("status", "") == "completed"));
    } else {
      CHECK_THROWS_WITH_AS(train(cfg, opt), doctest::Contains(c.waits_at.c_str()), SteadyStateViolation);
    }
    CHECK_FALSE(steady_state::active());  // the guard never outlives the run, even when it threw
    fs::remove_all(dir);
  }
}

}  // namespace bts::test
