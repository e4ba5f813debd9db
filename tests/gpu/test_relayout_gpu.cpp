// Layout moves on the GPU (kernels/cuda/relayout.cu) against the CPU's, bit for bit: NCHW <-> NHWC in f32 and bf16,
// plain and accumulating (bf16 accumulation adds in fp32 and rounds once on both sides); nChw16c is refused.
#include <cstring>

#include "engine/backend.h"
#include "tests/common/helpers.h"

using namespace bts;
using bts::test::random_tensor;

TEST_SUITE("relayout_gpu") {

TEST_CASE("relayout on the GPU equals the CPU's bit for bit (f32, bf16; plain and accumulating)") {
  Rng rng(41);
  for (DType dt : {DType::F32, DType::BF16})
    for (Shape s : {Shape{2, 3, 5, 7}, Shape{4, 64, 8, 8}, Shape{3, 130, 1, 1}})
      for (Layout from : {Layout::NCHW, Layout::NHWC})
        for (Layout to : {Layout::NCHW, Layout::NHWC})
          for (bool accumulate : {false, true}) {
            INFO(dtype_name(dt) << " " << shape_str(s) << " " << layout_name(from) << " -> " << layout_name(to)
                                << " accumulate " << accumulate);
            // Random values in the source layout's memory (their order is the layout's), converted for bf16.
            Tensor src32 = random_tensor(s, DType::F32, rng), start32 = random_tensor(s, DType::F32, rng);
            auto in_dtype = [&](const Tensor& f, Layout l) {
              Tensor t = Tensor::empty(s, dt, Device::CPU, l);
              if (dt == DType::F32) {
                std::memcpy(t.raw(), f.raw(), f.bytes());
              } else {
                Tensor tmp = Tensor::wrap(f.raw(), s, DType::F32, Device::CPU, l);
                backend(Device::CPU).convert(tmp, DType::BF16, GradTarget{t.raw(), false, l});
              }
              return t;
            };
            const Tensor src = in_dtype(src32, from);
            Tensor cpu = in_dtype(start32, to);
            Tensor gpu = cpu.to(Device::CUDA);
            const Tensor src_d = src.to(Device::CUDA);
            backend(Device::CPU).relayout(src, GradTarget{cpu.raw(), accumulate, to});
            backend(Device::CUDA).relayout(src_d, GradTarget{gpu.raw(), accumulate, to});
            const Tensor back = gpu.to(Device::CPU);
            CHECK(std::memcmp(back.raw(), cpu.raw(), cpu.bytes()) == 0);
          }
  Tensor blocked = Tensor::zeros({1, 16, 2, 2}, DType::F32, Device::CUDA, Layout::NCHW16C);
  Tensor out = Tensor::zeros({1, 16, 2, 2}, DType::F32, Device::CUDA);
  CHECK_THROWS_WITH_AS(backend(Device::CUDA).relayout(blocked, GradTarget{out.raw(), false, Layout::NCHW}),
                       doctest::Contains("nChw16c is a CPU layout"), Error);
}

}  // TEST_SUITE
