#include <cstring>

#include "kernels/common/check.h"
#include "kernels/common/stream_write.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/stream_write.h"

namespace bts::kernels::cuda {

namespace {

struct Payload {
  unsigned char b[kMaxStreamWriteBytes];
};

__global__ void write_bytes_kernel(unsigned char* dst, Payload p, int bytes) {
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) dst[i] = p.b[i];
}

}  // namespace

void write_bytes(cudaStream_t s, void* dst, const void* src, size_t bytes) {
  BTS_CHECK(bytes <= kMaxStreamWriteBytes,
            "write_bytes (cuda): " << bytes << " bytes, at most " << kMaxStreamWriteBytes << " travel by argument");
  if (bytes == 0) return;
  Payload p;
  std::memcpy(p.b, src, bytes);
  write_bytes_kernel<<<1, 128, 0, s>>>(static_cast<unsigned char*>(dst), p, static_cast<int>(bytes));
  BTS_CUDA_LAUNCH_CHECK("write_bytes");
}

}  // namespace bts::kernels::cuda
