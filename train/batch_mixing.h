// The batch-level augmentations of the paper's Tables 3-5, applied to a built (normalised) training batch:
// cutout (one zeroed square per image, in place), then mixup or RICAP (images combined within the batch, soft
// targets). Produces what the loss and the importance statistics take: per-target labels, label weights and the
// source slot of each target ([b, M]; M = 1 without mixing). Draws depend only on (seed, step), so runs are
// reproducible and resumable, and the CPU and GPU give the same bits (kernels/common/mixing.h).
#pragma once
#include <cstdint>
#include <string>

#include "engine/device_args.h"
#include "engine/tensor.h"
#include "kernels/common/mixing.h"

namespace bts {

struct MixingOptions {
  double mixup_alpha = 0;  // 0: off
  double ricap_beta = 0;   // 0: off
  int cutout = 0;          // hole side in pixels; 0: off
  uint64_t seed = 0;
};

class BatchMixer {
 public:
  // layout: the batches' (NCHW or NHWC, as the data set builds them); the mixed images are in it too.
  BatchMixer(const MixingOptions& options, int64_t batch, int channels, int height, int width, Device device,
             Layout layout = Layout::NCHW);
  bool active() const { return opt_.mixup_alpha > 0 || opt_.ricap_beta > 0 || opt_.cutout > 0; }
  int targets() const { return targets_; }  // M: 2 mixup, 4 RICAP, else 1

  // Cutout on `images` in place; then, with mixup/RICAP, the mixed batch into images() and the targets.
  void apply(uint64_t step, Tensor& images, const Tensor& labels) {
    set_step(step);
    mix(images, labels);
  }
  // apply in two parts, so a recorded step (train/recorded_step.h) can hold the second: set_step draws the step's
  // mixing arguments (mixup's lambda, RICAP's tiles: host draws) and writes them to device memory in stream order;
  // mix queues the kernels, which read them when they run.
  void set_step(uint64_t step);
  void mix(Tensor& images, const Tensor& labels);
  // After apply with M > 1: the mixed images [b, C, H, W] and the target matrices [b, M].
  const Tensor& images() const { return mixed_; }
  const Tensor& labels() const { return labels_; }
  const Tensor& label_weights() const { return label_weights_; }
  const Tensor& source_slot() const { return source_slot_; }
  std::string describe() const;

 private:
  MixingOptions opt_;
  int64_t b_;
  int c_, h_, w_;
  Device device_;
  Layout layout_;
  int targets_ = 1;
  Tensor mixed_, labels_, label_weights_, source_slot_;
  struct MixArgs {  // the kernels' arguments in device memory (set_step)
    kernels::CutoutArgs cutout;
    kernels::MixupArgs mixup;
    kernels::RicapArgs ricap;
  };
  DeviceArgs<MixArgs> args_;
  bool step_set_ = false;
};

}  // namespace bts
