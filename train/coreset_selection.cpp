#include "train/coreset_selection.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/tensor_file.h"
#include "kernels/common/check.h"
#include "train/strategies/coreset.h"

namespace bts {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The selection run's config: full SGD (B = 1) over the same data and training length, recording forgetting.
TrainConfig selection_config(const TrainConfig& cfg) {
  TrainConfig sel = cfg;
  sel.method = "sgd";
  sel.budget = 1.0;
  sel.record_forgetting = true;
  sel.coreset_selection_run.clear();
  sel.run_dir = cfg.coreset_selection_run.empty() ? cfg.run_dir + "-selection" : cfg.coreset_selection_run;
  return sel;
}

// A completed selection run's result, after checking its indices mean the same samples as this run's.
json reuse_selection(const TrainConfig& sel) {
  std::ifstream f(fs::path(sel.run_dir) / "result.json");
  json result = json::parse(f);
  const json want = config_to_json(sel), have = result.at("config");
  for (const char* key : {"dataset", "data_dir", "train_subset", "epochs", "batch_size", "model", "seed"})
    BTS_CHECK(want.at(key) == have.at(key), "core-set: the selection run in " << sel.run_dir << " has " << key << " = "
                                                                              << have.at(key).dump()
                                                                              << ", this run needs "
                                                                              << want.at(key).dump());
  return result;
}

}  // namespace

namespace {
CoresetSelection select_coreset_unchecked(const TrainConfig& cfg, const TrainOptions& opt, const RunLog& log);
}  // namespace

CoresetSelection select_coreset(const TrainConfig& cfg, const TrainOptions& opt, const RunLog& log) {
  try {
    return select_coreset_unchecked(cfg, opt, log);
  } catch (const json::exception& e) {
    // A selection run's result.json that is not what a finished run writes: say whose, not only what the JSON
    // library found.
    BTS_FAIL("core-set: the selection run's result.json (" << selection_config(cfg).run_dir
                                                           << ") is unreadable or incomplete: " << e.what());
  }
}

namespace {
CoresetSelection select_coreset_unchecked(const TrainConfig& cfg, const TrainOptions& opt, const RunLog& log) {
  const TrainConfig sel = selection_config(cfg);
  const fs::path sel_dir(sel.run_dir);
  CoresetSelection out;
  json sel_result;
  if (fs::exists(sel_dir / "result.json") && fs::exists(sel_dir / "forgetting.bin")) {
    sel_result = reuse_selection(sel);
    log("core-set: reusing the selection run in " + sel.run_dir);
  } else {
    log("core-set: selection run (full SGD training recording forgetting events) in " + sel.run_dir);
    TrainOptions so = opt;
    so.resume = fs::exists(sel_dir / "checkpoint.bin");
    so.stop_after_steps = 0;
    sel_result = train(sel, so);
    if (sel_result.value("status", "") == "interrupted") {
      log("core-set: the selection run was interrupted; run the same command again to continue it");
      out.interrupted = true;
      out.result = sel_result;
      return out;
    }
    BTS_CHECK(sel_result.value("status", "") == "completed",
              "core-set: the selection run in " << sel.run_dir << " did not complete; resume this run to go on");
  }
  const int64_t n_sel = sel_result.at("budget_asked").at("train_size");
  const int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(n_sel) * cfg.budget + 1e-9));
  std::vector<int32_t> presented;  // samples the selection run never showed cannot count as never learned
  if (fs::exists(sel_dir / "sample_counts.bin")) {
    const std::string file = (sel_dir / "sample_counts.bin").string();
    const TensorMap m = read_tensor_file(file);
    const Tensor& c = tensor_entry(m, file, "counts");
    BTS_CHECK(c.dtype() == DType::I32 && c.ndim() == 1, "'" << file << "' entry 'counts' is " << c.describe()
                                                              << ", expected an i32 vector");
    presented.assign(c.data<int32_t>(), c.data<int32_t>() + c.numel());
  }
  out.subset = most_forgotten((sel_dir / "forgetting.bin").string(), k, cfg.seed, presented);
  out.info = {{"selection_run", sel.run_dir},
              {"selection_wall_clock_seconds", sel_result.at("wall_clock_seconds")},
              {"selection_budget_spent", sel_result.at("budget_spent")},
              {"selection_test_accuracy", sel_result.at("final_test_accuracy")},
              {"subset_size", k}};
  return out;
}

}  // namespace

}  // namespace bts
