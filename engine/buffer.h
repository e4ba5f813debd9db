// A move-only owning block of memory on one device. Copies are explicit (copy_bytes) so that a host<->device
// transfer never happens by accident.
#pragma once
#include <cstddef>

#include "engine/dtype.h"

namespace bts {

class Buffer {
 public:
  Buffer() = default;
  Buffer(Device device, size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;

  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void release();
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  Device device_ = Device::CPU;
};

// Copies bytes between any two devices (host<->host, host<->device, device<->device).
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
// Sets bytes to zero on a device.
void zero_bytes(void* dst, Device dev, size_t bytes);
// Sets every byte to `value` on a device (0xFF makes every float and double a NaN: the tests' poison).
void fill_bytes(void* dst, Device dev, int value, size_t bytes);

}  // namespace bts
