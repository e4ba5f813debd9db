#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/common/channel_chunks.h"
#include "kernels/common/rounded.h"
#include "kernels/common/check.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/elements.cuh"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {

constexpr int kReduceThreads = 256;
// Channels-last reduction blocks: kTile adjacent channels (one warp's lanes) x kRows rows.
constexpr int kTile = 32, kRows = kReduceThreads / kTile;

// Chunks per channel: enough (chunk x channel) blocks to cover every SM about twice, whole images per chunk, and
// at least 4,096 elements per block so a block's fixed cost stays small. Channels last: a block covers a tile of
// up to 32 channels, so there are fewer channel blocks to fill the GPU with and more elements per row.
int64_t chunks_per_channel(const BatchNormShape& s) {
  const int64_t sms2 = 2 * static_cast<int64_t>(multiprocessor_count());
  if (s.channels_last) {
    const int64_t tiles = (s.C + kTile - 1) / kTile;
    const int64_t want = (sms2 + tiles - 1) / tiles;
    const int64_t by_size = std::max<int64_t>(1, s.N * s.HW * std::min<int64_t>(s.C, kTile) / 4096);
    return std::max<int64_t>(1, std::min({want, s.N, by_size}));
  }
  const int64_t want = (sms2 + s.C - 1) / s.C;
  const int64_t by_size = std::max<int64_t>(1, s.N * s.HW / 4096);
  return std::max<int64_t>(1, std::min({want, s.N, by_size}));
}

// Image 0's first value of channel c: the shift K of the forward sums, the same in every chunk.
__device__ __forceinline__ int64_t first_of_channel(const BatchNormShape& s, int64_t c) {
  return s.channels_last ? c : c * s.HW;
}

__device__ double block_sum(double v, double* shared) { return block_reduce(v, shared, Sum()); }

// This thread's elements of channel c in chunk p (kernels/common/channel_chunks.h: no division per element).
template <typename F>
__device__ void for_each_in_chunk(const BatchNormShape& s, int64_t chunks, int64_t p, int64_t c, F&& f) {
  int64_t n0, n1;
  chunk_images(s.N, chunks, p, &n0, &n1);
  walk_channel_chunk(s.C, s.HW, c, n0, n1, threadIdx.x, blockDim.x, f);
}

// Channels last: this thread's elements of channel c in chunk p, rows threadIdx.y, + kRows, ... of the chunk's.
template <typename F>
__device__ void for_each_row_in_chunk(const BatchNormShape& s, int64_t chunks, int64_t p, int64_t c, F&& f) {
  int64_t n0, n1;
  chunk_images(s.N, chunks, p, &n0, &n1);
  const int64_t end = n1 * s.HW * s.C + c, step = int64_t{kRows} * s.C;
  for (int64_t off = (n0 * s.HW + threadIdx.y) * s.C + c; off < end; off += step) f(off);
}

// Channels last: the block's kRows row sums of each channel added in row order (fixed, so deterministic) ->
// partial[(c * P + p) * 2 + {0, 1}], the layout the finishing kernels read. shared: 2 * kRows * kTile doubles.
__device__ void rows_to_partial(double a, double b, double* shared, int64_t C, int64_t chunks, double* partial) {
  const int tx = threadIdx.x, ty = threadIdx.y;
  shared[ty * kTile + tx] = a;
  shared[(kRows + ty) * kTile + tx] = b;
  __syncthreads();
  const int64_t c = blockIdx.y * int64_t{kTile} + tx, p = blockIdx.x;
  if (ty == 0 && c < C) {
    for (int r = 1; r < kRows; ++r) {
      a += shared[r * kTile + tx];
      b += shared[(kRows + r) * kTile + tx];
    }
    partial[(c * chunks + p) * 2] = a;
    partial[(c * chunks + p) * 2 + 1] = b;
  }
}

