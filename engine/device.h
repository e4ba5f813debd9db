// Which device to run on: CUDA when the build has it and a GPU answers, otherwise the CPU, with the reason.
#pragma once
#include <string>

#include "engine/dtype.h"

namespace bts {

struct DeviceStatus {
  bool cuda_built = false;
  int cuda_devices = 0;
  std::string description;  // the GPU's name, or why there is none
};

DeviceStatus probe_devices();
// One line for logs: "CUDA: NVIDIA H200 (...)" or "CPU (no CUDA device: ...)".
std::string device_summary(const DeviceStatus& s);

}  // namespace bts
