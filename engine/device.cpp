#include "engine/device.h"

#ifdef BTS_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace bts {

DeviceStatus probe_devices() {
  DeviceStatus s;
#ifdef BTS_WITH_CUDA
  s.cuda_built = true;
  std::string why;
  s.cuda_devices = cuda::device_count(&why);
  s.description = s.cuda_devices > 0 ? cuda::device_description(0) : why;
#else
  s.description = "this build has no CUDA backend";
#endif
  return s;
}

std::string device_summary(const DeviceStatus& s) {
  if (s.cuda_devices > 0) return "CUDA: " + s.description;
  return "CPU (no CUDA device: " + s.description + ")";
}

}  // namespace bts
