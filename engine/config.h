// One experiment, as a JSON config. Every field is validated: unknown keys and bad values are rejected with a
// message naming the key, the value and what is allowed. to_json gives the resolved config (defaults filled in),
// which the run directory keeps.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace bts {

struct TrainConfig {
  std::string dataset = "fashion-mnist";
  std::string data_dir;                 // empty: the data set's default location (fashion-mnist only)
  std::string method = "unif-sgd";      // sgd, scan-sgd, unif-sgd, p-sgd, c-sgd, osgd, random-subset
  double budget = 1.0;                  // B in (0, 1]
  int64_t epochs = 200;                 // T of the full training
  int64_t batch_size = 128;
  double width = 1.0;                   // ResNet-18 width multiplier
  std::string lr_schedule = "linear";   // step, linear, constant
  double lr_initial = 0.1;
  double lr_final = 1e-6;               // linear schedule's last value
  double momentum = 0.9;
  double weight_decay = 1e-4;
  bool nesterov = false;
  bool importance_eps = true;           // p-SGD/c-SGD: add eps = mean importance
  bool importance_averaging = true;     // p-SGD/c-SGD: running mean of p (false: last value)
  int64_t warmup_epochs = 0;            // p-SGD/c-SGD: first W epochs uniform
  bool crop_flip = true;                // the standard augmentation (flip follows the data set)
  int pad = 4;
  uint64_t seed = 0;
  std::string device = "auto";          // auto, cpu, cuda
  bool tf32 = true;
  int64_t train_subset = 0;             // 0: the whole training set; k: a fixed random subset of k samples
  int64_t test_subset = 0;              // 0: the whole test set
  int64_t eval_every = 1;               // epochs
  int64_t checkpoint_every = 1;         // epochs
  double progress_seconds = 10;         // progress line period
  std::string run_dir;                  // empty: runs/<dataset>-<method>-B<budget>-<schedule>-s<seed>
};

TrainConfig config_from_json(const nlohmann::json& j);
nlohmann::json config_to_json(const TrainConfig& c);
// Applies "dotted.key=value" (value parsed as JSON, else taken as a string) on top of a JSON config.
void apply_override(nlohmann::json& j, const std::string& assignment);
std::string default_run_dir(const TrainConfig& c);

}  // namespace bts
