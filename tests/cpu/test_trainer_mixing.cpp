// RandAugment, mixup, RICAP and cutout through the trainer on real Fashion-MNIST at toy size: the budget is unchanged by
// mixing, every source sample is credited exactly once per presentation (importance visits == presentation
// counts), the soft targets train (loss finite), and runs are reproducible (same seed: same bits).
#include <filesystem>

#include "engine/config.h"
#include "engine/tensor_file.h"
#include "engine/trainer.h"
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
  json bad = {{"method", "sb"}, {"augment", {{"mixup_alpha", 0.3}}}, {"device", "cpu"}, {"run_dir", "bts_test_bad"}};
  CHECK_THROWS_WITH_AS(train(config_from_json(bad), quiet), doctest::Contains("selective backprop with mixup"), Error);
  fs::remove_all("bts_test_bad");
}

}  // TEST_SUITE
