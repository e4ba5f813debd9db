#include "engine/device.h"

#include "engine/backend.h"
#include "kernels/common/check.h"

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
  if (s.cuda_devices > 1) {
    const DeviceIdentity g = selected_device(Device::CUDA);
    return "CUDA: " + g.name + ", cuda:" + std::to_string(g.index) + " of " + std::to_string(s.cuda_devices) +
           " CUDA devices";
  }
  if (s.cuda_devices > 0) return "CUDA: " + s.description;
  return "CPU (no CUDA device: " + s.description + ")";
}

Device choose_device(const std::string& spec) {
  const DeviceSpec d = parse_device_spec(spec);
  if (d.kind == DeviceSpec::Kind::Cpu) return Device::CPU;
  const DeviceStatus st = probe_devices();
  if (d.kind == DeviceSpec::Kind::Auto && st.cuda_devices == 0) return Device::CPU;
  BTS_CHECK(st.cuda_devices > 0, "device '" << spec << "' requested but " << device_summary(st));
  select_backend_device(Device::CUDA, d.index < 0 ? 0 : d.index);
  return Device::CUDA;
}

DeviceIdentity chosen_gpu() { return selected_device(Device::CUDA); }

}  // namespace bts
