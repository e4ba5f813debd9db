// Stable key/index sorts for the epoch draws (random_order, weighted_order), with CUB's radix sort on
// caller-provided scratch: no allocation and no host synchronisation (Thrust's sort with thrust::cuda::par
// allocates its temporary storage with cudaMalloc and frees it, which waits for the device, every call).
// Radix sorts are stable, so ties keep index order, as the CPU's std::stable_sort does.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

// Bytes of scratch sort_by_key needs for n keys of type Key (the keys' second buffer, the indices' second buffer
// and CUB's temporary storage). Key: uint64_t or double.
template <typename Key>
size_t sort_scratch_bytes(int64_t n);

// Sorts keys[0, n) (ascending, or descending) carrying order[0, n) along; order ends sorted in place (keys are
// left in either buffer: the callers only need the order). scratch: sort_scratch_bytes<Key>(n) bytes, 256-aligned.
template <typename Key>
void sort_by_key(cudaStream_t s, Key* keys, int32_t* order, int64_t n, bool descending, void* scratch,
                 size_t scratch_bytes);

}  // namespace bts::kernels::cuda
