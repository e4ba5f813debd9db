// The trainer's recorded steps (its full-batch training step; selective backprop's scoring forward), recorded
// once per shape and replayed (engine/step_graph.h): on the GPU a CUDA graph, one launch per step; on the CPU the
// step runs again under the steady-state guard.
//
// What changes from step to step reaches the recorded work through device memory, written in stream order before
// the replay: the learning rate (Sgd::set_lr) and the presented batch's indices (copied to a fixed buffer); the
// images and targets are built into fixed buffers. What stays fixed while a recording is valid is its key: the
// addresses of those buffers and the host values the step's kernels take as arguments (batch size, targets per
// image, the sampler's recorded_step_key, e.g. ordered SGD's q). Each key gets its own recording (a few at most:
// selective backprop's scoring with staleness comes in up to four sizes).
//
// A key is recorded once it is warm: its last eager run grew nothing on the step's arena (the first run of a shape
// makes the arena's chunks, cuDNN plans and workspaces; the second folds the chunks and runs in the one block), so
// recording (under the steady-state guard) allocates nothing. A recording is valid while the arena's memory and
// the backend's scratch stay where it was made; when either moves (a bigger shape ran on the same tape, a bigger
// batch grew the scratch) the recording is dropped and its key warms up again, eagerly.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/arena.h"
#include "engine/phase_timer.h"
#include "engine/step_graph.h"

namespace bts {

struct RecordedStepKey {
  std::vector<const void*> addresses;  // every buffer the step reads or writes whose address could change
  std::vector<int64_t> values;         // every host value its kernels take that could change
  bool operator<(const RecordedStepKey& o) const {  // std::less: a total order on unrelated pointers
    if (addresses != o.addresses)
      return std::lexicographical_compare(addresses.begin(), addresses.end(), o.addresses.begin(), o.addresses.end(),
                                          std::less<const void*>());
    return values < o.values;
  }
};

class RecordedStep {
 public:
  static constexpr const char* kPhase = "recorded step";  // a replayed training step's time: forward to optimizer
  static constexpr size_t kMaxRecordings = 8;             // more keys than this: the oldest recordings go

  // arena: the memory the work allocates its tensors from (its tape's), watched for moves. phase: what a replay is
  // timed as (empty: not timed here, the caller's phase covers it); label: errors' name for the step.
  RecordedStep(Device device, bool enabled, const Arena& arena, std::string phase, std::string label);

  // One step: `work` runs the step's device work, timing its phases on the timer it is given (nullptr while
  // recording). It must read only device memory and what `key` names, since a replay repeats the recorded calls.
  void run(const RecordedStepKey& key, const std::function<void(PhaseTimer*)>& work, PhaseTimer& timer);

  bool enabled() const { return enabled_; }
  // For result.json: whether the step is recorded, as a CUDA graph or not, and how often (this process).
  nlohmann::json summary() const;

 private:
  static constexpr size_t kNotWarm = static_cast<size_t>(-1);
  struct Entry {
    // The arena's generation after this key's last eager run, when that run grew nothing: the key is recordable,
    // and its recording valid, while the arena stays at it. kNotWarm: it must run eagerly first.
    size_t warm_at = kNotWarm;
    std::unique_ptr<StepGraph> graph;
    uint64_t order = 0;  // when it was last used (eviction)
  };

  Device device_;
  bool enabled_;
  const Arena& arena_;
  std::string phase_, label_;
  std::map<RecordedStepKey, Entry> entries_;
  uint64_t uses_ = 0;
  int64_t eager_ = 0, recordings_ = 0, replays_ = 0;
  bool cuda_graph_ = false;
};

}  // namespace bts
