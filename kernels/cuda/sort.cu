#include <cub/device/device_radix_sort.cuh>

#include "kernels/common/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/sort.h"

namespace bts::kernels::cuda {

namespace {
constexpr size_t kAlign = 256;
size_t aligned(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

// CUB's temporary storage for n keys (asked with a null pointer: a host-only size query).
template <typename Key>
size_t cub_temp_bytes(int64_t n, bool descending) {
  size_t bytes = 0;
  cub::DoubleBuffer<Key> k(nullptr, nullptr);
  cub::DoubleBuffer<int32_t> v(nullptr, nullptr);
  const int items = static_cast<int>(n);
  if (descending)
    BTS_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(nullptr, bytes, k, v, items));
  else
    BTS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, k, v, items));
  return bytes;
}
}  // namespace

template <typename Key>
size_t sort_scratch_bytes(int64_t n) {
  BTS_CHECK(n >= 0 && n <= INT32_MAX, "sort of " << n << " keys: CUB sorts at most 2^31 - 1");
  const size_t temp = std::max(cub_temp_bytes<Key>(n, false), cub_temp_bytes<Key>(n, true));
  return aligned(sizeof(Key) * static_cast<size_t>(n)) + aligned(sizeof(int32_t) * static_cast<size_t>(n)) +
         aligned(temp);
}

template <typename Key>
void sort_by_key(cudaStream_t s, Key* keys, int32_t* order, int64_t n, bool descending, void* scratch,
                 size_t scratch_bytes) {
  BTS_CHECK(n >= 0 && n <= INT32_MAX, "sort of " << n << " keys: CUB sorts at most 2^31 - 1");
  BTS_CHECK(scratch_bytes >= sort_scratch_bytes<Key>(n), "sort scratch of " << scratch_bytes << " bytes for " << n
                                                                            << " keys: too small");
  if (n <= 1) return;
  char* p = static_cast<char*>(scratch);
  Key* keys_alt = reinterpret_cast<Key*>(p);
  p += aligned(sizeof(Key) * static_cast<size_t>(n));
  int32_t* order_alt = reinterpret_cast<int32_t*>(p);
  p += aligned(sizeof(int32_t) * static_cast<size_t>(n));
  size_t temp = scratch_bytes - static_cast<size_t>(p - static_cast<char*>(scratch));
  cub::DoubleBuffer<Key> k(keys, keys_alt);
  cub::DoubleBuffer<int32_t> v(order, order_alt);
  const int items = static_cast<int>(n);
  if (descending)
    BTS_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(p, temp, k, v, items, 0, int(sizeof(Key) * 8), s));
  else
    BTS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(p, temp, k, v, items, 0, int(sizeof(Key) * 8), s));
  // The sorted indices may have ended in the second buffer: bring them home, in stream order.
  if (v.Current() != order)
    BTS_CUDA_CHECK(cudaMemcpyAsync(order, v.Current(), sizeof(int32_t) * static_cast<size_t>(n),
                                   cudaMemcpyDeviceToDevice, s));
}

template size_t sort_scratch_bytes<uint64_t>(int64_t);
template size_t sort_scratch_bytes<double>(int64_t);
template void sort_by_key<uint64_t>(cudaStream_t, uint64_t*, int32_t*, int64_t, bool, void*, size_t);
template void sort_by_key<double>(cudaStream_t, double*, int32_t*, int64_t, bool, void*, size_t);

}  // namespace bts::kernels::cuda
