// A run directory has one writer, a finished run is never overwritten, a run resumes from wherever its directory
// now lives with metrics.jsonl consistent with its checkpoint, and divergence stops a run with a finite checkpoint.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/tensor_file.h"
#include "tests/common/helpers.h"
#include "tests/common/toy_run.h"
#include "train/config.h"
#include "train/run_lock.h"
#include "train/trainer.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
json toy(const std::string& run_dir) { return bts::test::toy_config(run_dir); }
TrainOptions quiet() {
  TrainOptions o;
  o.quiet = true;
  return o;
}
std::vector<int64_t> metric_epochs(const fs::path& dir) {
  std::vector<int64_t> epochs;
  std::ifstream in(dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) epochs.push_back(json::parse(line)["epoch"].get<int64_t>());
  return epochs;
}
}  // namespace

TEST_SUITE("run_safety") {

TEST_CASE("a second writer on a run directory is refused at once, naming the holder") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string d = "bts_test_locked";
  fs::remove_all(d);
  fs::create_directories(d);
  {
    RunLock holder(d);  // another open file description: flock conflicts as with another process
    CHECK_THROWS_WITH_AS(train(config_from_json(toy(d)), quiet()), doctest::Contains("in use by another process (pid "),
                         Error);
    CHECK_FALSE(fs::exists(fs::path(d) / "config.json"));
  }
  // Released: the run goes ahead, and stale temporaries of a killed writer are cleared first.
  std::ofstream(fs::path(d) / "checkpoint.bin.tmp.999999") << "torn";
  TrainOptions stop = quiet();
  stop.stop_after_steps = 3;
  CHECK(train(config_from_json(toy(d)), stop)["status"] == "interrupted");
  CHECK_FALSE(fs::exists(fs::path(d) / "checkpoint.bin.tmp.999999"));
  fs::remove_all(d);
}

TEST_CASE("a finished run is never overwritten, even without its checkpoint") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string d = "bts_test_finished";
  fs::remove_all(d);
  json c = toy(d);
  c["epochs"] = 1;
  CHECK(train(config_from_json(c), quiet())["status"] == "completed");
  fs::remove(fs::path(d) / "checkpoint.bin");
  c["seed"] = 9;
  CHECK_THROWS_WITH_AS(train(config_from_json(c), quiet()), doctest::Contains("holds a finished run"), Error);
  fs::remove_all(d);
}

TEST_CASE("resume from a moved directory, after a kill between the metrics line and the checkpoint") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string a = "bts_test_move_a", b = "bts_test_move_b", moved = "bts_test_move_b_moved";
  for (const auto& d : {a, b, moved}) fs::remove_all(d);
  const json ra = train(config_from_json(toy(a)), quiet());
  TrainOptions stop = quiet();
  stop.stop_after_steps = 19;  // mid-epoch 3 (8 iterations per epoch): the checkpoint holds epoch 2 + 3 steps
  CHECK(train(config_from_json(toy(b)), stop)["status"] == "interrupted");
  // As if killed after writing epoch 3's metrics line (and half of another) but before its checkpoint.
  std::ofstream(fs::path(b) / "metrics.jsonl", std::ios::app) << "{\"epoch\": 3, \"train_loss\": 1}\n{\"epo";
  fs::rename(b, moved);
  const json rb = train(config_from_json(toy(moved)), TrainOptions{true, true, 0});
  CHECK(rb["status"] == "completed");
  CHECK(metric_epochs(moved) == std::vector<int64_t>{1, 2, 3});
  for (size_t e = 0; e < 3; ++e)
    CHECK(rb["history"][e]["train_loss"].get<double>() == ra["history"][e]["train_loss"].get<double>());
  TensorMap ka = read_tensor_file((fs::path(a) / "checkpoint.bin").string());
  TensorMap kb = read_tensor_file((fs::path(moved) / "checkpoint.bin").string());
  CHECK(ka.at("params").to_double_vector() == kb.at("params").to_double_vector());
  for (const auto& d : {a, b, moved}) fs::remove_all(d);
}

TEST_CASE("divergence stops the run, naming the epoch and the finite checkpoint kept") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string d = "bts_test_diverge";
  fs::remove_all(d);
  json c = toy(d);
  c["lr"] = {{"schedule", "constant"}, {"initial", 1e4}};
  try {
    train(config_from_json(c), quiet());
    FAIL("a run at lr 1e4 finished");
  } catch (const Error& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("diverged") != std::string::npos);
    CHECK((m.find("no checkpoint was written") != std::string::npos ||
           m.find("(checked finite when written)") != std::string::npos));
  }
  // The error is at the end of the run's log.txt (the run had begun training).
  {
    std::ifstream log(fs::path(d) / "log.txt");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    CHECK(text.find("error: training") != std::string::npos);
  }
  // Whatever checkpoint was kept is finite.
  if (fs::exists(fs::path(d) / "checkpoint.bin")) {
    TensorMap k = read_tensor_file((fs::path(d) / "checkpoint.bin").string());
    for (double v : k.at("params").to_double_vector()) REQUIRE(std::isfinite(v));
  }
  fs::remove_all(d);
}

TEST_CASE("a run that fails before it starts leaves no directory behind") {
  const std::string d = "bts_test_failed_start";
  fs::remove_all(d);
  json c = toy(d);
  c["data_dir"] = "bts_test_no_such_data_folder";
  CHECK_THROWS_WITH_AS(train(config_from_json(c), quiet()), doctest::Contains("Fashion-MNIST"), Error);
  CHECK_FALSE(fs::exists(d));
}

}  // TEST_SUITE
