// CUDA device discovery that never throws and never crashes on a machine without a GPU or driver.
#pragma once
#include <string>

namespace bts::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device, with the reason in *why.
int device_count(std::string* why);
// "NVIDIA H200 (cc 9.0, 139.8 GiB)" for device `index`.
std::string device_description(int index);
// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (as nvidia-smi prints it), or "" when unknown.
std::string device_uuid(int index);
// Makes `index` this thread's (the run's) device, before any context, stream or allocation exists; false with
// the reason in *why.
bool select_device(int index, std::string* why);

}  // namespace bts::cuda
