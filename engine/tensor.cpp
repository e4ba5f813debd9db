#include "engine/tensor.h"

#include <sstream>

#include "engine/arena.h"
#include "engine/steady_state.h"
#include "kernels/common/bf16.h"

namespace bts {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    BTS_CHECK(d >= 0, "negative dimension in shape " << shape_str(s));
    BTS_CHECK(!__builtin_mul_overflow(n, d, &n), "shape " << shape_str(s) << " has more elements than int64 holds");
  }
  return n;
}

namespace {
// A non-plain layout names how a 4-D [N, C, H, W] is stored; nChw16c holds exactly N*C*H*W values only when C is a
// multiple of 16.
void check_layout(const Shape& shape, Layout layout) {
  if (layout == Layout::NCHW) return;
  BTS_CHECK(shape.size() == 4, layout_name(layout) << " layout needs a 4-D shape, got " << shape_str(shape));
  BTS_CHECK(layout != Layout::NCHW16C || shape[1] % 16 == 0,
            "nChw16c layout needs channels in multiples of 16, got " << shape_str(shape));
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, Layout layout) {
  check_layout(shape, layout);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.layout_ = layout;
  t.owner_ = Buffer(device, t.bytes());
  t.data_ = t.owner_.data();
  t.defined_ = true;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device, Layout layout) {
  Tensor t = empty(shape, dtype, device, layout);
  t.zero();
  return t;
}

Tensor Tensor::empty_in(Arena& arena, const Shape& shape, DType dtype, Layout layout) {
  size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return wrap(arena.allocate(bytes), shape, dtype, arena.device(), layout);
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dtype, Device device, Layout layout) {
  check_layout(shape, layout);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.layout_ = layout;
  t.data_ = data;
  t.defined_ = true;
  return t;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  BTS_CHECK(shape_numel(shape) == numel(),
            "reshape of " << shape_str(shape_) << " to " << shape_str(shape) << " changes the element count");
  return wrap(data_, shape, dtype_, device_, layout_);
}

Tensor Tensor::clone() const { return to(device_); }

Tensor Tensor::to(Device device) const {
  // A copy to the host from a device waits for it; any copy allocates (the Buffer below tells the guard).
  if (device == Device::CPU && device_ != Device::CPU) steady_state::note_host_wait("Tensor::to(cpu)");
  Tensor t = empty(shape_, dtype_, device, layout_);
  copy_bytes(t.data_, device, data_, device_, bytes());
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  BTS_CHECK(src.numel() == numel() && src.dtype() == dtype_,
            "copy_from: destination " << describe() << " vs source " << src.describe());
  copy_bytes(data_, device_, src.data_, src.device_, bytes());
}

void Tensor::zero() { zero_bytes(data_, device_, bytes()); }

namespace {
template <typename T>
void fill_host(void* p, int64_t n, double v) {
  T* d = static_cast<T*>(p);
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(v);
}
}  // namespace

void Tensor::fill(double value) {
  // Written on the host: on a GPU an upload the stream waits for (a CPU run takes the same path, so its guard
  // sees it too).
  steady_state::note_host_wait("Tensor::fill (written on the host, uploaded)");
  Tensor host = device_ == Device::CPU ? view() : empty(shape_, dtype_, Device::CPU, layout_);
  switch (dtype_) {
    case DType::F32: fill_host<float>(host.data_, numel(), value); break;
    case DType::F64: fill_host<double>(host.data_, numel(), value); break;
    case DType::U8: fill_host<uint8_t>(host.data_, numel(), value); break;
    case DType::I32: fill_host<int32_t>(host.data_, numel(), value); break;
    case DType::I64: fill_host<int64_t>(host.data_, numel(), value); break;
    case DType::BF16: {
      const BFloat16 v{kernels::bf16_round(static_cast<float>(value))};
      for (int64_t i = 0; i < numel(); ++i) static_cast<BFloat16*>(host.data_)[i] = v;
      break;
    }
  }
  if (device_ != Device::CPU) copy_from(host);
}

std::vector<double> Tensor::to_double_vector() const {
  steady_state::note_host_wait("Tensor::to_double_vector");
  Tensor host = device_ == Device::CPU ? view() : to(Device::CPU);
  std::vector<double> out(static_cast<size_t>(numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype_) {
      case DType::F32: out[i] = static_cast<const float*>(host.data_)[i]; break;
      case DType::F64: out[i] = static_cast<const double*>(host.data_)[i]; break;
      case DType::U8: out[i] = static_cast<const uint8_t*>(host.data_)[i]; break;
      case DType::I32: out[i] = static_cast<const int32_t*>(host.data_)[i]; break;
      case DType::I64: out[i] = static_cast<double>(static_cast<const int64_t*>(host.data_)[i]); break;
      case DType::BF16: out[i] = kernels::bf16_to_f32(static_cast<const BFloat16*>(host.data_)[i].bits); break;
    }
  }
  return out;
}

int64_t Tensor::dim(int i) const {
  BTS_CHECK(i >= 0 && i < ndim(), "dimension " << i << " of a tensor of shape " << shape_str(shape_));
  return shape_[static_cast<size_t>(i)];
}

std::string Tensor::describe() const {
  std::ostringstream os;
  os << dtype_name(dtype_) << shape_str(shape_) << "@" << device_name(device_);
  if (layout_ != Layout::NCHW) os << " " << layout_name(layout_);
  return os.str();
}

}  // namespace bts
