#include <cuda_runtime.h>

#include <cstdio>

#include "kernels/cuda/device.h"

namespace bts::cuda {

int device_count(std::string* why) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device present";
  return n;
}

std::string device_description(int index) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, index) != cudaSuccess) return "unknown CUDA device";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s (cc %d.%d, %.1f GiB)", p.name, p.major, p.minor,
                static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

std::string device_uuid(int index) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, index) != cudaSuccess) return "";
  const auto* u = reinterpret_cast<const unsigned char*>(p.uuid.bytes);
  char buf[48];
  std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return buf;
}

bool select_device(int index, std::string* why) {
  const cudaError_t err = cudaSetDevice(index);
  if (err == cudaSuccess) return true;
  if (why) *why = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
  cudaGetLastError();
  return false;
}

}  // namespace bts::cuda
