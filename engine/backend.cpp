#include "engine/backend.h"

#include <array>

#include "engine/cpu/cpu_backend.h"
#include "kernels/common/check.h"

namespace bts {

namespace {

constexpr size_t kDevices = 2;  // Device::CPU, Device::CUDA

struct Slot {
  BackendRegistration registration;
  int selected = 0;       // the device index the backend runs on
  bool chosen = false;    // select_backend_device was called
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

void select_backend_device(Device device, int index) {
  Slot& s = slot(device);
  const BackendProbe p = probe_backend(device);
  BTS_CHECK(index >= 0 && index < p.devices,
            "device '" << device_name(device) << ":" << index << "' requested, but "
                       << (p.devices == 0 ? "there is no " + std::string(device_name(device)) + " device (" +
                                                p.description + ")"
                                          : "this machine has " + std::to_string(p.devices) + " (" +
                                                device_name(device) + ":0 .. " + device_name(device) + ":" +
                                                std::to_string(p.devices - 1) + ")"));
  if (s.chosen || s.instance) {
    BTS_CHECK(s.selected == index, "device " << device_name(device) << ":" << s.selected
                                             << " is already in use by this process; cannot switch to "
                                             << device_name(device) << ":" << index);
    return;
  }
  std::string why;
  BTS_CHECK(!s.registration.select || s.registration.select(index, &why),
            "cannot select " << device_name(device) << ":" << index << ": " << why);
  s.selected = index;
  s.chosen = true;
}

DeviceIdentity selected_device(Device device) {
  const Slot& s = slot(device);
  if (s.registration.identify) return s.registration.identify(s.selected);
  return DeviceIdentity{s.selected, device_name(device), ""};
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
