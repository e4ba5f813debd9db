// One struct of kernel arguments kept in device memory. Why: a recorded step (engine/step_graph.h) replays its
// kernels with the arguments they were captured with, so whatever changes per step (the augmentation step, the
// mixing draws, RandAugment's plan) must be read from memory the host rewrites before each replay. write() puts
// the host's value there in stream order (Backend::write_bytes: no wait); get() is the device pointer the
// kernels take. On the CPU the "device" memory is host memory and write() is a copy.
#pragma once
#include <cstdint>
#include <type_traits>

#include "engine/backend.h"
#include "engine/tensor.h"

namespace bts {

template <class T>
class DeviceArgs {
  static_assert(std::is_trivially_copyable_v<T>, "kernel arguments travel as bytes");
  static_assert(sizeof(T) <= kernels::kMaxStreamWriteBytes, "kernel arguments travel by launch argument");
  static_assert(alignof(T) <= 256, "device allocations are 256-byte aligned");

 public:
  DeviceArgs() = default;
  explicit DeviceArgs(Device device)
      : bytes_(Tensor::zeros({static_cast<int64_t>(sizeof(T))}, DType::U8, device)) {}
  bool defined() const { return bytes_.defined(); }
  void write(const T& value) { backend(bytes_.device()).write_bytes(bytes_.raw(), &value, sizeof(T)); }
  const T* get() const { return static_cast<const T*>(bytes_.raw()); }

 private:
  Tensor bytes_;  // U8 [sizeof(T)]
};

}  // namespace bts
