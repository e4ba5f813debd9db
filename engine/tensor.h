// Tensor: shape, dtype, layout and device over either owned storage (a Buffer) or a non-owning view of
// memory owned elsewhere (an Arena, a flat parameter store). Move-only: copying data is always explicit
// (clone, copy_from, to).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "kernels/common/check.h"
#include "engine/dtype.h"

namespace bts {

class Arena;

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // Owning allocation (uninitialised contents).
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::CPU, Layout layout = Layout::NCHW);
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::CPU, Layout layout = Layout::NCHW);
  // Allocation from an arena: valid until the arena is reset.
  static Tensor empty_in(Arena& arena, const Shape& shape, DType dtype, Layout layout = Layout::NCHW);
  // Non-owning view of existing memory.
  static Tensor wrap(void* data, const Shape& shape, DType dtype, Device device, Layout layout = Layout::NCHW);
  // Host tensor holding a copy of `values`.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);

  Tensor view() const { return wrap(data_, shape_, dtype_, device_, layout_); }
  Tensor reshaped(const Shape& shape) const;  // non-owning view with another shape, same numel
  Tensor clone() const;                       // owning deep copy on the same device
  Tensor to(Device device) const;             // owning deep copy on `device`
  void copy_from(const Tensor& src);          // same numel and dtype; any devices
  void zero();
  void fill(double value);                    // host or device (device via a host staging copy)

  bool defined() const { return defined_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const;
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  Layout layout() const { return layout_; }
  bool owns() const { return owner_.data() != nullptr; }
  void* raw() const { return data_; }

  template <typename T>
  T* data() const {
    BTS_CHECK(DTypeOf<T>::value == dtype_, "tensor holds " << dtype_name(dtype_) << ", accessed as "
                                                             << dtype_name(DTypeOf<T>::value));
    return static_cast<T*>(data_);
  }
  // Host copy of the contents converted to double (for tests and reports).
  std::vector<double> to_double_vector() const;
  std::string describe() const;

 private:
  Buffer owner_;
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
  Device device_ = Device::CPU;
  Layout layout_ = Layout::NCHW;
  bool defined_ = false;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  BTS_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()),
            "from_vector: " << values.size() << " values for shape " << shape_str(shape));
  Tensor t = empty(shape, DTypeOf<T>::value);
  copy_bytes(t.raw(), Device::CPU, values.data(), Device::CPU, t.bytes());
  return t;
}

}  // namespace bts
