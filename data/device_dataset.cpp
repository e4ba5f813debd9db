#include "data/device_dataset.h"

#include <numeric>

#include "engine/backend.h"
#include "kernels/common/augment.h"
#include "kernels/common/check.h"

namespace bts {

DeviceDataset::DeviceDataset(const Dataset& ds, Device device, int pad)
    : name_(ds.name), device_(device), classes_(ds.classes), pad_(pad), flip_(ds.flip), args_(device) {
  check_and_set_constants(ds);
  images_ = ds.images.to(device);
  labels_ = ds.labels.to(device);
}

DeviceDataset::DeviceDataset(Dataset&& ds, Device device, int pad)
    : name_(ds.name), device_(device), classes_(ds.classes), pad_(pad), flip_(ds.flip), args_(device) {
  check_and_set_constants(ds);
  const bool take = device == Device::CPU && ds.images.owns() && ds.labels.owns();
  images_ = take ? std::move(ds.images) : ds.images.to(device);
  labels_ = take ? std::move(ds.labels) : ds.labels.to(device);
}

void DeviceDataset::check_and_set_constants(const Dataset& ds) {
  BTS_CHECK(ds.images.defined() && ds.images.dtype() == DType::U8 && ds.images.ndim() == 4,
            "DeviceDataset '" << ds.name << "': expected u8 images [N, C, H, W], found "
                              << (ds.images.defined() ? ds.images.describe() : "none"));
  BTS_CHECK(ds.labels.defined() && ds.labels.dtype() == DType::I32 && ds.labels.ndim() == 1 &&
                ds.labels.numel() == ds.images.dim(0),
            "DeviceDataset '" << ds.name << "': expected i32 labels [" << ds.images.dim(0) << "], found "
                              << (ds.labels.defined() ? ds.labels.describe() : "none"));
  const int c = static_cast<int>(ds.images.dim(1));
  BTS_CHECK(c >= 1 && c <= kernels::kAugmentMaxChannels,
            "DeviceDataset '" << ds.name << "': " << c << " channels, expected 1.." << kernels::kAugmentMaxChannels);
  BTS_CHECK(ds.mean.size() == static_cast<size_t>(c) && ds.std.size() == static_cast<size_t>(c),
            "DeviceDataset '" << ds.name << "': " << ds.mean.size() << " means and " << ds.std.size()
                              << " stds for " << c << " channels");
  BTS_CHECK(pad_ >= 0 && pad_ <= 64, "DeviceDataset '" << ds.name << "': crop padding " << pad_ << ", expected 0..64");
  for (int i = 0; i < c; ++i) {
    BTS_CHECK(ds.std[static_cast<size_t>(i)] > 0, "DeviceDataset '" << ds.name << "': std of channel " << i
                                                                   << " is " << ds.std[static_cast<size_t>(i)]);
    // Computed once in double and rounded: both devices then use the very same two floats per channel.
    scale_.push_back(static_cast<float>(1.0 / (255.0 * ds.std[static_cast<size_t>(i)])));
    shift_.push_back(static_cast<float>(-static_cast<double>(ds.mean[static_cast<size_t>(i)]) /
                                        ds.std[static_cast<size_t>(i)]));
  }
}

void DeviceDataset::make_batch(const Tensor& indices, const BatchOptions& opt, Tensor& images,
                               Tensor& labels) const {
  set_batch_options(opt);
  build_batch(indices, images, labels);
}

void DeviceDataset::set_batch_options(const BatchOptions& opt) const {
  BatchArgs args;
  kernels::AugmentArgs& a = args.augment;
  a.seed = opt.seed;
  a.step = opt.step;
  a.pad = pad_;
  a.flip = flip_;
  a.augment = opt.augment;
  for (size_t i = 0; i < scale_.size(); ++i) {
    a.scale[i] = scale_[i];
    a.shift[i] = shift_[i];
  }
  // RandAugment only for training batches; draws keyed on (seed, step, slot) like the crop/flip.
  randaugment_rounds_ = 0;
  if (opt.augment && opt.randaugment_n > 0) {
    kernels::RandAugmentArgs ra;
    ra.seed = opt.seed;
    ra.step = opt.step;
    ra.n = opt.randaugment_n;
    ra.m = opt.randaugment_m;
    args.randaugment = kernels::make_checked_randaugment_plan(ra, channels(), height(), width());
    randaugment_rounds_ = ra.n;
  }
  args_.write(args);
}

void DeviceDataset::build_batch(const Tensor& indices, Tensor& images, Tensor& labels) const {
  BTS_CHECK(randaugment_rounds_ >= 0, "build_batch '" << name_ << "': set_batch_options was not called");
  BTS_CHECK(indices.defined() && indices.dtype() == DType::I32 && indices.ndim() == 1,
            "make_batch '" << name_ << "': indices must be i32 [B], found "
                           << (indices.defined() ? indices.describe() : "none"));
  const int64_t b = indices.numel();
  const Shape want{b, images_.dim(1), images_.dim(2), images_.dim(3)};
  BTS_CHECK(images.defined() && images.dtype() == DType::F32 && images.shape() == want && images.device() == device_ &&
                (images.layout() == Layout::NCHW || images.layout() == Layout::NHWC),
            "make_batch '" << name_ << "': images must be f32" << shape_str(want) << "@" << device_name(device_)
                           << " in NCHW or NHWC, found " << (images.defined() ? images.describe() : "none"));
  BTS_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.numel() == b && labels.device() == device_,
            "make_batch '" << name_ << "': labels must be i32[" << b << "]@" << device_name(device_) << ", found "
                           << (labels.defined() ? labels.describe() : "none"));
  const int c = channels(), h = height(), w = width();
  const size_t batch_bytes = static_cast<size_t>(b) * c * h * w;
  Backend& be = backend(device_);
  // The CPU kernels check every index and throw; the GPU ones turn a bad one into NaN images and label -1.
  Tensor moved_idx;  // indices on the wrong side are copied over (host<->device copies wait for completion)
  if (indices.device() != device_) moved_idx = indices.to(device_);
  const int32_t* idx = (moved_idx.defined() ? moved_idx : indices).data<int32_t>();
  const uint8_t* gathered = nullptr;
  const BatchArgs* args = args_.get();
  if (randaugment_rounds_ > 0) {
    const size_t extra = be.randaugment_scratch_bytes(b, c, h, w, randaugment_rounds_);
    uint8_t* buf = randaugment_scratch(batch_bytes + extra);
    be.randaugment_batch(images_.data<uint8_t>(), size(), idx, b, c, h, w, randaugment_rounds_, &args->randaugment,
                         buf, buf + batch_bytes, extra);
    gathered = buf;
  }
  be.augment_batch(images_.data<uint8_t>(), labels_.data<int32_t>(), size(), c, h, w, idx, b, &args->augment,
                   images.data<float>(), labels.data<int32_t>(), gathered, memory_order(images.layout()));
  // The temporary index copy is freed on return; make sure the kernels have read it first.
  if (moved_idx.defined()) be.synchronize();
}

