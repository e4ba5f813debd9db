// The end of an epoch (statistics, evaluation, the metrics line, a checkpoint) and of the run (sample counts,
// forgetting events, result.json).
#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/device.h"
#include "engine/tensor_file.h"
#include "train/evaluation.h"
#include "train/training_run.h"

namespace bts {

using nlohmann::json;

void TrainingRun::finish_epoch(int64_t epoch) {
  merge_phases();
  const std::vector<double> s = epoch_stats(epoch);
  const double seen = static_cast<double>(std::max<int64_t>(1, progress_.epoch_trained));
  sampler_->end_epoch(s[1] / seen);
  const bool last_epoch = epoch + 1 == budget_.epochs || progress_.budget_spent;
  json m = {{"epoch", epoch + 1},
            {"train_loss", s[0] / seen},
            {"train_accuracy", s[1] / seen},
            {"trained_samples", progress_.epoch_trained},
            {"lr", progress_.last_lr},
            {"counters", progress_.counters.to_json()}};
  if ((epoch + 1) % cfg_.eval_every == 0 || last_epoch) {
    timer_.start("evaluation");
    EvalResult ev;
    {
      // Evaluations after the first allocate nothing and wait once (for the result): held to it under the guard.
      const auto guard = evaluator_.runs() > 0 ? steady_state_scope(epoch, "evaluation") : nullptr;
      ev = evaluator_.run(*model_);
    }
    timer_.stop("evaluation");
    merge_phases();
    progress_.last_test_accuracy = ev.accuracy;
    progress_.best_test_accuracy = std::max(progress_.best_test_accuracy, ev.accuracy);
    m["test_accuracy"] = ev.accuracy;
    m["test_loss"] = ev.loss;
  }
  m["elapsed_seconds"] = elapsed();
  m["phase_ms"] = progress_.phase_ms;
  progress_.history.push_back(m);
  append_text((dir_ / "metrics.jsonl").string(), m.dump() + "\n");
  const std::string test =
      m.contains("test_accuracy")
          ? "  test acc " + std::to_string(100.0 * m["test_accuracy"].get<double>()).substr(0, 5) + "%"
          : "";
  char line[256];
  std::snprintf(line, sizeof line, "epoch %lld/%lld done: train loss %.4f acc %.2f%%%s%s", (long long)epoch + 1,
                (long long)budget_.epochs, s[0] / seen, 100.0 * s[1] / seen, test.c_str(),
                progress_.budget_spent ? "  (backward budget spent: stopping)" : "");
  log_(line);
  check_parameters_finite(epoch);
  if ((epoch + 1) % cfg_.checkpoint_every == 0 || last_epoch) save_checkpoint(epoch + 1, 0);
}

json TrainingRun::finish() {
  if (forgetting_) forgetting_->write((dir_ / "forgetting.bin").string());
  Tensor counts = buf_.counts.to(Device::CPU);
  const std::vector<int32_t> host_counts(counts.data<int32_t>(), counts.data<int32_t>() + n_);
  TensorMap cm;
  cm.emplace("counts", std::move(counts));
  write_tensor_file((dir_ / "sample_counts.bin").string(), cm);
  const json result = result_json(host_counts);
  write_text_atomic(dir_ / "result.json", result.dump(2) + "\n");
  char line[256];
  std::snprintf(line, sizeof line,
                "done: final test accuracy %.2f%% (best %.2f%%), %lld iterations, %lld samples backward (%.3f of full "
                "training), entropy %.3f (max %.3f), %s; results in %s",
                100 * progress_.last_test_accuracy, 100 * progress_.best_test_accuracy,
                (long long)progress_.counters.iterations, (long long)progress_.counters.samples_backward,
                result["budget_spent"]["backward_fraction_of_full"].get<double>(),
                result["sample_count_entropy"].get<double>(), result["sample_count_entropy_max"].get<double>(),
                format_duration(elapsed()).c_str(), cfg_.run_dir.c_str());
  log_(line);
  return result;
}

json TrainingRun::result_json(const std::vector<int32_t>& counts) const {
  const Counters& c = progress_.counters;
  json r;
  r["status"] = "completed";
  r["run_dir"] = cfg_.run_dir;
  r["config"] = cfg_json_;
  r["device"] = device_summary(probe_devices());
  if (dev_ == Device::CUDA) {  // which GPU ran it: on a node with several, the index alone is not enough later
    const DeviceIdentity g = chosen_gpu();
    r["gpu"] = {{"index", g.index}, {"name", g.name}, {"uuid", g.uuid}};
  }
  r["model"] = model_->describe();
  r["budget_asked"] = budget_.asked(cfg_, n_);
  r["budget_spent"] = c.to_json();
  r["budget_spent"]["backward_fraction_of_full"] = static_cast<double>(c.samples_backward) / budget_.full_samples;
  // Fewer epochs than planned when selective backprop's budget ran out.
  r["budget_spent"]["epochs"] = static_cast<int64_t>(progress_.history.size());
  r["budget_spent"]["iterations_per_epoch"] = budget_.iterations_per_epoch;
  if (sb_)
    r["selective_backprop"] = {{"beta", sb_->options().beta},
                               {"history", cfg_.sb_history},
                               {"backward_budget_samples", budget_.backward_samples},
                               {"stopped_when_budget_spent", progress_.budget_spent},
                               {"samples_presented_for_selection", progress_.sb_presented},
                               {"kept_fraction", static_cast<double>(c.samples_backward) /
                                                     std::max<double>(1, static_cast<double>(progress_.sb_presented))}};
  if (!coreset_info_.is_null()) r["core_set"] = coreset_info_;
  r["final_test_accuracy"] = progress_.last_test_accuracy;
  r["best_test_accuracy"] = progress_.best_test_accuracy;
  r["sample_count_entropy"] = count_entropy(counts);
  r["sample_count_entropy_max"] = std::log(static_cast<double>(n_));
  r["wall_clock_seconds"] = elapsed();
  r["step_graph"] = recorded_step_.summary();
  r["input_layout"] = layout_name(buf_.images.layout());  // how the batches were built (Model::input_layout)
  if (sb_) r["step_graph"]["scoring"] = recorded_scoring_.summary();
  r["phase_seconds"] = json::object();
  for (auto& [k, v] : progress_.phase_ms) r["phase_seconds"][k] = v / 1000.0;
  r["history"] = progress_.history;
  return r;
}

}  // namespace bts
