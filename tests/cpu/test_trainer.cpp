// The budgeted trainer end to end on real Fashion-MNIST (Debian's dataset-fashion-mnist), at toy size:
// config validation, budget counters, result files, entropy, and bitwise resume after an interruption.
#include <filesystem>
#include <fstream>

#include "train/config.h"
#include "train/preflight.h"
#include "engine/tensor_file.h"
#include "train/trainer.h"
#include "tests/common/helpers.h"
#include "tests/common/toy_run.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

using bts::test::toy_config;

TEST_SUITE("trainer") {

TEST_CASE("config: defaults, every error names the key, the value and what is allowed") {
  TrainConfig c = config_from_json(json::object());
  CHECK(c.method == "unif-sgd");
  CHECK(c.weight_decay == 1e-4);
  CHECK(c.batch_size == 128);
  CHECK(c.step_graph);  // recorded steps on, f32 stays NCHW until measured
  CHECK_FALSE(c.f32_channels_last);
  CHECK_THROWS_WITH_AS(config_from_json({{"step_graph", "yes"}}), doctest::Contains("'step_graph'"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"f32_channels_last", 2}}), doctest::Contains("true or false"), Error);
  {
    const TrainConfig t = config_from_json({{"step_graph", false}, {"f32_channels_last", true}});
    const TrainConfig back = config_from_json(config_to_json(t));
    CHECK_FALSE(back.step_graph);
    CHECK(back.f32_channels_last);
  }
  CHECK(c.batchnorm == "own");
  CHECK(config_from_json(config_to_json(config_from_json({{"batchnorm", "cudnn"}}))).batchnorm == "cudnn");
  CHECK_THROWS_WITH_AS(config_from_json({{"batchnorm", "fused"}}), doctest::Contains("own, cudnn"), Error);
  // cuDNN's BatchNorm is the CUDA backend's; the CPU refuses it with a reason (a run fails before any work).
  CHECK_THROWS_WITH_AS(backend(Device::CPU).set_batchnorm_cudnn(true), doctest::Contains("needs cuDNN"), Error);
  backend(Device::CPU).set_batchnorm_cudnn(false);
  CHECK_THROWS_WITH_AS(config_from_json({{"bugdet", 0.3}}), doctest::Contains("unknown config key 'bugdet'"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"budget", 1.5}}), doctest::Contains("(0, 1]"), Error);
  // Negative numbers never wrap into unsigned fields; huge whole numbers never overflow integer ones.
  CHECK_THROWS_WITH_AS(config_from_json({{"seed", -5}}), doctest::Contains("'seed' has value -5"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"train_subset", 1e300}}), doctest::Contains("'train_subset'"), Error);
  CHECK(config_from_json({{"seed", 5.0}}).seed == 5);
  // Nor do whole numbers past a 32-bit field's range wrap (4294967296 read as a pad of 0 before).
  CHECK_THROWS_WITH_AS(config_from_json({{"augment", {{"pad", 4294967296LL}}}}),
                       doctest::Contains("'augment.pad' has value 4294967296"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"augment", {{"pad", -4294967292LL}}}}), doctest::Contains("'augment.pad'"),
                       Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"augment", {{"cutout", 4294967297.0}}}}),
                       doctest::Contains("'augment.cutout'"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"augment", {{"randaugment_n", 4294967298ULL}}}}),
                       doctest::Contains("'augment.randaugment_n'"), Error);
  CHECK(config_from_json({{"augment", {{"pad", 16.0}}}}).pad == 16);
  CHECK(config_from_json({{"seed", 18446744073709551615ULL}}).seed == 18446744073709551615ULL);
  // Counts the budget multiplies stay far from int64's end: epochs = 1e18 stopped a run after one step, "done".
  CHECK_THROWS_WITH_AS(config_from_json({{"epochs", 1000000000000000000LL}}), doctest::Contains("1..1000000"),
                       Error);
  CHECK(config_from_json({{"epochs", kMaxEpochs}}).epochs == kMaxEpochs);
  CHECK_THROWS_WITH_AS(config_from_json({{"method", "sb"}, {"budget", 0.3}, {"sb", {{"history", kMaxSbHistory + 1}}}}),
                       doctest::Contains("'sb.history'"), Error);
  {
    // A deeply nested value is described, not printed (printing recursed and overflowed the stack).
    json deep = 1;
    for (int i = 0; i < 100000; ++i) deep = json{{"model", std::move(deep)}};
    CHECK_THROWS_WITH_AS(config_from_json(deep), doctest::Contains("unknown config key 'model.model'"), Error);
    json arr = json::array({json::array({json::array({1})})});
    CHECK_THROWS_WITH_AS(config_from_json({{"budget", arr}}), doctest::Contains("an array of 1 entries"), Error);
  }
  CHECK_THROWS_WITH_AS(config_from_json({{"budget", "big"}}), doctest::Contains("'budget' has value \"big\""), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"epochs", 2.5}}), doctest::Contains("integer"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"lr", {{"schedule", "cosine"}}}}), doctest::Contains("lr.schedule"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"model", {{"depth", 50}}}}), doctest::Contains("model.depth"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"method", "sgd"}, {"budget", 0.3}}), doctest::Contains("budget 1"), Error);
  CHECK_THROWS_WITH_AS(config_from_json({{"model", 3}}), doctest::Contains("must be an object"), Error);
  json j = json::object();
  apply_override(j, "optimizer.weight_decay=5e-4");
  apply_override(j, "method=scan-sgd");
  apply_override(j, "augment.crop_flip=false");
  TrainConfig o = config_from_json(j);
  CHECK(o.weight_decay == 5e-4);
  CHECK(o.method == "scan-sgd");
  CHECK_FALSE(o.crop_flip);
  CHECK(config_from_json(config_to_json(o)).method == "scan-sgd");  // the resolved config reads back
  CHECK_THROWS_AS(apply_override(j, "novalue"), Error);
  // A config that is not an object, or a key with an empty part: one clear error (found by fuzz_config), not the
  // JSON library's exception.
  nlohmann::json number = 11111;
  CHECK_THROWS_WITH_AS(apply_override(number, "seed=1"), doctest::Contains("not an object of settings"), Error);
  CHECK_THROWS_WITH_AS(apply_override(j, "model..width=1"), doctest::Contains("empty part"), Error);
  CHECK_THROWS_WITH_AS(apply_override(j, "model.=1"), doctest::Contains("empty part"), Error);
}

