// Which device to run on: CUDA when the build has it and a GPU answers, otherwise the CPU, with the reason.
#pragma once
#include <string>

#include "engine/backend.h"
#include "engine/device_spec.h"  // parse_device_spec, is_device_spec
#include "engine/dtype.h"

namespace bts {

struct DeviceStatus {
  bool cuda_built = false;
  int cuda_devices = 0;
  std::string description;  // the GPU's name, or why there is none
};

DeviceStatus probe_devices();
// One line for logs: "CUDA: NVIDIA H200 (...)" (", 1 of 8 CUDA devices" when there are several) or
// "CPU (no CUDA device: ...)".
std::string device_summary(const DeviceStatus& s);

// Resolves a spec on this machine and, for a GPU, selects it for the whole process (before anything runs on it):
// throws for "cuda" without a GPU, or an index beyond those present, naming what there is.
Device choose_device(const std::string& spec);
// The GPU this process runs on (name, index, UUID), for results; meaningful after choose_device picked CUDA.
DeviceIdentity chosen_gpu();

}  // namespace bts