// Block (p, c): the shifted sums of chunk p of channel c -> partial[(c * P + p) * 2 + {0, 1}].
template <typename T>
__global__ void bn_stats_partial_kernel(BatchNormShape s, int64_t chunks, const T* x, double* partial) {
  __shared__ double shared[kReduceThreads];
  const int64_t p = blockIdx.x, c = blockIdx.y;
  const double K = load(x + c * s.HW);
  double s1 = 0, s2 = 0;
  for_each_in_chunk(s, chunks, p, c, [&](int64_t off) {
    const double d = static_cast<double>(load(x + off)) - K;
    s1 += d;
    s2 += d * d;
  });
  s1 = block_sum(s1, shared);
  s2 = block_sum(s2, shared);
  if (threadIdx.x == 0) {
    partial[(c * chunks + p) * 2] = s1;
    partial[(c * chunks + p) * 2 + 1] = s2;
  }
}

// Channels last, block (p, tile): the same sums for the tile's channels.
template <typename T>
__global__ void bn_stats_partial_nhwc_kernel(BatchNormShape s, int64_t chunks, const T* x, double* partial) {
  __shared__ double shared[2 * kRows * kTile];
  const int64_t c = blockIdx.y * int64_t{kTile} + threadIdx.x;
  double s1 = 0, s2 = 0;
  if (c < s.C) {
    const double K = load(x + c);
    for_each_row_in_chunk(s, chunks, blockIdx.x, c, [&](int64_t off) {
      const double d = static_cast<double>(load(x + off)) - K;
      s1 += d;
      s2 += d * d;
    });
  }
  rows_to_partial(s1, s2, shared, s.C, chunks, partial);
}

// One thread per channel: the partials in chunk order, then the statistics (as the CPU's: biased variance for
// normalising, unbiased for the running estimate). stats_2c = {mean[C], invstd[C]} for the apply kernel.
template <typename T>
__global__ void bn_stats_finish_kernel(BatchNormShape s, int64_t chunks, const T* x, const double* partial,
                                       float eps, float momentum, float* save_mean, float* save_invstd,
                                       float* running_mean, float* running_var, double* stats_2c) {
  BTS_GRID_STRIDE(c, s.C) {
    double s1 = 0, s2 = 0;
    for (int64_t p = 0; p < chunks; ++p) {
      s1 += partial[(c * chunks + p) * 2];
      s2 += partial[(c * chunks + p) * 2 + 1];
    }
    const double M = static_cast<double>(s.N * s.HW);
    const double K = load(x + first_of_channel(s, c));
    const double mean = K + s1 / M;
    const double sq = fmax(0.0, s2 - s1 * (s1 / M));  // sum of (x - mean)^2
    const double var = sq / M;
    const double invstd = 1.0 / sqrt(var + static_cast<double>(eps));
    stats_2c[c] = mean;
    stats_2c[s.C + c] = invstd;
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    const double unbiased = M > 1 ? sq / (M - 1) : var;
    const double keep = 1.0 - static_cast<double>(momentum), mom = momentum;
    running_mean[c] = static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_mean[c])), mul_rn(mom, mean)));
    running_var[c] =
        static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_var[c])), mul_rn(mom, unbiased)));
  }
}

// The element-wise kernels: channel of element i = (i / HW) % C (NCHW) or i % C (channels last), in 32-bit
// arithmetic when the tensor allows (Index = uint32_t), else 64-bit.
template <bool kChannelsLast, typename Index>
__device__ __forceinline__ Index channel_of(Index i, Index HW, Index C) {
  return kChannelsLast ? i % C : (i / HW) % C;
}

// With relu, the ReLU after the BatchNorm in the same pass (on the float result: the bits of BN then ReLU). With a
// shortcut z (a residual block's end), relu(BN + z): the BN value rounded to T first, as the BatchNorm kernel would
// store it, then added in float as the add + ReLU kernel does, so the bits are those of the two kernels.
template <typename T, typename Index, bool kChannelsLast>
__global__ void bn_apply_kernel(Index n, Index HW, Index C, const T* x, const double* stats_2c, const float* gamma,
                                const float* beta, bool relu, const T* z, T* y) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = channel_of<kChannelsLast>(i, HW, C);
    const double xhat = mul_rn(static_cast<double>(load(x + i)) - stats_2c[c], stats_2c[C + c]);
    float v = static_cast<float>(add_rn(mul_rn(xhat, static_cast<double>(gamma[c])), static_cast<double>(beta[c])));
    if (z) {
      T bn;
      store(&bn, v, false);
      v = load(&bn) + load(z + i);
      store(y + i, v > 0.f ? v : 0.f, false);
    } else {
      store(y + i, relu && !(v > 0.f) ? 0.f : v, false);
    }
  }
}

