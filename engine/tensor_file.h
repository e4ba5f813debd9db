// A file of named tensors: the PyTorch golden data (written by tools/golden/make_golden.py) and, later,
// checkpoints. Little-endian:
//   "BTSTENS\0" (8 bytes), u32 version (1), u32 count,
//   count x { u32 name_len, name bytes, u32 dtype (0 f32, 1 f64, 2 u8, 3 i32, 4 i64), u32 ndim,
//             i64 dims[ndim], raw data }
// The reader checks every field and names the file and the offending entry on any error; the writer goes
// through a temporary file and a rename so a crash never leaves a half-written file.
#pragma once
#include <map>
#include <string>

#include "engine/tensor.h"

namespace bts {

using TensorMap = std::map<std::string, Tensor>;

TensorMap read_tensor_file(const std::string& path);
void write_tensor_file(const std::string& path, const TensorMap& tensors);

// Text (JSON) stored as a U8 tensor, as checkpoints keep their config and state.
Tensor text_to_tensor(const std::string& text);
std::string tensor_to_text(const Tensor& t);  // a host U8 tensor

}  // namespace bts
