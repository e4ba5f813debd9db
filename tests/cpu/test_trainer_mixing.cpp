// RandAugment, mixup, RICAP and cutout through the trainer on real Fashion-MNIST at toy size: the budget is unchanged by
// mixing, every source sample is credited exactly once per presentation (importance visits == presentation
// counts), the soft targets train (loss finite), and runs are reproducible (same seed: same bits). Selective
// backprop under mixing: its queue carries the mixed images with their soft targets (beta 0 equals scan-SGD).
#include <filesystem>

#include "train/config.h"
#include "engine/tensor_file.h"
#include "train/trainer.h"
#include "tests/common/helpers.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("trainer_mixing") {

TEST_CASE("p-SGD with mixup / RICAP / cutout / RandAugment: budget, credit per source sample, reproducibility") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  TrainOptions quiet;
  quiet.quiet = true;
  for (const char* aug : {"mixup_alpha", "ricap_beta", "cutout", "randaugment_n"}) {
    INFO(aug);
    json c = {{"dataset", "fashion-mnist"}, {"method", "p-sgd"}, {"budget", 0.5}, {"epochs", 2},
              {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 256}, {"test_subset", 100},
              {"device", "cpu"}, {"seed", 3}};
    const std::string name = aug;
    c["augment"] = {{aug, name == "cutout" ? json(-1) : name == "randaugment_n" ? json(2) : json(0.3)}};
    const std::string a = std::string("bts_test_mix_") + aug, b = a + "_again";
    fs::remove_all(a);
    fs::remove_all(b);
    c["run_dir"] = a;
    const json ra = train(config_from_json(c), quiet);
    c["run_dir"] = b;
    const json rb = train(config_from_json(c), quiet);
    CHECK(ra["budget_spent"]["samples_backward"] == 2 * 4 * 32);  // mixing never changes the budget
    CHECK(std::isfinite(ra["history"][1]["train_loss"].get<double>()));
    CHECK(ra["history"][1]["train_loss"].get<double>() == rb["history"][1]["train_loss"].get<double>());
    const TensorMap ck = read_tensor_file((fs::path(a) / "checkpoint.bin").string());
    const std::vector<double> counts = ck.at("counts").to_double_vector();
    const std::vector<double> visits = ck.at("sampler.visits").to_double_vector();
    CHECK(counts == visits);  // one credit per source sample per presentation, as its label weights sum to 1
    const std::vector<double> sum_p = ck.at("sampler.sum_p").to_double_vector();
    for (size_t i = 0; i < sum_p.size(); ++i) {
      // The credited probability is a convex combination of probabilities: within [0, visits].
      CHECK(sum_p[i] >= 0.0);
      CHECK(sum_p[i] <= visits[i] + 1e-9);
    }
    fs::remove_all(a);
    fs::remove_all(b);
  }
}

TEST_CASE("selective backprop with mixup / RICAP / cutout: beta 0 trains exactly scan-SGD's batches; bitwise resume") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  TrainOptions quiet;
  quiet.quiet = true;
  auto config = [](const std::string& method, const json& augment, const std::string& dir) {
    return json{{"dataset", "fashion-mnist"}, {"method", method}, {"budget", 0.5}, {"epochs", 4},
                {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 256}, {"test_subset", 100},
                {"device", "cpu"}, {"seed", 5}, {"augment", augment}, {"run_dir", dir}};
  };
  auto params = [](const std::string& dir) {
    return read_tensor_file((fs::path(dir) / "checkpoint.bin").string()).at("params").to_double_vector();
  };
  for (const json& augment : {json{{"mixup_alpha", 0.3}}, json{{"ricap_beta", 0.3}}, json{{"cutout", -1}}}) {
    INFO(augment.dump());
    // beta 0 keeps every scored image, in scoring order: SB then trains scan-SGD's batches (same order, same
    // mixing draws, same LR at every step) from its queue, and its eval-mode scoring forwards change nothing. Any
    // image, label or label weight the queue dropped or misplaced would change the parameters.
    const std::string s = "bts_test_sbmix_scan", q = "bts_test_sbmix_sb";
    fs::remove_all(s);
    fs::remove_all(q);
    const json rs = train(config_from_json(config("scan-sgd", augment, s)), quiet);
    json cq = config("sb", augment, q);
    cq["sb"] = {{"beta", 0}};
    const json rq = train(config_from_json(cq), quiet);
    CHECK(rq["budget_spent"]["samples_backward"] == 2 * 256);
    CHECK(rq["budget_spent"]["samples_scored"] == 2 * 256);
    CHECK(rs["budget_spent"]["samples_backward"] == 2 * 256);
    CHECK(params(q) == params(s));
    CHECK(rq["final_test_accuracy"].get<double>() == rs["final_test_accuracy"].get<double>());

    // The default beta (1/B - 1 = 1) keeps part of each batch, so samples wait in the queue across steps; stopped
    // mid-epoch and resumed, the run is identical to the uninterrupted one.
    const std::string a = "bts_test_sbmix_a", c = "bts_test_sbmix_c";
    fs::remove_all(a);
    fs::remove_all(c);
    const json ra = train(config_from_json(config("sb", augment, a)), quiet);
    const double kept = ra["selective_backprop"]["kept_fraction"].get<double>();
    CHECK(kept > 0.3);
    CHECK(kept < 0.7);
    CHECK(std::isfinite(ra["history"][1]["train_loss"].get<double>()));
    TrainOptions stop = quiet;
    stop.stop_after_steps = 5;
    CHECK(train(config_from_json(config("sb", augment, c)), stop)["status"] == "interrupted");
    const json rc = train(config_from_json(config("sb", augment, c)), TrainOptions{true, true, 0});
    CHECK(rc["budget_spent"] == ra["budget_spent"]);
    CHECK(params(c) == params(a));
    for (const auto& d : {s, q, a, c}) fs::remove_all(d);
  }
  json stale = config("sb", json{{"mixup_alpha", 0.3}}, "bts_test_bad");
  stale["sb"] = {{"staleness", 1}};
  CHECK_THROWS_WITH_AS(train(config_from_json(stale), quiet), doctest::Contains("staleness"), Error);
  fs::remove_all("bts_test_bad");
}

}  // TEST_SUITE
