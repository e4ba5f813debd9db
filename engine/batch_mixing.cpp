#include "engine/batch_mixing.h"

#include <sstream>

#include "engine/check.h"
#include "kernels/common/mixing.h"
#include "kernels/cpu/mixing.h"
#ifdef BTS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/mixing.h"
#endif

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
  const bool cpu = device_ == Device::CPU;
#ifdef BTS_WITH_CUDA
  cudaStream_t s = cpu ? nullptr : kernels::cuda::current_context().stream();
#else
  BTS_CHECK(cpu, "BatchMixer on CUDA in a build without CUDA");
#endif
  if (opt_.cutout > 0) {
    const kernels::CutoutArgs a = kernels::make_cutout_args(opt_.cutout, seed, step);
    if (cpu) kernels::cpu::cutout_batch(images.data<float>(), b_, c_, h_, w_, a);
#ifdef BTS_WITH_CUDA
    else kernels::cuda::cutout_batch(s, images.data<float>(), b_, c_, h_, w_, a);
#endif
  }
  if (opt_.mixup_alpha > 0) {
    const kernels::MixupArgs a = kernels::make_mixup_args(opt_.mixup_alpha, seed, step);
    if (cpu)
      kernels::cpu::mixup_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, a, mixed_.data<float>(),
                                labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>());
#ifdef BTS_WITH_CUDA
    else
      kernels::cuda::mixup_batch(s, images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, a,
                                 mixed_.data<float>(), labels_.data<int32_t>(), label_weights_.data<float>(),
                                 source_slot_.data<int32_t>());
#endif
  } else if (opt_.ricap_beta > 0) {
    const kernels::RicapArgs a = kernels::make_ricap_args(opt_.ricap_beta, h_, w_, seed, step);
    if (cpu)
      kernels::cpu::ricap_batch(images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, a, mixed_.data<float>(),
                                labels_.data<int32_t>(), label_weights_.data<float>(), source_slot_.data<int32_t>());
#ifdef BTS_WITH_CUDA
    else
      kernels::cuda::ricap_batch(s, images.data<float>(), labels.data<int32_t>(), b_, c_, h_, w_, a,
                                 mixed_.data<float>(), labels_.data<int32_t>(), label_weights_.data<float>(),
                                 source_slot_.data<int32_t>());
#endif
  }
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
