#include "engine/backend.h"

#include <array>

#include "engine/cpu/cpu_backend.h"
#include "kernels/common/check.h"

namespace bts {

namespace {

constexpr size_t kDevices = 2;  // Device::CPU, Device::CUDA

struct Slot {
  BackendRegistration registration;
  Backend* instance = nullptr;  // created on first use and never destroyed: buffers freed during static
                                // destruction still find their backend
};

std::array<Slot, kDevices>& slots() {
  static std::array<Slot, kDevices> s = [] {
    std::array<Slot, kDevices> init{};
    init[static_cast<size_t>(Device::CPU)].registration = cpu_backend_registration();
    return init;
  }();
  return s;
}

Slot& slot(Device d) {
  const auto i = static_cast<size_t>(d);
  BTS_CHECK(i < kDevices, "unknown device " << static_cast<int>(i));
  return slots()[i];
}

}  // namespace

bool register_backend(Device device, BackendRegistration registration) {
  BTS_CHECK(registration.probe && registration.create, "backend registration for " << device_name(device)
                                                                                    << " lacks a probe or factory");
  slot(device).registration = registration;
  return true;
}

bool backend_linked(Device device) { return slot(device).registration.create != nullptr; }

BackendProbe probe_backend(Device device) {
  const Slot& s = slot(device);
  if (!s.registration.probe) return {0, std::string("this build has no ") + device_name(device) + " backend"};
  return s.registration.probe();
}

Backend& backend(Device device) {
  Slot& s = slot(device);
  if (!s.instance) {
    BTS_CHECK(s.registration.create, "this build has no " << device_name(device) << " backend (the "
                                                          << device_name(device)
                                                          << " backend library is not linked; for CUDA, configure "
                                                             "where nvcc is found)");
    s.instance = s.registration.create();
  }
  return *s.instance;
}

}  // namespace bts
