#include "engine/buffer.h"

#include <cstring>
#include <utility>

#include "engine/backend.h"
#include "engine/steady_state.h"
#include "kernels/common/check.h"

namespace bts {

Buffer::Buffer(Device device, size_t bytes) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  steady_state::note_allocation(device, bytes, "a Buffer");
  ptr_ = backend(device).allocate(bytes);
}

Buffer::~Buffer() { release(); }

Buffer::Buffer(Buffer&& o) noexcept
    : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)), device_(o.device_) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
    device_ = o.device_;
  }
  return *this;
}

void Buffer::release() {
  if (!ptr_) return;
  // A buffer exists only if its backend allocated it, so the backend is there to take it back.
  backend(device_).release(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    std::memmove(dst, src, bytes);
    return;
  }
  // One side (or both) is a device's memory: that device's backend moves the bytes, in its stream's order.
  BTS_CHECK(dst_dev == src_dev || dst_dev == Device::CPU || src_dev == Device::CPU,
            "copy between two different device kinds (" << device_name(src_dev) << " -> " << device_name(dst_dev)
                                                       << ") is not supported");
  const bool touches_host = dst_dev == Device::CPU || src_dev == Device::CPU;
  backend(dst_dev != Device::CPU ? dst_dev : src_dev).copy(dst, src, bytes, touches_host);
}

void zero_bytes(void* dst, Device dev, size_t bytes) { fill_bytes(dst, dev, 0, bytes); }

void fill_bytes(void* dst, Device dev, int value, size_t bytes) {
  if (bytes == 0) return;
  backend(dev).fill(dst, value, bytes);
}

}  // namespace bts
