#include "kernels/cpu/relayout.h"

#include "kernels/common/bf16.h"
#include "kernels/common/rounded.h"

namespace bts::kernels::cpu {

namespace {
template <typename T>
void put(T* p, T v, bool accumulate) {
  *p = accumulate ? *p + v : v;
}
void put(uint16_t* p, uint16_t v, bool accumulate) {
  *p = accumulate ? bf16_round(bf16_to_f32(*p) + bf16_to_f32(v)) : v;
}
}  // namespace

template <typename T>
void relayout(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src, T* dst,
              bool accumulate) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t hw = 0; hw < HW; ++hw)
        put(dst + element_offset(to, n, c, hw, C, HW), src[element_offset(from, n, c, hw, C, HW)], accumulate);
}

namespace {
void put_converted(uint16_t* p, float v, bool accumulate) {
  *p = bf16_round(accumulate ? add_rn(bf16_to_f32(*p), v) : v);
}
void put_converted(float* p, uint16_t v, bool accumulate) {
  const float f = bf16_to_f32(v);
  *p = accumulate ? add_rn(*p, f) : f;
}
}  // namespace

template <typename Src, typename Dst>
void relayout_convert(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const Src* src, Dst* dst,
                      bool accumulate) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t hw = 0; hw < HW; ++hw)
        put_converted(dst + element_offset(to, n, c, hw, C, HW), src[element_offset(from, n, c, hw, C, HW)],
                      accumulate);
}

template void relayout_convert<float, uint16_t>(MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const float*,
                                                uint16_t*, bool);
template void relayout_convert<uint16_t, float>(MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t,
                                                const uint16_t*, float*, bool);

template void relayout<float>(MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const float*, float*, bool);
template void relayout<double>(MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const double*, double*, bool);
template void relayout<uint16_t>(MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const uint16_t*, uint16_t*,
                                 bool);

}  // namespace bts::kernels::cpu
