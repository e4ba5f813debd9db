#include "engine/device.h"

#include "engine/backend.h"

namespace bts {

DeviceStatus probe_devices() {
  DeviceStatus s;
  s.cuda_built = backend_linked(Device::CUDA);
  const BackendProbe p = probe_backend(Device::CUDA);
  s.cuda_devices = p.devices;
  s.description = p.description;
  return s;
}

std::string device_summary(const DeviceStatus& s) {
  if (s.cuda_devices > 0) return "CUDA: " + s.description;
  return "CPU (no CUDA device: " + s.description + ")";
}

}  // namespace bts
