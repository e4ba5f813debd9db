// Element types, devices and memory layouts: tensor metadata from day one, so NHWC and bf16 can arrive
// without rewriting the models.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace bts {

// BF16: bfloat16 storage (kernels/common/bf16.h), computed in fp32 (mixed precision: the models' activations and
// weight copies; master weights, BatchNorm statistics and the loss stay F32).
enum class DType : uint8_t { F32, F64, U8, I32, I64, BF16 };
// One bf16 element as stored: the top 16 bits of the fp32 value rounded to nearest even.
struct BFloat16 {
  uint16_t bits;
};
enum class Device : uint8_t { CPU, CUDA };
// Memory layouts of 4-D activations [N, C, H, W] (the shape always names them in that order):
//   NCHW     plain, what every op accepts and the CUDA backend uses;
//   NHWC     channels last: x[n][h][w][c];
//   NCHW16C  channels in blocks of 16 innermost, x[n][c / 16][h][w][c % 16] (oneDNN's nChw16c), only for C a
//            multiple of 16 (so the tensor holds exactly N*C*H*W values).
// The CPU backend chooses NHWC or NCHW16C for convolution outputs (Backend::activation_layout); the ops after a
// convolution keep their input's layout; gradients take their value's.
enum class Layout : uint8_t { NCHW, NHWC, NCHW16C };
inline const char* layout_name(Layout l) { return l == Layout::NHWC ? "NHWC" : l == Layout::NCHW16C ? "nChw16c" : "NCHW"; }

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::U8: return 1;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::BF16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::U8: return "u8";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::BF16: return "bf16";
  }
  return "?";
}

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::BF16; };

}  // namespace bts
