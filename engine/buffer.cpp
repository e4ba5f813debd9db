#include "engine/buffer.h"

#include <cstdlib>
#include <cstring>
#include <utility>

#include "engine/check.h"
#include "engine/cuda_check.h"

namespace bts {

namespace {
constexpr size_t kHostAlign = 256;  // matches Arena::kAlign, so arena slices stay 256-byte aligned on the host too
}

Buffer::Buffer(Device device, size_t bytes) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device == Device::CPU) {
    size_t rounded = (bytes + kHostAlign - 1) / kHostAlign * kHostAlign;
    ptr_ = std::aligned_alloc(kHostAlign, rounded);
    BTS_CHECK(ptr_ != nullptr, "host allocation of " << bytes << " bytes failed");
  } else {
#ifdef BTS_WITH_CUDA
    BTS_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
#else
    BTS_FAIL("a CUDA buffer was requested but this build has no CUDA backend (configure with nvcc present)");
#endif
  }
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
  if (device_ == Device::CPU) {
    std::free(ptr_);
  } else {
#ifdef BTS_WITH_CUDA
    cudaFree(ptr_);  // a destructor must not throw; a failed free leaves nothing to recover
#endif
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    std::memmove(dst, src, bytes);
    return;
  }
#ifdef BTS_WITH_CUDA
  BTS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
#else
  BTS_FAIL("copy involving a CUDA buffer in a build without CUDA");
#endif
}

void zero_bytes(void* dst, Device dev, size_t bytes) { fill_bytes(dst, dev, 0, bytes); }

void fill_bytes(void* dst, Device dev, int value, size_t bytes) {
  if (bytes == 0) return;
  if (dev == Device::CPU) {
    std::memset(dst, value, bytes);
    return;
  }
#ifdef BTS_WITH_CUDA
  BTS_CUDA_CHECK(cudaMemset(dst, value, bytes));
#else
  BTS_FAIL("memset of a CUDA buffer in a build without CUDA");
#endif
}

}  // namespace bts
