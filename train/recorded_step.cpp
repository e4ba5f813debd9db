#include "train/recorded_step.h"

namespace bts {

RecordedStep::RecordedStep(Device device, bool enabled) : device_(device), enabled_(enabled) {}

void RecordedStep::run(const RecordedStepKey& key, const std::function<void(PhaseTimer*)>& work, PhaseTimer& timer) {
  if (!enabled_ || warm_steps_ < kWarmupSteps) {
    work(&timer);
    ++warm_steps_;
    return;
  }
  if (graph_ && (key != key_ || !graph_->current())) graph_.reset();
  if (!graph_) {
    graph_ = std::make_unique<StepGraph>(device_, [work] { work(nullptr); }, "the training step");
    key_ = key;
    cuda_graph_ = graph_->is_graph();
    ++recordings_;
  }
  timer.start(kPhase);
  graph_->replay();
  timer.stop(kPhase);
  ++replays_;
}

nlohmann::json RecordedStep::summary() const {
  return {{"enabled", enabled_},
          {"cuda_graph", cuda_graph_},
          {"recordings", recordings_},
          {"replayed_steps", replays_},
          {"eager_steps", warm_steps_}};
}

}  // namespace bts
