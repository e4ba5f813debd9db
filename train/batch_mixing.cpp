#include "train/batch_mixing.h"

#include <sstream>

#include "engine/backend.h"
#include "kernels/common/check.h"
#include "kernels/common/mixing.h"

namespace bts {

BatchMixer::BatchMixer(const MixingOptions& options, int64_t batch, int channels, int height, int width,
                       Device device)
    : opt_(options), b_(batch), c_(channels), h_(height), w_(width), device_(device) {
  BTS_CHECK(!(opt_.mixup_alpha > 0 && opt_.ricap_beta > 0), "mixup and RICAP are exclusive");
  BTS_CHECK(opt_.cutout >= 0, "cutout size must be >= 0");
  if (opt_.mixup_alpha > 0) targets_ = kernels::kMixupTargets;
  if (opt_.ricap_beta > 0) targets_ = kernels::kRicapTargets;
  if (targets_ > 1) {
    BTS_CHECK(b_ <= kernels::kMixMaxBatch, "mixup/RICAP handle batches up to " << kernels::kMixMaxBatch);
    mixed_ = Tensor::empty({b_, c_, h_, w_}, DType::F32, device);
    labels_ = Tensor::empty({b_, targets_}, DType::I32, device);
    label_weights_ = Tensor::empty({b_, targets_}, DType::F32, device);
    source_slot_ = Tensor::empty({b_, targets_}, DType::I32, device);
  }
}

void BatchMixer::apply(uint64_t step, Tensor& images, const Tensor& labels) {
  BTS_CHECK(images.numel() == b_ * c_ * h_ * w_ && labels.numel() == b_, "BatchMixer: batch shape mismatch");
  const uint64_t seed = opt_.seed;
  Backend& be = backend(device_);
  if (opt_.cutout > 0)
    be.cutout_batch(images.data<float>(), b_, c_, h_, w_, kernels::make_cutout_args(opt_.cutout, seed, step));
  if (opt_.mixup_alpha > 0)
    be.mixup_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_,
                   kernels::make_mixup_args(opt_.mixup_alpha, seed, step), mixed_.data<float>(),
                   labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>());
  else if (opt_.ricap_beta > 0)
    be.ricap_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_,
                   kernels::make_ricap_args(opt_.ricap_beta, h_, w_, seed, step), mixed_.data<float>(),
                   labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>());
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
