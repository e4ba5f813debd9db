#include <cuda_runtime.h>

#include "kernels/common/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/mixing.h"

namespace bts::kernels::cuda {

namespace {

// The target matrices of mixup and RICAP, b x M. Columns [0, self_cols) name the slot itself (mixup's own image);
// column self_cols + k names perm_k(i). weight[col] is the same for every row (the per-batch lambda or tile area).
struct TargetSpec {
  uint64_t seed = 0, step = 0;
  int M = 0, self_cols = 0;
  float weight[4] = {};
};

__device__ TargetSpec target_spec(const MixupArgs& a) {
  TargetSpec spec;
  spec.seed = a.seed;
  spec.step = a.step;
  spec.M = kMixupTargets;
  spec.self_cols = 1;
  spec.weight[0] = a.lambda;
  spec.weight[1] = a.one_minus_lambda;
  return spec;
}

__device__ TargetSpec target_spec(const RicapArgs& a) {
  TargetSpec spec;
  spec.seed = a.seed;
  spec.step = a.step;
  spec.M = kRicapTargets;
  spec.self_cols = 0;
  for (int k = 0; k < 4; ++k) spec.weight[k] = a.weight[k];
  return spec;
}

// Grid: x = chunks of kThreads slots, y = permutation k. Every block first writes all b keys of its permutation to
// shared memory (b Philox calls, cheaper than a second launch), then each thread ranks its own slot: O(b) compares.
// The spec comes from the arguments in device memory (the per-step draws).
template <class Args>
__global__ void mix_targets_kernel(const int32_t* __restrict__ labels, int64_t b, const Args* __restrict__ args,
                                   int32_t* __restrict__ labels_out, float* __restrict__ label_weights,
                                   int32_t* __restrict__ source_slot) {
  extern __shared__ uint64_t keys[];
  const TargetSpec spec = target_spec(*args);
  const int k = blockIdx.y;
  for (int64_t j = threadIdx.x; j < b; j += blockDim.x) keys[j] = mix_permutation_key(spec.seed, spec.step, k, j);
  __syncthreads();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= b) return;
  const int32_t p = permutation_rank(keys, b, i);
  const int64_t col = spec.self_cols + k, at = i * spec.M + col;
  labels_out[at] = labels[p];
  label_weights[at] = spec.weight[col];
  source_slot[at] = p;
  if (k == 0)
    for (int s = 0; s < spec.self_cols; ++s) {
      labels_out[i * spec.M + s] = labels[i];
      label_weights[i * spec.M + s] = spec.weight[s];
      source_slot[i * spec.M + s] = static_cast<int32_t>(i);
    }
}

template <class Args>
void launch_targets(cudaStream_t stream, const int32_t* labels, int64_t b, const Args* args, int perms,
                    int32_t* labels_out, float* label_weights, int32_t* source_slot) {
  const dim3 grid(static_cast<unsigned>((b + kThreads - 1) / kThreads), static_cast<unsigned>(perms));
  const size_t shared = static_cast<size_t>(b) * sizeof(uint64_t);
  mix_targets_kernel<<<grid, kThreads, shared, stream>>>(labels, b, args, labels_out, label_weights, source_slot);
  BTS_CUDA_LAUNCH_CHECK("mix_targets_kernel");
}

// One thread per output value; the partner slot comes from the targets just written (column 1).
__global__ void mixup_pixels_kernel(const float* __restrict__ images, int64_t b, int64_t per_sample,
                                    const MixupArgs* __restrict__ args_at, const int32_t* __restrict__ source_slot,
                                    float* __restrict__ out) {
  const MixupArgs args = *args_at;
  BTS_GRID_STRIDE(e, b * per_sample) {
    const int64_t i = e / per_sample, r = e - i * per_sample;
    const int64_t partner = source_slot[i * kMixupTargets + 1];
    out[e] = mixup_pixel(args, images[e], images[partner * per_sample + r]);
  }
}

// One thread per output value, in the batch's memory order (NCHW or NHWC): its tile decides the source slot
// (column k of the targets) and the source pixel.
__global__ void ricap_pixels_kernel(const float* __restrict__ images, int64_t b, int c, int h, int w,
                                    const RicapArgs* __restrict__ args_at, const int32_t* __restrict__ source_slot,
                                    bool channels_last, float* __restrict__ out) {
  const RicapArgs args = *args_at;
  const int64_t plane = static_cast<int64_t>(h) * w, per_sample = c * plane;
  const ImageStrides st = image_strides(channels_last ? MemoryOrder::NHWC : MemoryOrder::NCHW, c, plane);
  BTS_GRID_STRIDE(e, b * per_sample) {
    const int64_t i = e / per_sample, r = e - i * per_sample;
    const int ch = static_cast<int>(channels_last ? r % c : r / plane);
    const int pix = static_cast<int>(channels_last ? r / c : r - ch * plane), y = pix / w, x = pix - y * w;
    const RicapSource s = ricap_source(args, y, x);
    const int64_t src = source_slot[i * kRicapTargets + s.k];
    out[e] = images[src * per_sample + ch * st.channel + (static_cast<int64_t>(s.sy) * w + s.sx) * st.pixel];
  }
}

// Grid: x = batch slot, y = chunks of the clipped hole's c * rows * cols values; only the hole is touched. The grid
// is sized for the launcher's bound on the hole (the image), since the hole's side is read on the device. Channels
// vary fastest in an NHWC batch, so consecutive threads write neighbouring values there.
__global__ void cutout_kernel(float* __restrict__ images, int c, int h, int w, const CutoutArgs* __restrict__ args_at,
                              bool channels_last) {
  const CutoutArgs args = *args_at;
  const int64_t slot = blockIdx.x;
  const CutoutBox box = cutout_box(args, slot, h, w);
  const int rows = box.y1 - box.y0, cols = box.x1 - box.x0;
  if (rows <= 0 || cols <= 0) return;
  const int n = c * rows * cols;
  const int64_t plane = static_cast<int64_t>(h) * w;
  const ImageStrides st = image_strides(channels_last ? MemoryOrder::NHWC : MemoryOrder::NCHW, c, plane);
  float* img = images + slot * c * plane;
  for (int e = blockIdx.y * blockDim.x + threadIdx.x; e < n; e += gridDim.y * blockDim.x) {
    const int ch = channels_last ? e % c : e / (rows * cols);
    const int r = channels_last ? e / c : e - ch * rows * cols, dy = r / cols, dx = r - dy * cols;
    img[ch * st.channel + (static_cast<int64_t>(box.y0 + dy) * w + box.x0 + dx) * st.pixel] = 0.0f;
  }
}

}  // namespace

