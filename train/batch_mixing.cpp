#include "train/batch_mixing.h"

#include <sstream>

#include "engine/backend.h"
#include "kernels/common/check.h"
#include "kernels/common/mixing.h"

namespace bts {

BatchMixer::BatchMixer(const MixingOptions& options, int64_t batch, int channels, int height, int width,
                       Device device, Layout layout)
    : opt_(options), b_(batch), c_(channels), h_(height), w_(width), device_(device), layout_(layout), args_(device) {
  BTS_CHECK(layout_ == Layout::NCHW || layout_ == Layout::NHWC,
            "BatchMixer: batches are NCHW or NHWC, not " << layout_name(layout_));
  BTS_CHECK(!(opt_.mixup_alpha > 0 && opt_.ricap_beta > 0), "mixup and RICAP are exclusive");
  BTS_CHECK(opt_.cutout >= 0, "cutout size must be >= 0");
  if (opt_.mixup_alpha > 0) targets_ = kernels::kMixupTargets;
  if (opt_.ricap_beta > 0) targets_ = kernels::kRicapTargets;
  if (targets_ > 1) {
    BTS_CHECK(b_ <= kernels::kMixMaxBatch, "mixup/RICAP handle batches up to " << kernels::kMixMaxBatch);
    mixed_ = Tensor::empty({b_, c_, h_, w_}, DType::F32, device, layout_);
    labels_ = Tensor::empty({b_, targets_}, DType::I32, device);
    label_weights_ = Tensor::empty({b_, targets_}, DType::F32, device);
    source_slot_ = Tensor::empty({b_, targets_}, DType::I32, device);
  }
}

void BatchMixer::set_step(uint64_t step) {
  if (!active()) return;
  const uint64_t seed = opt_.seed;
  MixArgs a;
  if (opt_.cutout > 0) a.cutout = kernels::make_cutout_args(opt_.cutout, seed, step);
  if (opt_.mixup_alpha > 0) a.mixup = kernels::make_mixup_args(opt_.mixup_alpha, seed, step);
  if (opt_.ricap_beta > 0) {
    a.ricap = kernels::make_ricap_args(opt_.ricap_beta, h_, w_, seed, step);
    kernels::check_ricap_args(a.ricap, h_, w_);
  }
  args_.write(a);
  step_set_ = true;
}

void BatchMixer::mix(Tensor& images, const Tensor& labels) {
  BTS_CHECK(images.numel() == b_ * c_ * h_ * w_ && labels.numel() == b_, "BatchMixer: batch shape mismatch");
  BTS_CHECK(images.layout() == layout_, "BatchMixer: a batch in " << layout_name(images.layout()) << ", made for "
                                                                  << layout_name(layout_));
  if (!active()) return;
  BTS_CHECK(step_set_, "BatchMixer: mix before set_step");
  Backend& be = backend(device_);
  const MixArgs* a = args_.get();
  const kernels::MemoryOrder order = memory_order(layout_);
  if (opt_.cutout > 0) be.cutout_batch(images.data<float>(), b_, c_, h_, w_, &a->cutout, order);
  if (opt_.mixup_alpha > 0)
    be.mixup_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, &a->mixup, mixed_.data<float>(),
                   labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>());
  else if (opt_.ricap_beta > 0)
    be.ricap_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, &a->ricap, mixed_.data<float>(),
                   labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>(), order);
}

std::string BatchMixer::describe() const {
  std::ostringstream os;
  const char* sep = "";
  if (opt_.cutout > 0) { os << "cutout " << opt_.cutout << "px"; sep = ", "; }
  if (opt_.mixup_alpha > 0) os << sep << "mixup alpha " << opt_.mixup_alpha;
  if (opt_.ricap_beta > 0) os << sep << "RICAP beta " << opt_.ricap_beta;
  return os.str();
}

}  // namespace bts
