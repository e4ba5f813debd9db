// Core-set by forgetting events (Toneva et al. 2018; METHODS.md): the event counting on a hand-made sequence
// of predictions, the ranking (never learned first, then most forgotten), and the whole path through the trainer
// (a selection run recording forgetting events, reused by a second core-set run).
#include <algorithm>
#include <filesystem>

#include "train/config.h"
#include "train/strategies/coreset.h"
#include "engine/tensor_file.h"
#include "train/trainer.h"
#include "kernels/cpu/forgetting.h"
#include "tests/common/helpers.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("coreset") {

TEST_CASE("forgetting events: correct -> wrong transitions, per sample, from the logits' argmax") {
  // Two samples (indices 0 and 1), label 1, K = 2; sample 0 goes right, wrong, right, wrong (2 events);
  // sample 1 goes wrong, right, right (0 events). A tie (equal logits) predicts class 0, as torch.argmax.
  std::vector<int32_t> last(2, 0), ever(2, 0), forgets(2, 0);
  const int32_t labels[] = {1, 1}, idx[] = {0, 1};
  auto step = [&](float a0, float a1, float b0, float b1) {
    const float logits[] = {a0, a1, b0, b1};
    kernels::cpu::update_forgetting(logits, labels, idx, 2, 2, last.data(), ever.data(), forgets.data());
  };
  step(0, 1, 1, 0);
  step(1, 0, 0, 1);
  step(0, 1, 0, 1);
  step(2, 2, 0, 1);  // tie: class 0, wrong
  CHECK(forgets == std::vector<int32_t>{2, 0});
  CHECK(ever == std::vector<int32_t>{1, 1});
  CHECK(last == std::vector<int32_t>{0, 1});
}

TEST_CASE("most forgotten: never-learned first, then by forgetting count; ties broken by the seed") {
  const std::string path = "bts_test_forgetting.bin";
  TensorMap m;
  //                                         0  1  2  3  4  5
  m.emplace("forgets", Tensor::from_vector<int32_t>({0, 5, 1, 0, 2, 2}, {6}));
  m.emplace("ever_correct", Tensor::from_vector<int32_t>({1, 1, 1, 0, 1, 1}, {6}));
  write_tensor_file(path, m);
  CHECK(most_forgotten(path, 1, 0) == std::vector<int32_t>{3});  // never learned beats 5 events
  CHECK(most_forgotten(path, 2, 0) == std::vector<int32_t>{1, 3});
  CHECK(most_forgotten(path, 4, 0) == std::vector<int32_t>{1, 3, 4, 5});
  // k = 3 must take one of the tied samples 4 and 5; different seeds pick both.
  bool saw4 = false, saw5 = false;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const auto s = most_forgotten(path, 3, seed);
    REQUIRE(s.size() == 3);
    CHECK(s[0] == 1);
    CHECK(s[1] == 3);
    saw4 |= s[2] == 4;
    saw5 |= s[2] == 5;
  }
  CHECK(saw4);
  CHECK(saw5);
  CHECK_THROWS_AS(most_forgotten(path, 7, 0), Error);
  // Sample 3 was never presented (count 0): not "never learned", it ranks last.
  CHECK(most_forgotten(path, 1, 0, {1, 1, 1, 0, 1, 1}) == std::vector<int32_t>{1});
  CHECK(most_forgotten(path, 5, 0, {1, 1, 1, 0, 1, 1}) == std::vector<int32_t>{0, 1, 2, 4, 5});
  fs::remove(path);
}

TEST_CASE("core-set through the trainer: selection run, its cost reported, the subset trained, reuse") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  const std::string dir = "bts_test_coreset", sel = "bts_test_coreset_selection";
  fs::remove_all(dir);
  fs::remove_all(sel);
  json c = {{"dataset", "fashion-mnist"}, {"method", "core-set"}, {"budget", 0.25}, {"epochs", 2},
            {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 512}, {"test_subset", 100},
            {"device", "cpu"}, {"run_dir", dir}, {"seed", 2}, {"coreset", {{"selection_run", sel}}}};
  TrainOptions quiet;
  quiet.quiet = true;
  const json r = train(config_from_json(c), quiet);
  REQUIRE(fs::exists(fs::path(sel) / "forgetting.bin"));
  CHECK(r["core_set"]["subset_size"] == 128);
  CHECK(r["core_set"]["selection_budget_spent"]["samples_backward"] == 2 * 16 * 32);  // full SGD, 2 epochs
  CHECK(r["core_set"]["selection_wall_clock_seconds"].get<double>() > 0);
  CHECK(r["budget_spent"]["samples_backward"] == 2 * 4 * 32);
  // Exactly the most forgotten 128 were trained: counts are nonzero only on them.
  const std::vector<int32_t> chosen = most_forgotten((fs::path(sel) / "forgetting.bin").string(), 128, 2);
  const std::vector<double> counts =
      read_tensor_file((fs::path(dir) / "sample_counts.bin").string()).at("counts").to_double_vector();
  int64_t outside = 0;
  for (int64_t i = 0; i < 512; ++i)
    if (counts[static_cast<size_t>(i)] > 0 && !std::binary_search(chosen.begin(), chosen.end(), i)) ++outside;
  CHECK(outside == 0);
  // A second core-set run with another budget reuses the selection run (no second selection training).
  const auto stamp = fs::last_write_time(fs::path(sel) / "forgetting.bin");
  json c2 = c;
  c2["budget"] = 0.5;
  c2["run_dir"] = dir + "2";
  fs::remove_all(dir + "2");
  const json r2 = train(config_from_json(c2), quiet);
  CHECK(r2["core_set"]["subset_size"] == 256);
  CHECK(fs::last_write_time(fs::path(sel) / "forgetting.bin") == stamp);
  for (const auto& d : {dir, dir + "2", sel}) fs::remove_all(d);
}

}  // TEST_SUITE
