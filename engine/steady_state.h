// The steady-state guard: proves, rather than assumes, that a warmed-up training step neither waits for the
// device nor allocates memory.
//
// A step that reads a device value back to the host (a loss, a count, an event's time) drains the device's queue:
// the GPU idles while the host catches up, and a CUDA graph cannot hold the step. A step that allocates (cudaMalloc,
// an arena that grows, a library's temporary storage) costs a synchronising driver call and moves addresses. Both
// are fine while warming up and at an epoch's end (evaluation, checkpoints, progress lines), never in between.
//
// While a SteadyStateScope is alive on a thread, the engine's choke points throw SteadyStateViolation naming what
// happened and the scope's label:
//   - allocation: every Buffer (engine/buffer.cpp; the arena grows through it), the CUDA backend's grow-only
//     buffers (scratch, cuDNN workspace, count word) and a new cuDNN convolution plan. Not seen: freeing (a
//     destructor cannot throw; a block freed in a steady step was allocated in one, or came from warm-up) and
//     allocations inside libraries beyond those. A new timing event counts too (engine/phase_timer.h keeps a
//     bounded pool, made up front);
//   - waits for the device: to_double_vector and Tensor::fill (on any device: on the CPU backend these are the
//     same code paths a GPU run takes), Tensor::to(cpu) from a device (to(cpu) of a CPU tensor is a copy on the
//     device: only its allocation counts), copies between device and host memory, Backend::synchronize and
//     elapsed_ms, and the backend calls that hand a device-computed value to the host (selective backprop's
//     sb_select and sb_split_stale) -- in both backends, so a CPU test catches what a GPU run would do. A copy
//     within the CPU's memory is not one (on the GPU it is a device-to-device copy).
// The trainer arms it from the second epoch this process trains (TrainOptions::check_steady_state, `bts train
// --check-steady-state`) around the sampler's draw and the steps, and around evaluations after the first;
// progress lines and checkpoints stay outside. A scope nests; SteadyStatePause lifts it for an explicitly allowed
// read inside one.
#pragma once
#include <cstddef>
#include <string>

#include "engine/dtype.h"
#include "kernels/common/check.h"

namespace bts {

class SteadyStateViolation : public Error {
 public:
  using Error::Error;
};

class SteadyStateScope {
 public:
  explicit SteadyStateScope(std::string label);
  ~SteadyStateScope();
  SteadyStateScope(const SteadyStateScope&) = delete;
  SteadyStateScope& operator=(const SteadyStateScope&) = delete;

 private:
  std::string previous_;
  bool was_active_;
};

// Lifts the guard on this thread until destroyed (a read the caller has decided to allow).
class SteadyStatePause {
 public:
  SteadyStatePause();
  ~SteadyStatePause();
  SteadyStatePause(const SteadyStatePause&) = delete;
  SteadyStatePause& operator=(const SteadyStatePause&) = delete;

 private:
  bool was_active_;
};

namespace steady_state {
bool active();
// Throw SteadyStateViolation when the guard is active on this thread.
void note_allocation(Device device, size_t bytes, const char* what);
void note_host_wait(const char* what);  // a read back, an upload, a synchronize
}  // namespace steady_state

}  // namespace bts
