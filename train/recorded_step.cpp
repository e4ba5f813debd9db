#include "train/recorded_step.h"

#include <utility>

namespace bts {

RecordedStep::RecordedStep(Device device, bool enabled, std::string phase, std::string label)
    : device_(device), enabled_(enabled), phase_(std::move(phase)), label_(std::move(label)) {}

void RecordedStep::run(const RecordedStepKey& key, const std::function<void(PhaseTimer*)>& work, PhaseTimer& timer) {
  if (!enabled_ || warm_steps_ < kWarmupSteps) {
    work(&timer);
    ++warm_steps_;
    return;
  }
  if (graph_ && (key != key_ || !graph_->current())) graph_.reset();
  if (!graph_) {
    graph_ = std::make_unique<StepGraph>(device_, [work] { work(nullptr); }, label_);
    key_ = key;
    cuda_graph_ = graph_->is_graph();
    ++recordings_;
  }
  if (!phase_.empty()) timer.start(phase_);
  graph_->replay();
  if (!phase_.empty()) timer.stop(phase_);
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
