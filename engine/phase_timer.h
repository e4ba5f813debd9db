// Wall-clock per phase (sampling, augmentation, forward, backward, optimizer, scoring, evaluation...).
// start/stop record events of the device's backend in stream order (CUDA events on the GPU, so the host never
// waits inside a step; host timestamps on the CPU); collect() waits once and sums the intervals.
//
// The events come from a pool made up front, so a steady step creates none (the steady-state guard counts a new
// event as an allocation). When kMaxPending intervals are waiting for a collect, the oldest ones whose events have
// completed are summed without waiting and their events go back to the pool: the GPU runs at most a few steps
// behind the host, so the pool never has to grow however long the gap between collects.
#pragma once
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"

namespace bts {

class PhaseTimer {
 public:
  static constexpr size_t kMaxPending = 256;

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
  void harvest();  // sums the oldest completed intervals, without waiting
  Backend& backend_;
  std::vector<Interval> open_;
  std::deque<Interval> done_;
  std::map<std::string, double> harvested_;
  std::vector<EventHandle> event_pool_;
};

}  // namespace bts