TEST_CASE("config files: a key twice in one object is refused, errors name the file") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "bts_read_json_file";
  std::filesystem::create_directories(dir);
  const std::string f = (dir / "c.json").string();
  auto write = [&](const std::string& text) { std::ofstream(f, std::ios::trunc) << text; };
  write(R"({"budget": 0.5, "model": {"width": 0.5}, "budget": 0.7})");
  CHECK_THROWS_WITH_AS(read_json_file(f), doctest::Contains("key 'budget' appears twice"), Error);
  write(R"({"model": {"width": 0.5, "width": 1}})");
  CHECK_THROWS_WITH_AS(read_json_file(f), doctest::Contains("key 'width' appears twice"), Error);
  // The same key in different objects, and in sibling objects of a list, is fine.
  write(R"({"a": {"width": 1}, "b": {"width": 2}, "c": [{"k": 1}, {"k": 2}]})");
  CHECK(read_json_file(f)["b"]["width"] == 2);
  write(R"({"budget": 0.5,)");
  const std::string invalid = f + "' is not valid JSON";
  CHECK_THROWS_WITH_AS(read_json_file(f), doctest::Contains(invalid.c_str()), Error);
  CHECK_THROWS_WITH_AS(read_json_file((dir / "missing.json").string()), doctest::Contains("cannot open"), Error);
  CHECK_THROWS_WITH_AS(read_json_file(dir.string()), doctest::Contains("is a folder, not a JSON file"), Error);
  // A key twice inside a --set value too.
  json j = json::object();
  CHECK_THROWS_WITH_AS(apply_override(j, R"(model={"width": 0.5, "width": 1})"),
                       doctest::Contains("key 'width' appears twice"), Error);
  apply_override(j, R"(model={"width": 0.5})");
  CHECK(j["model"]["width"] == 0.5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("bts check's list: every entry is {name, config}, a bad one named by its position") {
  const json points = json::array({json{{"name", 1}, {"config", json::object()}}, json{{"config", json::object()}},
                                   json{{"name", "a"}, {"config", json::object()}, {"x", 1}}, 5,
                                   json{{"name", "b"}}});
  const std::vector<PreflightError> e = preflight(points);
  REQUIRE(e.size() == 5);
  CHECK(e[0].name == "entry 1");
  CHECK(e[0].what.find("no \"name\" string") != std::string::npos);
  CHECK(e[1].name == "entry 2");
  CHECK(e[2].name == "a");
  CHECK(e[2].what.find("unknown key 'x'") != std::string::npos);
  CHECK(e[3].name == "entry 4");
  CHECK(e[3].what.find("expected an object") != std::string::npos);
  CHECK(e[4].name == "b");
  CHECK(e[4].what.find("no config") != std::string::npos);
}

TEST_CASE("entropy of presentation counts") {
  CHECK(count_entropy({5, 5, 5, 5}) == doctest::Approx(std::log(4.0)));
  CHECK(count_entropy({0, 7, 0}) == doctest::Approx(0.0));
  CHECK(count_entropy({1, 1, 2}) == doctest::Approx(-(0.5 * std::log(0.25)) - 0.5 * std::log(0.5)));
  CHECK(count_entropy({0, 0}) == 0.0);
}

TEST_CASE("a toy budgeted run: counters, files, and bitwise resume after an interruption") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  const std::string a = "bts_test_run_a", b = "bts_test_run_b";
  fs::remove_all(a);
  fs::remove_all(b);
  TrainOptions quiet;
  quiet.quiet = true;
  const json ra = train(config_from_json(toy_config(a)), quiet);
  // 512 samples, B = 0.5, batch 32: 8 iterations per epoch, 3 epochs.
  CHECK(ra["status"] == "completed");
  CHECK(ra["budget_spent"]["iterations"] == 24);
  CHECK(ra["budget_spent"]["samples_backward"] == 24 * 32);
  CHECK(ra["budget_spent"]["samples_forward"] == 24 * 32);
  CHECK(ra["budget_spent"]["samples_scored"] == 0);
  CHECK(ra["budget_spent"]["backward_fraction_of_full"].get<double>() == doctest::Approx(0.5));
  CHECK(ra["history"].size() == 3);
  for (const char* f : {"config.json", "result.json", "metrics.jsonl", "sample_counts.bin", "checkpoint.bin", "log.txt"})
    CHECK_MESSAGE(fs::exists(fs::path(a) / f), f);
  TensorMap counts = read_tensor_file((fs::path(a) / "sample_counts.bin").string());
  int64_t total = 0, max_count = 0;
  for (double v : counts.at("counts").to_double_vector()) {
    total += static_cast<int64_t>(v);
    max_count = std::max<int64_t>(max_count, static_cast<int64_t>(v));
  }
  CHECK(total == 24 * 32);
  CHECK(max_count <= 3);  // without replacement: at most once per epoch
  CHECK(ra["sample_count_entropy"].get<double>() > 0);
  CHECK(ra["sample_count_entropy"].get<double>() <= std::log(512.0) + 1e-12);
  CHECK_THROWS_WITH_AS(train(config_from_json(toy_config(a)), quiet), doctest::Contains("holds a finished run"), Error);

  // Interrupted after 11 steps (mid-epoch 2), then resumed: the same result bit for bit.
  TrainOptions stop = quiet;
  stop.stop_after_steps = 11;
  CHECK(train(config_from_json(toy_config(b)), stop)["status"] == "interrupted");
  const json rb = train(config_from_json(toy_config(b)), TrainOptions{true, true, 0});
  CHECK(rb["status"] == "completed");
  CHECK(rb["history"].size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(rb["history"][e]["train_loss"].get<double>() == ra["history"][e]["train_loss"].get<double>());
    CHECK(rb["history"][e]["train_accuracy"].get<double>() == ra["history"][e]["train_accuracy"].get<double>());
  }
  CHECK(rb["final_test_accuracy"].get<double>() == ra["final_test_accuracy"].get<double>());
  CHECK(rb["budget_spent"] == ra["budget_spent"]);
  TensorMap ca = read_tensor_file((fs::path(a) / "checkpoint.bin").string());
  TensorMap cb = read_tensor_file((fs::path(b) / "checkpoint.bin").string());
  CHECK(ca.at("params").to_double_vector() == cb.at("params").to_double_vector());
  CHECK(ca.at("momentum").to_double_vector() == cb.at("momentum").to_double_vector());
  CHECK(ca.at("buffers").to_double_vector() == cb.at("buffers").to_double_vector());
  CHECK(ca.at("counts").to_double_vector() == cb.at("counts").to_double_vector());

  // Interrupted right after epoch 1's last step (iteration 8 of 8), before the epoch's end: the resume runs no step,
  // finishes the epoch and goes on, again bit for bit (such a checkpoint was once refused as "outside [0, 8)").
  const std::string c = b + "-at-epoch-end";
  fs::remove_all(c);
  TrainOptions stop_at_end = quiet;
  stop_at_end.stop_after_steps = 8;
  CHECK(train(config_from_json(toy_config(c)), stop_at_end)["status"] == "interrupted");
  const json rc = train(config_from_json(toy_config(c)), TrainOptions{true, true, 0});
  CHECK(rc["status"] == "completed");
  REQUIRE(rc["history"].size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(rc["history"][e]["train_loss"].get<double>() == ra["history"][e]["train_loss"].get<double>());
    CHECK(rc["history"][e]["test_accuracy"] == ra["history"][e]["test_accuracy"]);
  }
  CHECK(rc["budget_spent"] == ra["budget_spent"]);
  TensorMap cc = read_tensor_file((fs::path(c) / "checkpoint.bin").string());
  CHECK(ca.at("params").to_double_vector() == cc.at("params").to_double_vector());
  fs::remove_all(c);

  // Resuming with another config is refused.
  json other = toy_config(b);
  other["seed"] = 5;
  CHECK_THROWS_WITH_AS(train(config_from_json(other), TrainOptions{true, true, 0}), doctest::Contains("another config"),
                       Error);
  // The message names the differing key and only it.
  try {
    train(config_from_json(other), TrainOptions{true, true, 0});
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("seed: checkpoint 4, now 5") != std::string::npos);
    CHECK(m.find("dataset") == std::string::npos);
  }
  const json ev = evaluate_run(a, "cpu");
  CHECK(ev["test_accuracy"].get<double>() == ra["final_test_accuracy"].get<double>());
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("p-SGD resumes bitwise mid-epoch: the epoch's draw is kept, not redrawn from moved statistics") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  const std::string a = "bts_test_psgd_a", b = "bts_test_psgd_b";
  fs::remove_all(a);
  fs::remove_all(b);
  json ca = toy_config(a), cb = toy_config(b);
  ca["method"] = cb["method"] = "p-sgd";
  TrainOptions quiet;
  quiet.quiet = true;
  const json ra = train(config_from_json(ca), quiet);
  TrainOptions stop = quiet;
  stop.stop_after_steps = 11;  // mid-epoch 2 (8 iterations per epoch)
  CHECK(train(config_from_json(cb), stop)["status"] == "interrupted");
  const json rb = train(config_from_json(cb), TrainOptions{true, true, 0});
  for (size_t e = 0; e < 3; ++e)
    CHECK(rb["history"][e]["train_loss"].get<double>() == ra["history"][e]["train_loss"].get<double>());
  TensorMap ka = read_tensor_file((fs::path(a) / "checkpoint.bin").string());
  TensorMap kb = read_tensor_file((fs::path(b) / "checkpoint.bin").string());
  CHECK(ka.at("params").to_double_vector() == kb.at("params").to_double_vector());
  CHECK(ka.at("sampler.sum_p").to_double_vector() == kb.at("sampler.sum_p").to_double_vector());
  CHECK(ka.at("counts").to_double_vector() == kb.at("counts").to_double_vector());
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("whole-epoch methods never overspend a fractional T*B: scan-SGD and OSGD stop after floor(B T N / b) steps") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  for (const char* method : {"scan-sgd", "osgd"}) {
    const std::string d = std::string("bts_test_partial_") + method;
    fs::remove_all(d);
    json c = toy_config(d);  // N = 512, b = 32
    c["method"] = method;
    c["epochs"] = 2;
    c["budget"] = 0.3;  // T*B = 0.6: one partial epoch of floor(0.3 * 2 * 512 / 32) = 9 of its 16 steps
    TrainOptions quiet;
    quiet.quiet = true;
    const json r = train(config_from_json(c), quiet);
    INFO(method);
    CHECK(r["budget_spent"]["iterations"] == 9);
    CHECK(r["budget_spent"]["samples_backward"].get<int64_t>() <= static_cast<int64_t>(0.3 * 2 * 512));
    CHECK(r["history"].size() == 1);
    fs::remove_all(d);
  }
}

}  // TEST_SUITE
