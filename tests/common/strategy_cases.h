// Every sampling strategy and batch augmentation as a toy run (2 epochs over 2,000 Fashion-MNIST samples at width
// 0.125, B = 0.5; 2,000 so that the rules give different counts: not a multiple of the batch), with the budget counters each must spend, computed from the budget rules (docs/TRAINING.md,
// "What a budget means") rather than from another run. The CPU suite runs them on the CPU, which proves the
// expectations; the GPU suite runs the very same cases on the GPU, without retraining anything on the CPU.
#pragma once
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "train/config.h"
#include "train/trainer.h"

namespace bts::test {

struct StrategyCase {
  std::string method;
  nlohmann::json extra;  // merged into the config
};

inline std::vector<StrategyCase> strategy_cases() {
  return {{"p-sgd", {}},
          {"c-sgd", {}},
          {"osgd", {}},
          {"random-subset", {}},
          {"scan-sgd", {}},
          {"sb", {{"sb", {{"beta", 0}}}}},
          {"sb", {{"sb", {{"beta", 0}}}, {"augment", {{"mixup_alpha", 0.3}}}}},
          {"sb", {{"sb", {{"beta", 0}}}, {"augment", {{"ricap_beta", 0.3}}}}},
          {"p-sgd", {{"augment", {{"mixup_alpha", 0.3}}}}},
          {"p-sgd", {{"augment", {{"ricap_beta", 0.3}}}}},
          {"unif-sgd", {{"augment", {{"cutout", -1}}}}},
          {"unif-sgd", {{"augment", {{"randaugment_n", 2}, {"randaugment_m", 4}}}}}};
}

constexpr int64_t kCaseSamples = 2000, kCaseEpochs = 2, kCaseBatch = 128;
constexpr double kCaseBudget = 0.5;

// Samples backward and samples scored the rules give for these toy runs.
inline std::pair<int64_t, int64_t> expected_counters(const std::string& method) {
  const int64_t N = kCaseSamples, T = kCaseEpochs, b = kCaseBatch;
  const int64_t per_epoch_budgeted = static_cast<int64_t>(std::floor(N * kCaseBudget / b));  // unif/p/c/subset
  const int64_t full = N / b;                                                                // scan, osgd, sb
  const int64_t scan_epochs = static_cast<int64_t>(std::llround(T * kCaseBudget));
  if (method == "scan-sgd") return {scan_epochs * full * b, 0};
  // OSGD: round(T B) epochs of N / b batches; q = b until an epoch ends at >= 80% training accuracy, and the one
  // epoch here ends before q could change.
  if (method == "osgd") return {scan_epochs * full * b, 0};
  // SB with beta 0 keeps every scored sample: B T N samples go backward (the last step cut to fit), and scoring
  // stops after the batch that fills the budget: ceil(B T N / b) full scoring batches.
  if (method == "sb") {
    const int64_t budget = static_cast<int64_t>(std::floor(kCaseBudget * T * N));
    return {budget, (budget + b - 1) / b * b};
  }
  return {T * per_epoch_budgeted * b, 0};
}

inline nlohmann::json strategy_case_config(const StrategyCase& c, const std::string& device, const std::string& dir) {
  nlohmann::json j = {{"dataset", "fashion-mnist"},   {"method", c.method},
                      {"budget", kCaseBudget},        {"epochs", kCaseEpochs},
                      {"model", {{"width", 0.125}}},  {"train_subset", kCaseSamples},
                      {"test_subset", 500},           {"device", device},
                      {"run_dir", dir}};
  if (c.extra.is_object()) j.merge_patch(c.extra);
  return j;
}

// Runs every case on `device` with the data read once; checks the counters against the rules, and that the run ends
// with a finite loss. Learning itself is not checked here: 14 steps on augmented toy data can stay at chance
// (RandAugment did, at 0.114); the GPU suite's 3-epoch run (> 70%) and the CPU suites check it.
inline void run_strategy_cases(const std::string& device, const DataSplit& data) {
  namespace fs = std::filesystem;
  const std::string dir = "bts_strategy_case_" + device;
  TrainOptions opt{false, true, 0};
  opt.data = &data;
  for (const StrategyCase& c : strategy_cases()) {
    fs::remove_all(dir);
    const nlohmann::json r = train(config_from_json(strategy_case_config(c, device, dir)), opt);
    fs::remove_all(dir);
    const auto [backward, scored] = expected_counters(c.method);
    INFO(c.method << " " << c.extra.dump() << " on " << device);
    std::printf("  %-8s %-50s backward %lld (rule %lld), scored %lld (rule %lld), test accuracy %.3f\n",
                c.method.c_str(), c.extra.dump().c_str(),
                static_cast<long long>(r["budget_spent"]["samples_backward"].get<int64_t>()),
                static_cast<long long>(backward),
                static_cast<long long>(r["budget_spent"]["samples_scored"].get<int64_t>()),
                static_cast<long long>(scored), r["final_test_accuracy"].get<double>());
    CHECK(r["budget_spent"]["samples_backward"].get<int64_t>() == backward);
    CHECK(r["budget_spent"]["samples_scored"].get<int64_t>() == scored);
    CHECK(std::isfinite(r["history"].back()["train_loss"].get<double>()));
    // Every method's last training step runs at the linear schedule's last value (the default lr.final, 1e-6).
    CHECK(r["history"].back()["lr"].get<double>() == doctest::Approx(1e-6).epsilon(1e-9));
  }
}

}  // namespace bts::test
