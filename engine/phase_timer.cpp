#include "engine/phase_timer.h"

#include "kernels/common/check.h"

namespace bts {

namespace {
// Enough for kMaxPending finished intervals and a few open ones, two events each.
constexpr size_t kPoolEvents = 2 * (PhaseTimer::kMaxPending + 16);
}  // namespace

PhaseTimer::PhaseTimer(Device device) : backend_(backend(device)) {
  event_pool_.reserve(kPoolEvents);
  for (size_t i = 0; i < kPoolEvents; ++i) event_pool_.push_back(backend_.create_event());
}

PhaseTimer::~PhaseTimer() {
  for (EventHandle e : event_pool_) backend_.destroy_event(e);
  auto destroy = [this](const Interval& iv) {
    if (iv.begin) backend_.destroy_event(iv.begin);
    if (iv.end) backend_.destroy_event(iv.end);
  };
  for (const auto& iv : open_) destroy(iv);
  for (const auto& iv : done_) destroy(iv);
}

EventHandle PhaseTimer::take_event() {
  if (event_pool_.empty()) return backend_.create_event();
  EventHandle e = event_pool_.back();
  event_pool_.pop_back();
  return e;
}

void PhaseTimer::start(const std::string& phase) {
  for (const auto& iv : open_) BTS_CHECK(iv.phase != phase, "phase '" << phase << "' started twice");
  Interval iv;
  iv.phase = phase;
  iv.begin = take_event();
  backend_.record_event(iv.begin);
  open_.push_back(iv);
}

void PhaseTimer::stop(const std::string& phase) {
  for (size_t i = 0; i < open_.size(); ++i) {
    if (open_[i].phase != phase) continue;
    Interval iv = open_[i];
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
    iv.end = take_event();
    backend_.record_event(iv.end);
    done_.push_back(iv);
    if (done_.size() >= kMaxPending) harvest();
    return;
  }
  BTS_FAIL("phase '" << phase << "' stopped without being started");
}

void PhaseTimer::harvest() {
  while (!done_.empty()) {
    Interval& iv = done_.front();
    double ms = 0;
    if (!backend_.elapsed_ms_if_done(iv.begin, iv.end, &ms)) break;  // the device has not got there yet
    harvested_[iv.phase] += ms;
    event_pool_.push_back(iv.begin);
    event_pool_.push_back(iv.end);
    done_.pop_front();
  }
}

std::map<std::string, double> PhaseTimer::collect() {
  BTS_CHECK(open_.empty(), "collect() with phase '" << open_.front().phase << "' still running");
  // Summed into a copy first: if a wait throws (a device fault, the steady-state guard), nothing is lost.
  std::map<std::string, double> ms = harvested_;
  for (const auto& iv : done_) ms[iv.phase] += backend_.elapsed_ms(iv.begin, iv.end);
  for (const auto& iv : done_) {
    event_pool_.push_back(iv.begin);
    event_pool_.push_back(iv.end);
  }
  done_.clear();
  harvested_.clear();
  return ms;
}

}  // namespace bts