// The gradient reaching the BatchNorm: dy itself, or, when a ReLU followed it (relu_y = the ReLU's output), dy
// where the ReLU passed its input and 0 where it did not: the ReLU's backward, folded into the reads.
template <typename T>
__device__ __forceinline__ float bn_upstream(const T* dy, const T* relu_y, int64_t i) {
  return relu_y == nullptr || load(relu_y + i) > 0.f ? load(dy + i) : 0.f;
}

// Eval mode: each channel's scale and shift once (not per element), as the CPU computes them.
__global__ void bn_eval_coefficients_kernel(int64_t C, const float* gamma, const float* beta, float eps,
                                            const float* running_mean, const float* running_var, double* coef_2c) {
  BTS_GRID_STRIDE(c, C) {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[c]) + static_cast<double>(eps));
    const double scale = mul_rn(static_cast<double>(gamma[c]), invstd);
    coef_2c[c] = scale;
    coef_2c[C + c] = add_rn(static_cast<double>(beta[c]), -mul_rn(static_cast<double>(running_mean[c]), scale));
  }
}

template <typename T, typename Index, bool kChannelsLast>
__global__ void bn_eval_kernel(Index n, Index HW, Index C, const T* x, const double* coef_2c, T* y) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = channel_of<kChannelsLast>(i, HW, C);
    store(y + i, static_cast<float>(add_rn(mul_rn(static_cast<double>(load(x + i)), coef_2c[c]), coef_2c[C + c])),
          false);
  }
}

// Block (p, c): chunk p's sums of dy and dy * xhat -> partial.
template <typename T>
__global__ void bn_backward_partial_kernel(BatchNormShape s, int64_t chunks, const T* x, const T* dy,
                                           const T* relu_y, const float* mean, const float* invstd,
                                           double* partial) {
  __shared__ double shared[kReduceThreads];
  const int64_t p = blockIdx.x, c = blockIdx.y;
  const double m = mean[c], is = invstd[c];
  double sdy = 0, sdyx = 0;
  for_each_in_chunk(s, chunks, p, c, [&](int64_t off) {
    const float g = bn_upstream(dy, relu_y, off);
    sdy += g;
    sdyx += g * (load(x + off) - m) * is;
  });
  sdy = block_sum(sdy, shared);
  sdyx = block_sum(sdyx, shared);
  if (threadIdx.x == 0) {
    partial[(c * chunks + p) * 2] = sdy;
    partial[(c * chunks + p) * 2 + 1] = sdyx;
  }
}

// Channels last, block (p, tile): the same sums for the tile's channels.
template <typename T>
__global__ void bn_backward_partial_nhwc_kernel(BatchNormShape s, int64_t chunks, const T* x, const T* dy,
                                                const T* relu_y, const float* mean, const float* invstd,
                                                double* partial) {
  __shared__ double shared[2 * kRows * kTile];
  const int64_t c = blockIdx.y * int64_t{kTile} + threadIdx.x;
  double sdy = 0, sdyx = 0;
  if (c < s.C) {
    const double m = mean[c], is = invstd[c];
    for_each_row_in_chunk(s, chunks, blockIdx.x, c, [&](int64_t off) {
      const float g = bn_upstream(dy, relu_y, off);
      sdy += g;
      sdyx += g * (load(x + off) - m) * is;
    });
  }
  rows_to_partial(sdy, sdyx, shared, s.C, chunks, partial);
}

__global__ void bn_backward_finish_kernel(BatchNormShape s, int64_t chunks, const double* partial, float* dgamma,
                                          float* dbeta, bool accumulate, double* sums_2c) {
  BTS_GRID_STRIDE(c, s.C) {
    double sdy = 0, sdyx = 0;
    for (int64_t p = 0; p < chunks; ++p) {
      sdy += partial[(c * chunks + p) * 2];
      sdyx += partial[(c * chunks + p) * 2 + 1];
    }
    sums_2c[c] = sdy;
    sums_2c[s.C + c] = sdyx;
    dgamma[c] = static_cast<float>(accumulate ? dgamma[c] + sdyx : sdyx);
    dbeta[c] = static_cast<float>(accumulate ? dbeta[c] + sdy : sdy);
  }
}

