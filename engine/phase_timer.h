// Wall-clock per phase (sampling, augmentation, forward, backward, optimizer, scoring, evaluation...).
// On the GPU, start/stop record CUDA events on the current stream, so the host never waits inside a step;
// collect() waits once and sums the event intervals. On the CPU it reads a steady clock.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/dtype.h"

namespace bts {

class PhaseTimer {
 public:
  explicit PhaseTimer(Device device);
  ~PhaseTimer();
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  void start(const std::string& phase);
  void stop(const std::string& phase);
  // Milliseconds per phase since the last collect() (waits for the device), then starts afresh.
  std::map<std::string, double> collect();

 private:
  struct Interval {
    std::string phase;
    void* begin = nullptr;  // cudaEvent_t on the GPU
    void* end = nullptr;
    double begin_ms = 0, end_ms = 0;  // CPU clock
  };
  Device device_;
  std::vector<Interval> open_, done_;
  std::vector<void*> event_pool_;
  void* take_event();
  double now_ms() const;
};

}  // namespace bts
