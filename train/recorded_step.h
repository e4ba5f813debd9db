// The trainer's full-batch training step, recorded once and replayed (engine/step_graph.h): on the GPU a CUDA
// graph, one launch per step; on the CPU the step runs again under the steady-state guard.
//
// What changes from step to step reaches the recorded work through device memory, written in stream order before
// the replay: the learning rate (Sgd::set_lr) and the presented batch's indices (copied to a fixed buffer); the
// images and targets are built into fixed buffers. What stays fixed while a recording is valid is its key: the
// addresses of those buffers and the host values the step's kernels take as arguments (batch size, targets per
// image, the sampler's recorded_step_key, e.g. ordered SGD's q). A new key, or scratch that moved
// (StepGraph::current), makes a new recording; until the step is warm (two eager steps on its tape: the first
// makes the arena, plans and workspaces, the second folds the arena) the work runs eagerly, with its phase times.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/phase_timer.h"
#include "engine/step_graph.h"

namespace bts {

struct RecordedStepKey {
  std::vector<const void*> addresses;  // every buffer the step reads or writes whose address could change
  std::vector<int64_t> values;         // every host value its kernels take that could change
  bool operator==(const RecordedStepKey& o) const { return addresses == o.addresses && values == o.values; }
  bool operator!=(const RecordedStepKey& o) const { return !(*this == o); }
};

class RecordedStep {
 public:
  static constexpr int64_t kWarmupSteps = 2;
  static constexpr const char* kPhase = "recorded step";  // a replay's time: forward to optimizer in one

  // phase: what a replay is timed as (empty: not timed here, the caller's phase covers it); label: errors' name.
  RecordedStep(Device device, bool enabled, std::string phase, std::string label);

  // One step: `work` runs the step's device work, timing its phases on the timer it is given (nullptr while
  // recording). It must read only device memory and what `key` names, since a replay repeats the recorded calls.
  void run(const RecordedStepKey& key, const std::function<void(PhaseTimer*)>& work, PhaseTimer& timer);

  bool enabled() const { return enabled_; }
  // For result.json: whether the step is recorded, as a CUDA graph or not, and how often (this process).
  nlohmann::json summary() const;

 private:
  Device device_;
  bool enabled_;
  std::string phase_, label_;
  std::unique_ptr<StepGraph> graph_;
  RecordedStepKey key_;
  int64_t warm_steps_ = 0, recordings_ = 0, replays_ = 0;
  bool cuda_graph_ = false;
};

}  // namespace bts
