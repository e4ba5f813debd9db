// A training step recorded once and replayed.
//
// On the GPU the step's work is captured into a CUDA graph: a replay is one launch instead of ~250 kernel and
// library launches, with no host work per step (the ops' host code, the tape and the shape checks ran once, at
// capture). Everything the step reads or writes must stay at the same addresses and every argument must stay the
// same: tensors made before the capture or in a warmed-up tape arena (Tape::clear reuses the same memory), and
// per-step values (learning rate, step index, seeds) that do not change -- or that the step reads from device memory.
// A step that allocates or waits for the device cannot be captured, so capture runs under the steady-state guard
// (engine/steady_state.h) and such a step fails naming what it did. Warm the step up first, two plain steps: the
// first makes the tape arena's chunks, cuDNN plans and workspaces, the second's Tape::clear folds the chunks into
// one block (engine/arena.h); from the third on nothing is allocated.
//
// After capture, the memory the graph holds must stay put: the step's tensors and tape (use that tape for nothing
// else), and the backend's scratch and workspace, whose growth (a larger batch or model run in between) replay
// detects and refuses (Backend::memory_generation).
//
// On a backend without graphs (the CPU) the step is kept and called again by replay(), under the same guard: the
// engine code a GPU capture would run is proved capturable by the CPU tests.
#pragma once
#include <functional>
#include <string>

#include "engine/backend.h"

namespace bts {

class StepGraph {
 public:
  // Records `step` (the GPU: captures it; nothing runs until replay) or keeps it. `label` names it in errors.
  StepGraph(Device device, std::function<void()> step, std::string label = "a recorded step");
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // Runs the recorded step once more, in stream order.
  void replay();
  // True when replay launches a captured graph, false when it calls the step again.
  bool is_graph() const { return graph_ != nullptr; }
  // False once the backend's scratch or workspace moved since capture: replay would refuse; record anew.
  bool current() const { return !graph_ || backend_.memory_generation() == generation_; }

 private:
  Backend& backend_;
  std::function<void()> step_;
  std::string label_;
  GraphHandle graph_ = nullptr;
  uint64_t generation_ = 0;  // the backend's memory_generation at capture
};

}  // namespace bts
