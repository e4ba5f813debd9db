// CUDA device discovery that never throws and never crashes on a machine without a GPU or driver.
#pragma once
#include <string>

namespace bts::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device, with the reason in *why.
int device_count(std::string* why);
// "NVIDIA H200 (cc 9.0, 139.8 GiB)" for device `index`.
std::string device_description(int index);

}  // namespace bts::cuda
