#include "train/run_progress.h"

#include <cmath>

#include "kernels/common/check.h"

namespace bts {

using nlohmann::json;

namespace {
// A count read back from a checkpoint's state: a whole number (json's get<int64_t> would truncate 1.9 to 1).
int64_t whole(const json& j, const char* key) {
  const json& v = j.at(key);
  // A structured value is named by type only: printing one would recurse through whatever nesting a forged file has.
  BTS_CHECK(v.is_number_integer(), "state: '" << key << "' is " << v.type_name()
                                               << (v.is_primitive() ? " " + v.dump().substr(0, 40) : std::string())
                                               << ", expected a whole number");
  return v.get<int64_t>();
}
double number(const json& j, const char* key) {
  const json& v = j.at(key);
  BTS_CHECK(v.is_number(), "state: '" << key << "' is " << v.type_name() << ", expected a number");
  return v.get<double>();
}
}  // namespace

json Counters::to_json() const {
  return {{"iterations", iterations},
          {"samples_forward", samples_forward},
          {"samples_backward", samples_backward},
          {"samples_scored", samples_scored}};
}

void Counters::from_json(const json& j) {
  iterations = whole(j, "iterations");
  samples_forward = whole(j, "samples_forward");
  samples_backward = whole(j, "samples_backward");
  samples_scored = whole(j, "samples_scored");
}

json RunProgress::to_json() const {
  return {{"epoch", epoch},
          {"iteration_in_epoch", iteration_in_epoch},
          {"epoch_trained", epoch_trained},
          {"budget_spent", budget_spent},
          {"last_lr", last_lr},
          {"sb_presented", sb_presented},
          {"counters", counters.to_json()},
          {"best_test_accuracy", best_test_accuracy},
          {"last_test_accuracy", last_test_accuracy},
          {"elapsed_seconds", elapsed_seconds},
          {"history", history},
          {"phase_ms", phase_ms}};
}

void RunProgress::validate(int64_t epochs, int64_t iterations_per_epoch, int64_t batch) const {
  BTS_CHECK(epoch >= 0 && epoch <= epochs, "state: epoch " << epoch << " outside [0, " << epochs << "]");
  // iteration_in_epoch == iterations_per_epoch: interrupted after the epoch's last step, before its end (the flush
  // of selective backprop's queue, statistics, evaluation): a resume runs no step and finishes the epoch.
  BTS_CHECK(iteration_in_epoch >= 0 && iteration_in_epoch <= iterations_per_epoch &&
                (iteration_in_epoch == 0 || epoch < epochs),
            "state: iteration_in_epoch " << iteration_in_epoch << " outside [0, " << iterations_per_epoch
                                         << "] for epoch " << epoch);
  const Counters& c = counters;
  BTS_CHECK(c.iterations >= 0 && c.samples_backward >= 0 && c.samples_scored >= 0 &&
                c.samples_backward <= c.samples_forward && c.samples_forward <= c.iterations * batch,
            "state: inconsistent counters " << c.to_json().dump()
                                            << " (expected 0 <= backward <= forward <= iterations x " << batch << ")");
  BTS_CHECK(epoch_trained >= 0 && epoch_trained <= c.samples_forward && sb_presented >= 0,
            "state: epoch_trained " << epoch_trained << " / sb_presented " << sb_presented
                                    << " inconsistent with the counters");
  BTS_CHECK(history.is_array() && static_cast<int64_t>(history.size()) == epoch,
            "state: " << (history.is_array() ? history.size() : 0) << " history lines for " << epoch
                      << " finished epochs");
  for (double a : {best_test_accuracy, last_test_accuracy})
    BTS_CHECK(a == -1 || (a >= 0 && a <= 1), "state: test accuracy " << a << " outside [0, 1]");
  BTS_CHECK(std::isfinite(elapsed_seconds) && elapsed_seconds >= 0 && std::isfinite(last_lr),
            "state: elapsed_seconds " << elapsed_seconds << ", last_lr " << last_lr);
}

RunProgress RunProgress::from_json(const json& st, int64_t batch, double lr_initial) {
  RunProgress p;
  BTS_CHECK(st.is_object(), "state: expected an object, got " << st.type_name());
  p.epoch = whole(st, "epoch");
  p.iteration_in_epoch = whole(st, "iteration_in_epoch");
  // Keys older checkpoints lack take their defaults.
  p.epoch_trained = st.contains("epoch_trained") ? whole(st, "epoch_trained") : p.iteration_in_epoch * batch;
  if (st.contains("budget_spent")) {
    BTS_CHECK(st.at("budget_spent").is_boolean(), "state: 'budget_spent' is not true or false");
    p.budget_spent = st.at("budget_spent").get<bool>();
  }
  p.last_lr = st.contains("last_lr") ? number(st, "last_lr") : lr_initial;
  p.sb_presented = st.contains("sb_presented") ? whole(st, "sb_presented") : 0;
  p.counters.from_json(st.at("counters"));
  p.best_test_accuracy = number(st, "best_test_accuracy");
  p.last_test_accuracy = number(st, "last_test_accuracy");
  p.elapsed_seconds = number(st, "elapsed_seconds");
  p.history = st.at("history");
  BTS_CHECK(p.history.is_array(), "state: 'history' is not a list");
  for (const json& line : p.history) BTS_CHECK(line.is_object(), "state: a 'history' line is not an object");
  const json& phases = st.at("phase_ms");
  BTS_CHECK(phases.is_object(), "state: 'phase_ms' is not an object");
  for (auto& [k, v] : phases.items()) {
    BTS_CHECK(v.is_number(), "state: phase_ms '" << k << "' is not a number");
    p.phase_ms[k] = v;
  }
  return p;
}

}  // namespace bts
