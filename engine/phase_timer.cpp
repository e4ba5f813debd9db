#include "engine/phase_timer.h"

#include <chrono>

#include "engine/check.h"
#ifdef BTS_WITH_CUDA
#include "engine/cuda_check.h"
#include "kernels/cuda/context.h"
#endif

namespace bts {

PhaseTimer::PhaseTimer(Device device) : device_(device) {
#ifndef BTS_WITH_CUDA
  BTS_CHECK(device == Device::CPU, "PhaseTimer on CUDA in a build without CUDA");
#endif
}

PhaseTimer::~PhaseTimer() {
#ifdef BTS_WITH_CUDA
  for (void* e : event_pool_) cudaEventDestroy(static_cast<cudaEvent_t>(e));
  for (auto* list : {&open_, &done_})
    for (auto& iv : *list) {
      if (iv.begin) cudaEventDestroy(static_cast<cudaEvent_t>(iv.begin));
      if (iv.end) cudaEventDestroy(static_cast<cudaEvent_t>(iv.end));
    }
#endif
}

double PhaseTimer::now_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void* PhaseTimer::take_event() {
#ifdef BTS_WITH_CUDA
  if (!event_pool_.empty()) {
    void* e = event_pool_.back();
    event_pool_.pop_back();
    return e;
  }
  cudaEvent_t e;
  BTS_CUDA_CHECK(cudaEventCreate(&e));
  return e;
#else
  return nullptr;
#endif
}

void PhaseTimer::start(const std::string& phase) {
  for (const auto& iv : open_) BTS_CHECK(iv.phase != phase, "phase '" << phase << "' started twice");
  Interval iv;
  iv.phase = phase;
  if (device_ == Device::CUDA) {
#ifdef BTS_WITH_CUDA
    iv.begin = take_event();
    BTS_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(iv.begin), kernels::cuda::current_context().stream()));
#endif
  } else {
    iv.begin_ms = now_ms();
  }
  open_.push_back(iv);
}

void PhaseTimer::stop(const std::string& phase) {
  for (size_t i = 0; i < open_.size(); ++i) {
    if (open_[i].phase != phase) continue;
    Interval iv = open_[i];
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
    if (device_ == Device::CUDA) {
#ifdef BTS_WITH_CUDA
      iv.end = take_event();
      BTS_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(iv.end), kernels::cuda::current_context().stream()));
#endif
    } else {
      iv.end_ms = now_ms();
    }
    done_.push_back(iv);
    return;
  }
  BTS_FAIL("phase '" << phase << "' stopped without being started");
}

std::map<std::string, double> PhaseTimer::collect() {
  BTS_CHECK(open_.empty(), "collect() with phase '" << open_.front().phase << "' still running");
  std::map<std::string, double> ms;
  for (auto& iv : done_) {
    double t = 0;
    if (device_ == Device::CUDA) {
#ifdef BTS_WITH_CUDA
      float f = 0;
      BTS_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(iv.end)));
      BTS_CUDA_CHECK(cudaEventElapsedTime(&f, static_cast<cudaEvent_t>(iv.begin), static_cast<cudaEvent_t>(iv.end)));
      t = f;
      event_pool_.push_back(iv.begin);
      event_pool_.push_back(iv.end);
#endif
    } else {
      t = iv.end_ms - iv.begin_ms;
    }
    ms[iv.phase] += t;
  }
  done_.clear();
  return ms;
}

}  // namespace bts
