// The device-resident data set: the whole split uploaded once as uint8, and batches built where it lives from an
// index tensor by one fused gather + random crop (zero padding) + horizontal flip + normalise step
// (kernels/cuda/augment_batch.cu on the GPU, its twin kernels/cpu/augment_batch.cpp on the CPU).
// Optionally RandAugment (kernels/common/randaugment.h) first rewrites the batch's uint8 images into a scratch copy
// that the crop/flip/normalise step then reads.
// The random draw of batch slot s depends only on (seed, step, s) (kernels/common/augment.h), so a run is
// reproducible and the CPU and GPU give the same bits for the same arguments.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/device_args.h"
#include "engine/tensor.h"
#include "kernels/common/randaugment.h"

namespace bts {

struct BatchOptions {
  uint64_t seed = 0;     // per run
  uint64_t step = 0;     // per batch: the iteration counter
  bool augment = true;   // false for test batches: no crop, no flip, no RandAugment, normalisation only
  int randaugment_n = 0; // RandAugment ops per image before crop/flip (0: off; the paper's N = 2), only if augment
  int randaugment_m = 4; // RandAugment magnitude 0..30 (the paper's M = 4)
};

struct Batch {
  Tensor images;  // F32 [B, C, H, W], NCHW or NHWC
  Tensor labels;  // I32 [B]
};

class DeviceDataset {
 public:
  // Copies images and labels to `device` once (for the CPU, a private host copy). pad: the random crop's zero
  // padding (4 in the paper); flips follow ds.flip (off for SVHN).
  DeviceDataset(const Dataset& ds, Device device, int pad = 4);
  // The same, taking the host tensors over instead of copying them when device is the CPU (no second copy of a
  // large data set in host memory).
  DeviceDataset(Dataset&& ds, Device device, int pad = 4);

  Device device() const { return device_; }
  const std::string& name() const { return name_; }
  int64_t size() const { return labels_.numel(); }
  int channels() const { return static_cast<int>(images_.dim(1)); }
  int height() const { return static_cast<int>(images_.dim(2)); }
  int width() const { return static_cast<int>(images_.dim(3)); }
  int classes() const { return classes_; }
  int pad() const { return pad_; }
  bool flip() const { return flip_; }
  const Tensor& images() const { return images_; }  // U8 [N, C, H, W] on device()
  const Tensor& labels() const { return labels_; }  // I32 [N] on device()
  // Normalised value = fmaf(pixel, scale(c), shift(c)); scale = 1 / (255 std), shift = -mean / std.
  float scale(int c) const { return scale_.at(static_cast<size_t>(c)); }
  float shift(int c) const { return shift_.at(static_cast<size_t>(c)); }

  // Writes batch `indices` (I32 [B], any device; host indices are copied over, which synchronises: keep them on
  // the device inside an epoch) into `images` (F32 [B, C, H, W], in its layout: NCHW or NHWC, the one the model's
  // step takes, Model::input_layout) and `labels` (I32 [B]), both on device().
  // On the GPU the work is queued on the backend's stream and out-of-range indices give NaN images and label -1;
  // on the CPU they throw. With RandAugment on, the augmented uint8 batch lives in one
  // scratch buffer per data set, grown to the largest batch seen and then reused (no allocation per step): queue
  // such batches of one DeviceDataset on one stream at a time (make_batch is not safe to call concurrently).
  void make_batch(const Tensor& indices, const BatchOptions& opt, Tensor& images, Tensor& labels) const;
  // make_batch in two parts, so a recorded step (train/recorded_step.h) can hold the second: set_batch_options
  // writes the kernels' arguments (crop/flip draws' step, normalisation, RandAugment's plan) to device memory in
  // stream order; build_batch queues the kernels, which read them when they run. build_batch follows the last
  // set_batch_options on the host only in whether RandAugment runs and its N (fixed for a run); everything that
  // changes per step is read on the device.
  void set_batch_options(const BatchOptions& opt) const;
  void build_batch(const Tensor& indices, Tensor& images, Tensor& labels) const;
  // What a recorded build_batch depends on besides the arguments on the device, for a recording's key
  // (train/recorded_step.h): RandAugment's N as last set (0: off, -1: never set) and where its scratch is (it
  // grows with the batch, freeing the old buffer).
  int randaugment_rounds() const { return randaugment_rounds_; }
  const void* randaugment_scratch_address() const { return ra_scratch_.defined() ? ra_scratch_.raw() : nullptr; }
  // The same into freshly allocated tensors, the images in `layout` (NCHW or NHWC).
  Batch batch(const Tensor& indices, const BatchOptions& opt, Layout layout = Layout::NCHW) const;

 private:
  void check_and_set_constants(const Dataset& ds);
  std::string name_;
  Device device_;
  Tensor images_, labels_;
  int classes_ = 0;
  int pad_ = 4;
  bool flip_ = true;
  std::vector<float> scale_, shift_;
  // RandAugment's output batch (and, on the GPU, its scratch), reused across steps; grows only.
  uint8_t* randaugment_scratch(size_t bytes) const;
  mutable Tensor ra_scratch_;
  // The batch kernels' arguments in device memory (set_batch_options), and RandAugment's N (0: off) on the host.
  struct BatchArgs {
    kernels::AugmentArgs augment;
    kernels::RandAugmentPlan randaugment;
  };
  mutable DeviceArgs<BatchArgs> args_;
  mutable int randaugment_rounds_ = -1;  // -1: set_batch_options not called yet
};

// I32 [count] holding begin, begin+1, ...: sequential (test-set) batches.
Tensor index_range(int64_t begin, int64_t count, Device device);

}  // namespace bts
