// Arena: bump allocation for a training step's tensors. reset() at the start of each step makes the next
// step reuse the same addresses, which is what allows capturing a whole step in a CUDA graph later.
// The first step discovers how much it needs (extra chunks); reset() then folds everything into one block
// of the peak size so later steps never allocate.
#pragma once
#include <cstddef>
#include <vector>

#include "engine/buffer.h"

namespace bts {

class Arena {
 public:
  explicit Arena(Device device, size_t initial_bytes = 0);
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* allocate(size_t bytes);
  void reset();
  Device device() const { return device_; }
  size_t used() const { return used_; }
  size_t peak() const { return peak_; }
  size_t capacity() const;
  // Number of times an extra chunk had to be allocated since construction (0 after warm-up = steady state).
  size_t growth_count() const { return growths_; }
  // Changes whenever memory handed out may move: a new chunk, or a fold into one block. A CUDA graph recorded on
  // this arena's memory is valid while it stays the same (train/recorded_step.h).
  size_t generation() const { return growths_ + folds_; }
  // Tests: fill every allocation with NaN bytes, so an output element an op forgets to write shows up.
  void set_poison(bool on) { poison_ = on; }

  static constexpr size_t kAlign = 256;  // cuDNN/cuBLAS like 256-byte aligned pointers

 private:
  Device device_;
  std::vector<Buffer> chunks_;
  size_t offset_ = 0;   // offset into the last chunk
  size_t used_ = 0;     // bytes handed out since reset (all chunks)
  size_t peak_ = 0;
  size_t growths_ = 0;
  size_t folds_ = 0;
  bool poison_ = false;
};

}  // namespace bts