uint8_t* DeviceDataset::randaugment_scratch(size_t bytes) const {
  // Growing frees the old buffer; on the GPU cudaFree waits for the kernels still using it.
  if (!ra_scratch_.defined() || ra_scratch_.bytes() < bytes)
    ra_scratch_ = Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, device_);
  return ra_scratch_.data<uint8_t>();
}

Batch DeviceDataset::batch(const Tensor& indices, const BatchOptions& opt, Layout layout) const {
  BTS_CHECK(indices.defined(), "batch '" << name_ << "': no indices");
  const int64_t b = indices.numel();
  Batch out{Tensor::empty({b, images_.dim(1), images_.dim(2), images_.dim(3)}, DType::F32, device_, layout),
            Tensor::empty({b}, DType::I32, device_)};
  make_batch(indices, opt, out.images, out.labels);
  return out;
}

Tensor index_range(int64_t begin, int64_t count, Device device) {
  BTS_CHECK(begin >= 0 && count >= 0 && begin + count <= (int64_t(1) << 31),
            "index_range: [" << begin << ", " << begin + count << ") does not fit int32 indices");
  std::vector<int32_t> v(static_cast<size_t>(count));
  std::iota(v.begin(), v.end(), static_cast<int32_t>(begin));
  Tensor host = Tensor::from_vector(v, {count});
  return device == Device::CPU ? std::move(host) : host.to(device);
}

}  // namespace bts
