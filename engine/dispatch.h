// Internal: run a generic lambda with the C++ type of a floating dtype.
#pragma once
#include "kernels/common/check.h"
#include "engine/dtype.h"

namespace bts {

template <typename F>
decltype(auto) dispatch_float(DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    default: break;
  }
  BTS_FAIL("operation needs a floating-point tensor, got " << dtype_name(dtype));
}

}  // namespace bts
