// libFuzzer target: the tensor-file reader (checkpoints, core-set and count files) and what a resume does with a
// file it read: entries looked up by name, dtype and shape, values range-checked, the state JSON parsed and
// validated. Any input must be read or refused with bts::Error (a malformed state JSON with the JSON library's
// exception, which the resume turns into a message naming the checkpoint). Built and run by tools/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/tensor_file.h"
#include "kernels/common/check.h"
#include "train/run_progress.h"

namespace {
std::string scratch_file() {
  return "/tmp/bts_fuzz_tensorfile_" + std::to_string(::getpid()) + ".bin";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scratch_file();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  for (bts::TensorFileChecksums mode : {bts::TensorFileChecksums::Required, bts::TensorFileChecksums::Optional}) {
    try {
      const bts::TensorMap m = bts::read_tensor_file(path, mode);
      for (const auto& [name, t] : m) {
        // Touch the first and last byte the reader vouches for (ASan flags any overrun), then range-check.
        volatile uint8_t sink = 0;
        if (t.bytes()) sink = static_cast<uint8_t>(static_cast<const uint8_t*>(t.raw())[0] ^
                                                   static_cast<const uint8_t*>(t.raw())[t.bytes() - 1]);
        (void)sink;
        try {
          bts::check_entry_values(t, name, 0.0, 1e6);
        } catch (const bts::Error&) {
        }
      }
      bts::Tensor params = bts::Tensor::zeros({4}, bts::DType::F32);
      try {
        bts::restore_entry(m, "params", params);
      } catch (const bts::Error&) {
      }
      try {
        const nlohmann::json st =
            nlohmann::json::parse(bts::tensor_to_text(bts::tensor_entry(m, path, "state_json")));
        bts::RunProgress::from_json(st, 32, 0.1).validate(3, 8, 32);
      } catch (const nlohmann::json::exception&) {
      }
    } catch (const bts::Error&) {
    }
  }
  return 0;
}
