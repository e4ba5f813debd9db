// A file of named tensors: checkpoints, core-set files and the PyTorch golden data (written by
// tools/golden/make_golden.py). Little-endian:
//   "BTSTENS\0" (8 bytes), u32 version, u32 count,
//   count x { u32 name_len, name bytes, u32 dtype (0 f32, 1 f64, 2 u8, 3 i32, 4 i64), u32 ndim,
//             i64 dims[ndim], raw data, [v2] u32 CRC-32 of this entry's bytes from name_len to the data's end }
//   [v2] u32 CRC-32 of every byte before it (the whole file)
// Version 2 (what bts writes) carries the checksums; version 1 (the golden data) has none and is read only when
// the caller allows it. The reader takes regular files only, checks every field, every element count for
// overflow and every size against what is left of the file before allocating, and names the file and the
// offending entry on any error. The writer goes through a temporary file, fsync and a rename, so a crash never
// leaves a half-written file and a failed write (full disk) is an error.
#pragma once
#include <map>
#include <string>

#include "engine/tensor.h"

namespace bts {

using TensorMap = std::map<std::string, Tensor>;

enum class TensorFileChecksums { Required, Optional };

TensorMap read_tensor_file(const std::string& path,
                           TensorFileChecksums checksums = TensorFileChecksums::Required);
void write_tensor_file(const std::string& path, const TensorMap& tensors);

// The entry `name` of a file read with read_tensor_file, checked to exist (and, where given, to have the
// dtype and shape the reader expects); every failure names the file (when given) and the entry.
const Tensor& tensor_entry(const TensorMap& m, const std::string& file, const std::string& name);
const Tensor& tensor_entry(const TensorMap& m, const std::string& file, const std::string& name, DType dtype,
                           const Shape& shape);

// Restores `dst` from entry `name` of a file read with read_tensor_file (a host tensor): the entry must exist
// and have dst's dtype and shape, and every value must be finite and within [lo, hi] (state that a corrupt or
// hand-edited checkpoint could otherwise smuggle in: a negative count, a probability of 7, a NaN weight).
// Messages name the entry; the caller adds the file.
void restore_entry(const TensorMap& m, const std::string& name, Tensor& dst, double lo = -1e308, double hi = 1e308);
// The same checks on a host tensor already in hand.
void check_entry_values(const Tensor& t, const std::string& name, double lo, double hi);

// Text (JSON) stored as a U8 tensor, as checkpoints keep their config and state.
Tensor text_to_tensor(const std::string& text);
std::string tensor_to_text(const Tensor& t);  // a host U8 tensor

}  // namespace bts
