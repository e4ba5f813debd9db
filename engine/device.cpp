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

DeviceSpec parse_device_spec(const std::string& text) {
  DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = DeviceSpec::Kind::Cpu;
    return d;
  }
  d.kind = DeviceSpec::Kind::Cuda;
  if (text == "cuda") return d;
  const std::string prefix = "cuda:";
  const std::string digits = text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : "";
  BTS_CHECK(!digits.empty() && digits.size() <= 4 && digits.find_first_not_of("0123456789") == std::string::npos,
            "device '" << text << "': expected auto, cpu, cuda or cuda:N (N the index of a visible GPU, 0 ..)");
  d.index = std::stoi(digits);
  return d;
}

bool is_device_spec(const std::string& text) {
  try {
    parse_device_spec(text);
    return true;
  } catch (const Error&) {
    return false;
  }
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
