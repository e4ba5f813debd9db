#include "train/recorded_step.h"

#include <utility>

namespace bts {

RecordedStep::RecordedStep(Device device, bool enabled, const Arena& arena, std::string phase, std::string label)
    : device_(device),
      enabled_(enabled),
      arena_(arena),
      phase_(std::move(phase)),
      label_(std::move(label)) {}

void RecordedStep::run(const RecordedStepKey& key, const std::function<void(PhaseTimer*)>& work, PhaseTimer& timer) {
  if (!enabled_) {
    work(&timer);
    ++eager_;
    return;
  }
  if (entries_.size() >= kMaxRecordings && !entries_.count(key)) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.order < oldest->second.order) oldest = it;
    entries_.erase(oldest);
  }
  Entry& e = entries_[key];
  e.order = ++uses_;
  const size_t generation = arena_.generation();
  // Memory the recording uses moved since it was made (the arena's, or the backend's scratch or workspace): it
  // goes, and the key warms up again.
  if (e.graph && (e.warm_at != generation || !e.graph->current())) {
    e.graph.reset();
    e.warm_at = kNotWarm;
  }
  if (!e.graph && e.warm_at == generation) {
    e.graph = std::make_unique<StepGraph>(device_, [work] { work(nullptr); }, label_);
    cuda_graph_ = e.graph->is_graph();
    ++recordings_;
  }
  if (!e.graph) {
    const size_t growths = arena_.growth_count();
    work(&timer);
    ++eager_;
    e.warm_at = arena_.growth_count() == growths ? arena_.generation() : kNotWarm;
    return;
  }
  if (!phase_.empty()) timer.start(phase_);
  e.graph->replay();
  if (!phase_.empty()) timer.stop(phase_);
  ++replays_;
}

nlohmann::json RecordedStep::summary() const {
  return {{"enabled", enabled_},
          {"cuda_graph", cuda_graph_},
          {"recordings", recordings_},
          {"replayed_steps", replays_},
          {"eager_steps", eager_}};
}

}  // namespace bts
