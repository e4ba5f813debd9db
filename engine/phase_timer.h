// Wall-clock per phase (sampling, augmentation, forward, backward, optimizer, scoring, evaluation...).
// start/stop record events of the device's backend in stream order (CUDA events on the GPU, so the host never
// waits inside a step; host timestamps on the CPU); collect() waits once and sums the intervals.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"

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
    EventHandle begin = nullptr;
    EventHandle end = nullptr;
  };
  EventHandle take_event();
  Backend& backend_;
  std::vector<Interval> open_, done_;
  std::vector<EventHandle> event_pool_;
};

}  // namespace bts