void mixup_batch(cudaStream_t stream, const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                 const MixupArgs* args, float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot) {
  check_mix_batch("mixup_batch (cuda)", b, c, h, w);
  BTS_CHECK(b == 0 || out != images, "mixup_batch (cuda): out must not alias images (partners are read while writing)");
  BTS_CHECK(b == 0 || args != nullptr, "mixup_batch (cuda): no arguments");
  if (b == 0) return;
  launch_targets(stream, labels, b, args, 1, labels_out, label_weights, source_slot);
  const int64_t per_sample = static_cast<int64_t>(c) * h * w;
  mixup_pixels_kernel<<<grid_for(b * per_sample), kThreads, 0, stream>>>(images, b, per_sample, args, source_slot,
                                                                         out);
  BTS_CUDA_LAUNCH_CHECK("mixup_pixels_kernel");
}

void ricap_batch(cudaStream_t stream, const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                 const RicapArgs* args, float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot,
                 MemoryOrder order) {
  check_mix_batch("ricap_batch (cuda)", b, c, h, w);
  check_batch_order("ricap_batch (cuda)", order);
  BTS_CHECK(b == 0 || out != images, "ricap_batch (cuda): out must not alias images (tiles are read while writing)");
  BTS_CHECK(b == 0 || args != nullptr, "ricap_batch (cuda): no arguments");
  if (b == 0) return;
  launch_targets(stream, labels, b, args, 4, labels_out, label_weights, source_slot);
  const int64_t n = b * c * static_cast<int64_t>(h) * w;
  ricap_pixels_kernel<<<grid_for(n), kThreads, 0, stream>>>(images, b, c, h, w, args, source_slot,
                                                           order == MemoryOrder::NHWC, out);
  BTS_CUDA_LAUNCH_CHECK("ricap_pixels_kernel");
}

void cutout_batch(cudaStream_t stream, float* images, int64_t b, int c, int h, int w, const CutoutArgs* args,
                  MemoryOrder order) {
  BTS_CHECK(b >= 0 && b < (int64_t(1) << 31), "cutout_batch (cuda): batch of " << b << " samples");
  BTS_CHECK(c >= 1 && h >= 1 && w >= 1 && static_cast<int64_t>(c) * h * w < (int64_t(1) << 31),
            "cutout_batch (cuda): bad image shape " << c << "x" << h << "x" << w);
  BTS_CHECK(b == 0 || args != nullptr, "cutout_batch (cuda): no arguments");
  check_batch_order("cutout_batch (cuda)", order);
  if (b == 0) return;
  const int64_t side = h > w ? h : w;  // the clipped hole is no larger than the image (its side is on the device)
  const int64_t n = c * side * side;
  const int64_t chunks = (n + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(b), static_cast<unsigned>(chunks < 65535 ? chunks : 65535));
  cutout_kernel<<<grid, kThreads, 0, stream>>>(images, c, h, w, args, order == MemoryOrder::NHWC);
  BTS_CUDA_LAUNCH_CHECK("cutout_kernel");
}

}  // namespace bts::kernels::cuda
