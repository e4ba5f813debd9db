// The trainer's recorded step (train/recorded_step.h) against eager steps: every method and augmentation trains the
// same toy run with `step_graph` on and off, and the two must agree bit for bit (each epoch's training loss,
// accuracy and test accuracy, and the final parameters, momentum, BatchNorm statistics and presentation counts),
// while the recorded run must really have replayed its steps. A value a replay kept from its recording instead of
// reading it anew (the learning rate, the batch's indices, ordered SGD's q) would move the parameters.
// The CPU suite runs these on the CPU (replay calls the recorded closure again, with what it captured); the GPU
// suite on the GPU, where replay launches a CUDA graph. One difference: a CPU replay runs the host code again, so
// a host value the step reads through its objects (ordered SGD's q) is fresh there, while a graph keeps the value
// it was captured with. Such values belong in the recording's key; the CPU suite sees them only through the count
// of recordings (min_recordings), the GPU suite through the results.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "engine/tensor_file.h"
#include "train/config.h"
#include "train/trainer.h"

namespace bts::test {

struct RecordedStepCase {
  std::string method;
  nlohmann::json extra;        // merged into the config
  int64_t min_recordings = 1;  // a key that changes during the run (ordered SGD's q) makes new recordings
};

inline std::vector<RecordedStepCase> recorded_step_cases() {
  return {{"unif-sgd", {}},
          {"scan-sgd", {}},
          {"p-sgd", {{"importance", {{"warmup_epochs", 1}}}}},
          {"c-sgd", {{"importance", {{"averaging", false}}}}},
          {"osgd", {}},
          // 64 samples memorised quickly: the training accuracy crosses OSGD's thresholds, so q changes (b, b/2,
          // b/4...) and each change must record anew: a replay with the old q would train the wrong samples.
          {"osgd",
           {{"train_subset", 64}, {"batch_size", 16}, {"epochs", 16}, {"budget", 1}, {"model", {{"width", 0.25}}},
            {"lr", {{"initial", 0.05}, {"schedule", "constant"}}}, {"augment", {{"crop_flip", false}}}},
           3},
          {"unif-sgd", {{"lr", {{"schedule", "step"}}}}},
          {"unif-sgd", {{"record_forgetting", true}}},
          {"unif-sgd", {{"augment", {{"mixup_alpha", 0.3}}}}},
          {"p-sgd", {{"augment", {{"ricap_beta", 0.3}}}}},
          {"unif-sgd", {{"augment", {{"cutout", -1}, {"randaugment_n", 2}, {"randaugment_m", 4}}}}},
          {"unif-sgd", {{"precision", "bf16"}}},
          {"unif-sgd", {{"f32_channels_last", true}}},  // the GPU: fp32 NHWC (the CPU has one layout)
          {"sb", {{"sb", {{"beta", 1}}}}},
          {"sb", {{"sb", {{"beta", 1}}}, {"augment", {{"mixup_alpha", 0.3}}}}},
          // With staleness the scoring forward comes in four sizes (a quarter of the batch each), each recorded.
          // 500 samples in batches of 64: 52 sit out each epoch, so later epochs rescore part of a batch.
          {"sb", {{"sb", {{"beta", 1}, {"staleness", 1}}}, {"train_subset", 500}}}};
}

inline nlohmann::json recorded_step_case_config(const RecordedStepCase& c, const std::string& device,
                                                const std::string& dir, bool step_graph) {
  // 3 epochs of 512 samples, batch 64, B = 0.5: 4 steps per epoch (SB: as many as its kept samples fill).
  nlohmann::json j = {{"dataset", "fashion-mnist"}, {"method", c.method},   {"budget", 0.5},
                      {"epochs", 3},                {"batch_size", 64},     {"model", {{"width", 0.0625}}},
                      {"train_subset", 512},        {"test_subset", 100},   {"device", device},
                      {"run_dir", dir},             {"seed", 9},            {"step_graph", step_graph}};
  if (c.extra.is_object()) j.merge_patch(c.extra);
  return j;
}

inline void check_recorded_steps_equal_eager(const std::string& device, const DataSplit& data, bool cuda_graph) {
  namespace fs = std::filesystem;
  TrainOptions opt;
  opt.quiet = true;
  opt.data = &data;
  for (const RecordedStepCase& c : recorded_step_cases()) {
    INFO(c.method << " " << c.extra.dump() << " on " << device);
    nlohmann::json r[2];
    TensorMap ck[2];
    for (int on = 0; on < 2; ++on) {
      const std::string dir = "bts_recorded_step_" + device + (on ? "_on" : "_off");
      fs::remove_all(dir);
      r[on] = train(config_from_json(recorded_step_case_config(c, device, dir, on == 1)), opt);
      REQUIRE(r[on]["status"] == "completed");
      ck[on] = read_tensor_file((fs::path(dir) / "checkpoint.bin").string());
      fs::remove_all(dir);
    }
    const nlohmann::json& graph = r[1]["step_graph"];
    MESSAGE(c.method << " " << c.extra.dump() << ": " << graph.dump());
    CHECK(r[0]["step_graph"]["replayed_steps"] == 0);
    CHECK(graph["enabled"] == true);
    CHECK(graph["cuda_graph"] == cuda_graph);
    CHECK(graph["recordings"].get<int64_t>() >= c.min_recordings);
    // Every step was replayed but the warm-up ones (two for the first recording, one for each later key), except
    // selective backprop's smaller batches (at most one per epoch: the queue's rest), which run eagerly.
    const int64_t steps = r[1]["budget_spent"]["iterations"], replayed = graph["replayed_steps"],
                  eager = graph["eager_steps"], recordings = graph["recordings"];
    CHECK(eager <= recordings + 1);
    if (c.method == "sb") {
      CHECK(replayed + eager >= steps - static_cast<int64_t>(r[1]["history"].size()));
      // Every scoring forward after two warm-up ones replayed too; with staleness each of its sizes is recorded.
      const int64_t scored = r[1]["budget_spent"]["samples_scored"], b = r[1]["config"]["batch_size"];
      const int64_t presented = r[1]["selective_backprop"]["samples_presented_for_selection"];
      if (r[1]["config"]["sb"]["staleness"] == 0) {
        CHECK(scored == presented);
        const int64_t s_replayed = graph["scoring"]["replayed_steps"], s_eager = graph["scoring"]["eager_steps"],
                      s_recordings = graph["scoring"]["recordings"];
        CHECK(s_replayed + s_eager == scored / b);
        // Two warm-up forwards. On the GPU a recording is also dropped when the device memory it was made over
        // moves (a workspace grown later, e.g. by the epoch's evaluation), and its key warms up once more: one
        // eager forward per further recording.
        if (cuda_graph)
          CHECK(s_eager <= s_recordings + 1);
        else
          CHECK(s_eager == 2);
      } else {
        CHECK(scored < presented);  // some cached losses were reused
        CHECK(graph["scoring"]["recordings"].get<int64_t>() >= 2);  // a full batch (epoch 1) and smaller ones
        CHECK(graph["scoring"]["replayed_steps"].get<int64_t>() > 0);
      }
      CHECK(r[0]["step_graph"]["scoring"]["replayed_steps"] == 0);
    } else
      CHECK(replayed + eager == steps);
    REQUIRE(r[0]["history"].size() == r[1]["history"].size());
    for (size_t e = 0; e < r[0]["history"].size(); ++e) {
      const nlohmann::json &a = r[0]["history"][e], &b = r[1]["history"][e];
      CHECK(a["train_loss"].get<double>() == b["train_loss"].get<double>());
      CHECK(a["train_accuracy"].get<double>() == b["train_accuracy"].get<double>());
      CHECK(a["lr"].get<double>() == b["lr"].get<double>());
      CHECK(a["test_accuracy"] == b["test_accuracy"]);
    }
    CHECK(r[0]["budget_spent"] == r[1]["budget_spent"]);
    for (const char* entry : {"params", "momentum", "buffers", "counts"})
      CHECK_MESSAGE(ck[0].at(entry).to_double_vector() == ck[1].at(entry).to_double_vector(), entry);
  }
}

}  // namespace bts::test
