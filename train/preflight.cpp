#include "train/preflight.h"

#include <map>
#include <utility>

#include "data/dataset.h"
#include "kernels/common/check.h"
#include "train/run_data.h"
#include "train/strategies/sampler.h"

namespace bts {

void check_combination(const TrainConfig& cfg) {
  BTS_CHECK(cfg.randaugment_n == 0 || cfg.crop_flip,
            "RandAugment runs before the standard crop/flip (as in the paper): it needs augment.crop_flip");
  const bool mixing = cfg.mixup_alpha > 0 || cfg.ricap_beta > 0;
  BTS_CHECK(!(mixing && (cfg.record_forgetting || cfg.method == "core-set")),
            "forgetting events (record_forgetting, core-set) need one label per image: turn mixup/RICAP off");
}

namespace {
// The sizes of a data set's splits, read once per (name, folder); an unreadable data set is remembered as its error.
struct DataSizes {
  int64_t train = 0, test = 0;
  std::string error;
};
}  // namespace

std::vector<PreflightError> preflight(const nlohmann::json& points) {
  BTS_CHECK(points.is_array(), "preflight: expected a JSON array of {name, config}");
  std::vector<PreflightError> errors;
  std::map<std::pair<std::string, std::string>, DataSizes> data;
  for (size_t i = 0; i < points.size(); ++i) {
    const nlohmann::json& p = points[i];
    const bool named = p.is_object() && p.contains("name") && p.at("name").is_string();
    const std::string name = named ? p.at("name").get<std::string>() : "entry " + std::to_string(i + 1);
    try {
      BTS_CHECK(p.is_object(), "expected an object {\"name\": ..., \"config\": {...}}");
      BTS_CHECK(named, "no \"name\" string");
      BTS_CHECK(p.contains("config"), "no config");
      for (auto it = p.begin(); it != p.end(); ++it)
        BTS_CHECK(it.key() == "name" || it.key() == "config",
                  "unknown key '" << it.key() << "' (an entry holds only \"name\" and \"config\")");
      const TrainConfig cfg = config_from_json(p.at("config"));
      check_combination(cfg);
      auto key = std::make_pair(cfg.dataset, cfg.data_dir);
      auto it = data.find(key);
      if (it == data.end()) {
        DataSizes s;
        try {
          const DataSplit d = load_dataset(cfg.dataset, cfg.data_dir);
          s.train = d.train.size();
          s.test = d.test.size();
        } catch (const std::exception& e) {
          s.error = e.what();
        }
        it = data.emplace(key, s).first;
      }
      const DataSizes& s = it->second;
      if (!s.error.empty()) {
        errors.push_back({name, s.error});
        continue;
      }
      check_subsets(cfg, s.train, s.test);
      // The strategy's budget arithmetic (e.g. a budget too small for one iteration). The core-set's sampler needs
      // its selection run's subset: its arithmetic is unif-SGD's over N B samples, checked as such.
      const int64_t n = cfg.train_subset > 0 ? cfg.train_subset : s.train;
      SamplerContext ctx{n, cfg.batch_size, cfg.epochs, cfg.budget, cfg.seed, Device::CPU, ImportanceOptions{}};
      make_sampler(cfg.method == "core-set" ? "random-subset" : cfg.method, ctx);
    } catch (const std::exception& e) {
      errors.push_back({name, e.what()});
    }
  }
  return errors;
}

}  // namespace bts