template <typename T, typename Index, bool kChannelsLast>
__global__ void bn_backward_dx_kernel(Index n, Index HW, Index C, double M, const T* x, const T* dy,
                                      const T* relu_y, const float* gamma, const float* mean, const float* invstd,
                                      const double* sums_2c, T* dx, bool accumulate, T* dz, bool accumulate_dz) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = channel_of<kChannelsLast>(i, HW, C);
    const double xhat = (load(x + i) - static_cast<double>(mean[c])) * invstd[c];
    const double k = static_cast<double>(gamma[c]) * invstd[c] / M;
    const float g = bn_upstream(dy, relu_y, static_cast<int64_t>(i));
    const float v = static_cast<float>(k * (M * g - sums_2c[c] - xhat * sums_2c[C + c]));
    store(dx + i, v, accumulate);
    if (dz) store(dz + i, g, accumulate_dz);  // the shortcut's gradient: what the ReLU passed, as add + ReLU gives it
  }
}

// The reductions put channels (or channel tiles) on gridDim.y.
void check_channels(const BatchNormShape& s) {
  BTS_CHECK(s.C >= 1 && s.C <= 65535, "BatchNorm over " << s.C << " channels: the GPU kernels take 1 to 65,535");
}

bool fits_32_bits(const BatchNormShape& s) {
  // i + gridDim * blockDim must not wrap either: leave a grid's worth of headroom.
  return s.N * s.C * s.HW + int64_t{kThreads} * grid_for(s.N * s.C * s.HW) < (int64_t{1} << 32);
}

// Calls launch(Index{}, std::bool_constant<channels last>{}) for the element-wise kernels' index width and layout.
template <typename F>
void with_index_and_layout(const BatchNormShape& s, F&& launch) {
  if (fits_32_bits(s)) {
    if (s.channels_last)
      launch(uint32_t{}, std::true_type{});
    else
      launch(uint32_t{}, std::false_type{});
  } else {
    if (s.channels_last)
      launch(uint64_t{}, std::true_type{});
    else
      launch(uint64_t{}, std::false_type{});
  }
}

// The reduction grid: (chunk, channel) blocks of kReduceThreads, or (chunk, channel tile) blocks of kTile x kRows.
dim3 reduce_grid(const BatchNormShape& s, int64_t chunks) {
  const int64_t y = s.channels_last ? (s.C + kTile - 1) / kTile : s.C;
  return dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(y));
}
dim3 reduce_block(const BatchNormShape& s) { return s.channels_last ? dim3(kTile, kRows) : dim3(kReduceThreads); }

}  // namespace

size_t batchnorm_scratch_doubles(const BatchNormShape& s) {
  return static_cast<size_t>(2 * s.C * chunks_per_channel(s) + 2 * s.C);
}

template <typename T>
void batchnorm_forward_train(cudaStream_t st, const BatchNormShape& s, const T* x, const float* gamma,
                             const float* beta, float eps, float momentum, T* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, double* scratch,
                             bool relu, const typename BatchNormElement<T>::type* z) {
  check_channels(s);
  const int64_t P = chunks_per_channel(s), n = s.N * s.C * s.HW;
  double* partial = scratch;
  double* stats_2c = scratch + 2 * s.C * P;
  if (s.channels_last)
    bn_stats_partial_nhwc_kernel<T><<<reduce_grid(s, P), reduce_block(s), 0, st>>>(s, P, x, partial);
  else
    bn_stats_partial_kernel<T><<<reduce_grid(s, P), reduce_block(s), 0, st>>>(s, P, x, partial);
  BTS_CUDA_LAUNCH_CHECK("bn_stats_partial");
  bn_stats_finish_kernel<T><<<grid_for(s.C), kThreads, 0, st>>>(s, P, x, partial, eps, momentum, save_mean,
                                                                save_invstd, running_mean, running_var, stats_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_stats_finish");
  with_index_and_layout(s, [&](auto index, auto channels_last) {
    using Index = decltype(index);
    bn_apply_kernel<T, Index, decltype(channels_last)::value><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<Index>(n), static_cast<Index>(s.HW), static_cast<Index>(s.C), x, stats_2c, gamma, beta, relu, z,
        y);
  });
  BTS_CUDA_LAUNCH_CHECK("bn_apply");
}

