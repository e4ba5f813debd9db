// checkpoint.bin: everything a resumed run needs to repeat the uninterrupted one bit for bit on the same device:
// model, BN statistics, momentum, counts, this epoch's statistics (and mid-epoch its order), the strategy's
// state, the progress (state_json) and the config it was made with (config_json).
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/file_write.h"
#include "engine/tensor_file.h"
#include "kernels/common/check.h"
#include "train/training_run.h"

namespace bts {

using nlohmann::json;

void TrainingRun::save_checkpoint(int64_t epoch, int64_t iteration) {
  // The convolution algorithms chosen so far go first, so a run resumed from this checkpoint convolves the same way
  // (measured choices can differ between attempts). Nothing on the CPU.
  const std::string algorithms = backend(dev_).conv_algorithms();
  if (!algorithms.empty() && algorithms != conv_algorithms_written_) {
    write_text_atomic(dir_ / kConvAlgorithmsFile, algorithms);
    conv_algorithms_written_ = algorithms;
  }
  progress_.epoch = epoch;
  progress_.iteration_in_epoch = iteration;
  json st = progress_.to_json();
  st["elapsed_seconds"] = elapsed();
  TensorMap ck;
  ck.emplace("params", model_->params().flat_data().view());
  ck.emplace("buffers", model_->buffers().flat_data().view());
  ck.emplace("momentum", sgd_->momentum_buffer().view());
  ck.emplace("counts", buf_.counts.view());
  ck.emplace("stats", buf_.stats.view());
  // Mid-epoch: the epoch's order, drawn from the sampler's state at the epoch's start (p-/c-SGD's statistics
  // have moved on since), so the resumed epoch continues the same draw.
  if (iteration > 0) ck.emplace("order", buf_.order.view());
  ck.emplace("config_json", text_to_tensor(cfg_json_.dump()));
  ck.emplace("state_json", text_to_tensor(st.dump()));
  sampler_->save(ck);
  if (sb_) sb_->save(ck);
  if (forgetting_) forgetting_->save(ck);
  write_tensor_file(ckpt_path_.string(), ck);
  if (iteration == 0) checkpoint_epoch_ = epoch;
}

namespace {
// A run's identity is its config without where it lives: a moved or differently spelled run directory resumes.
json identity(json cfg) {
  cfg.erase("run_dir");
  return cfg;
}

// The dotted keys whose values differ between two configs, for a mismatch message that names them.
void differing_keys(const json& a, const json& b, const std::string& prefix, std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const std::string& k : keys) {
      const std::string name = prefix.empty() ? k : prefix + "." + k;
      if (!a.contains(k) || !b.contains(k)) out.push_back(name);
      else differing_keys(a.at(k), b.at(k), name, out);
    }
  } else if (a != b) {
    out.push_back(prefix);
  }
}

// The value at a dotted key, as JSON text ("(absent)" when missing).
std::string value_at(const json& j, const std::string& dotted) {
  const json* node = &j;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return "(absent)";
    node = &node->at(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node->dump();
}
}  // namespace

void TrainingRun::restore() {
  const std::string file = ckpt_path_.string();
  // The reader verifies the file (regular, checksummed per entry and whole, sizes before allocation).
  TensorMap ck = read_tensor_file(file);
  json saved_cfg, state;
  try {
    saved_cfg = json::parse(tensor_to_text(tensor_entry(ck, file, "config_json")));
    state = json::parse(tensor_to_text(tensor_entry(ck, file, "state_json")));
  } catch (const json::exception& e) {
    BTS_FAIL("checkpoint '" << file << "': its config or state is not valid JSON: " << e.what());
  }
  // Written by an older version, the saved config may spell a key the old way (`tf32` before `precision`): compare
  // it as this version reads it. One this version refuses is compared as written (and so differs).
  try {
    saved_cfg = config_to_json(config_from_json(saved_cfg));
  } catch (const std::exception&) {
  }
  if (identity(saved_cfg) != identity(cfg_json_)) {
    std::vector<std::string> keys;
    differing_keys(identity(saved_cfg), identity(cfg_json_), "", keys);
    std::string list;
    for (const std::string& k : keys)
      list += "\n  " + k + ": checkpoint " + value_at(saved_cfg, k) + ", now " + value_at(cfg_json_, k);
    BTS_FAIL("the checkpoint in '" << cfg_.run_dir << "' was made with another config; differing keys:" << list);
  }
  // Every piece of state is checked against this run's shapes and the ranges it can take before the run goes on
  // from it: a checksum catches corruption, these catch a checkpoint that is well-formed but impossible.
  try {
    progress_ = RunProgress::from_json(state, b_, cfg_.lr_initial);
    progress_.validate(sampler_->epochs(), sampler_->iterations_per_epoch(), b_);
    const double n_max = static_cast<double>(n_ - 1);
    restore_entry(ck, "params", model_->params().flat_data());
    restore_entry(ck, "buffers", model_->buffers().flat_data());
    restore_entry(ck, "momentum", sgd_->momentum_buffer());
    restore_entry(ck, "counts", buf_.counts, 0.0);
    restore_entry(ck, "stats", buf_.stats, 0.0);
    if (progress_.iteration_in_epoch > 0) {
      // Mid-epoch the epoch's order is needed: its used prefix must be distinct samples of the data set.
      const Tensor& order = tensor_entry(ck, "", "order", DType::I32, buf_.order.shape());
      const int64_t used = std::min(n_, sampler_->iterations_per_epoch() * b_);
      check_entry_values(order, "order", 0, n_max);
      std::vector<bool> seen(static_cast<size_t>(n_), false);
      for (int64_t j = 0; j < used; ++j) {
        const int32_t i = order.data<int32_t>()[j];
        BTS_CHECK(!seen[static_cast<size_t>(i)], "entry 'order' presents sample " << i << " twice in one epoch");
        seen[static_cast<size_t>(i)] = true;
      }
      buf_.order.copy_from(order);
    }
    sampler_->load(ck);
    if (sb_) sb_->load(ck);
    if (forgetting_) forgetting_->load(ck);
  } catch (const std::exception& e) {
    BTS_FAIL("checkpoint '" << file << "': " << e.what());
  }
  start_epoch_ = progress_.epoch;
  start_iter_ = progress_.iteration_in_epoch;
  checkpoint_epoch_ = start_epoch_;
  rewind_metrics();
  log_("resuming " + cfg_.run_dir + " at epoch " + std::to_string(start_epoch_ + 1) + ", iteration " +
       std::to_string(start_iter_));
}

}  // namespace bts
