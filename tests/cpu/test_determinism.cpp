// CPU results do not depend on the thread count: the same toy training on 1, 2 and 3 OpenMP threads gives the
// same losses and parameters bit for bit (the sweep runner changes thread counts with --jobs; a result must not).
#include <filesystem>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/tensor_file.h"
#include "tests/common/helpers.h"
#include "tests/common/toy_run.h"
#include "train/config.h"
#include "train/trainer.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("determinism") {

TEST_CASE("a training on 1, 2 and 3 threads: the same losses and parameters bit for bit") {
#ifndef _OPENMP
  MESSAGE("SKIPPED: built without OpenMP (one thread only)");
  return;
#else
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const int prev = omp_get_max_threads();
  std::vector<json> results;
  std::vector<std::vector<double>> params;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    const std::string d = "bts_test_threads_" + std::to_string(threads);
    fs::remove_all(d);
    json c = bts::test::toy_config(d);
    c["method"] = "p-sgd";  // the importance statistics too
    TrainOptions quiet;
    quiet.quiet = true;
    results.push_back(train(config_from_json(c), quiet));
    params.push_back(read_tensor_file((fs::path(d) / "checkpoint.bin").string()).at("params").to_double_vector());
    fs::remove_all(d);
  }
  omp_set_num_threads(prev);
  for (size_t t = 1; t < results.size(); ++t) {
    INFO("threads " << t + 1 << " vs 1");
    for (size_t e = 0; e < 3; ++e)
      CHECK(results[t]["history"][e]["train_loss"].get<double>() ==
            results[0]["history"][e]["train_loss"].get<double>());
    CHECK(results[t]["final_test_accuracy"].get<double>() == results[0]["final_test_accuracy"].get<double>());
    CHECK(params[t] == params[0]);
  }
#endif
}

}  // TEST_SUITE