template <typename T>
void batchnorm_forward_eval(cudaStream_t st, const BatchNormShape& s, const T* x, const float* gamma,
                            const float* beta, float eps, const float* running_mean, const float* running_var, T* y,
                            double* scratch) {
  const int64_t n = s.N * s.C * s.HW;
  bn_eval_coefficients_kernel<<<grid_for(s.C), kThreads, 0, st>>>(s.C, gamma, beta, eps, running_mean, running_var,
                                                                  scratch);
  BTS_CUDA_LAUNCH_CHECK("bn_eval_coefficients");
  with_index_and_layout(s, [&](auto index, auto channels_last) {
    using Index = decltype(index);
    bn_eval_kernel<T, Index, decltype(channels_last)::value><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<Index>(n), static_cast<Index>(s.HW), static_cast<Index>(s.C), x, scratch, y);
  });
  BTS_CUDA_LAUNCH_CHECK("bn_eval");
}

template <typename T>
void batchnorm_backward(cudaStream_t st, const BatchNormShape& s, const T* x, const T* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, T* dx, float* dgamma, float* dbeta,
                        bool accumulate_dx, bool accumulate_params, double* scratch,
                        const typename BatchNormElement<T>::type* relu_y, typename BatchNormElement<T>::type* dz,
                        bool accumulate_dz) {
  check_channels(s);
  BTS_CHECK(!dz || relu_y, "batchnorm_backward: the shortcut's gradient needs the ReLU's output");
  const int64_t P = chunks_per_channel(s), n = s.N * s.C * s.HW;
  double* partial = scratch;
  double* sums_2c = scratch + 2 * s.C * P;
  if (s.channels_last)
    bn_backward_partial_nhwc_kernel<T><<<reduce_grid(s, P), reduce_block(s), 0, st>>>(s, P, x, dy, relu_y,
                                                                                       save_mean, save_invstd, partial);
  else
    bn_backward_partial_kernel<T><<<reduce_grid(s, P), reduce_block(s), 0, st>>>(s, P, x, dy, relu_y, save_mean,
                                                                                  save_invstd, partial);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_partial");
  bn_backward_finish_kernel<<<grid_for(s.C), kThreads, 0, st>>>(s, P, partial, dgamma, dbeta, accumulate_params,
                                                                sums_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_finish");
  const double M = static_cast<double>(s.N * s.HW);
  with_index_and_layout(s, [&](auto index, auto channels_last) {
    using Index = decltype(index);
    bn_backward_dx_kernel<T, Index, decltype(channels_last)::value><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<Index>(n), static_cast<Index>(s.HW), static_cast<Index>(s.C), M, x, dy, relu_y, gamma,
        save_mean, save_invstd, sums_2c, dx, accumulate_dx, dz, accumulate_dz);
  });
  BTS_CUDA_LAUNCH_CHECK("bn_backward_dx");
}

#define BTS_INSTANTIATE(T)                                                                                          \
  template void batchnorm_forward_train<T>(cudaStream_t, const BatchNormShape&, const T*, const float*,            \
                                           const float*, float, float, T*, float*, float*, float*, float*, double*, \
                                           bool, const T*);                                                         \
  template void batchnorm_forward_eval<T>(cudaStream_t, const BatchNormShape&, const T*, const float*, const float*, \
                                          float, const float*, const float*, T*, double*);                          \
  template void batchnorm_backward<T>(cudaStream_t, const BatchNormShape&, const T*, const T*, const float*,        \
                                      const float*, const float*, T*, float*, float*, bool, bool, double*, const T*, \
                                      T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(uint16_t)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cuda
