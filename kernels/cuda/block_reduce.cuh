// One block's reduction in a fixed order (a tree over the threads' values in shared memory), so the result has
// the same bits every run: the per-channel, per-epoch and per-batch sums of the GPU kernels that the CPU twins
// check. `shared` holds blockDim.x values (blockDim.x a power of two); every thread gets the result.
#pragma once

namespace bts::kernels::cuda {

struct Sum {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

template <typename T, typename Op>
__device__ T block_reduce(T v, T* shared, Op op) {
  const int t = threadIdx.x;
  shared[t] = v;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) shared[t] = op(shared[t], shared[t + stride]);
    __syncthreads();
  }
  const T total = shared[0];
  __syncthreads();  // shared may be reused by the caller's next reduction
  return total;
}

}  // namespace bts::kernels::cuda
