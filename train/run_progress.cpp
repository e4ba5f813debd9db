#include "train/run_progress.h"

#include <cmath>

#include "kernels/common/check.h"

namespace bts {

using nlohmann::json;

json Counters::to_json() const {
  return {{"iterations", iterations},
          {"samples_forward", samples_forward},
          {"samples_backward", samples_backward},
          {"samples_scored", samples_scored}};
}

void Counters::from_json(const json& j) {
  iterations = j.at("iterations");
  samples_forward = j.at("samples_forward");
  samples_backward = j.at("samples_backward");
  samples_scored = j.at("samples_scored");
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
  p.epoch = st.at("epoch");
  p.iteration_in_epoch = st.at("iteration_in_epoch");
  p.epoch_trained = st.value("epoch_trained", p.iteration_in_epoch * batch);
  p.budget_spent = st.value("budget_spent", false);
  p.last_lr = st.value("last_lr", lr_initial);
  p.sb_presented = st.value("sb_presented", int64_t{0});
  p.counters.from_json(st.at("counters"));
  p.best_test_accuracy = st.at("best_test_accuracy");
  p.last_test_accuracy = st.at("last_test_accuracy");
  p.elapsed_seconds = st.at("elapsed_seconds");
  p.history = st.at("history");
  for (auto& [k, v] : st.at("phase_ms").items()) p.phase_ms[k] = v;
  return p;
}

}  // namespace bts
