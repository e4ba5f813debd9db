#include "engine/arena.h"

#include <algorithm>

#include "kernels/common/check.h"

namespace bts {

Arena::Arena(Device device, size_t initial_bytes) : device_(device) {
  if (initial_bytes > 0) chunks_.emplace_back(device, initial_bytes);
}

size_t Arena::capacity() const {
  size_t c = 0;
  for (const auto& b : chunks_) c += b.bytes();
  return c;
}

void* Arena::allocate(size_t bytes) {
  size_t need = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  if (chunks_.empty() || offset_ + need > chunks_.back().bytes()) {
    size_t grow = std::max<size_t>(need, std::max<size_t>(capacity(), size_t(1) << 20));
    chunks_.emplace_back(device_, grow);
    offset_ = 0;
    ++growths_;
  }
  void* p = static_cast<char*>(chunks_.back().data()) + offset_;
  offset_ += need;
  used_ += need;
  peak_ = std::max(peak_, used_);
  if (poison_) fill_bytes(p, device_, 0xFF, need);
  return p;
}

void Arena::reset() {
  if (chunks_.size() > 1) {
    // Fold into one block big enough for the largest step seen, so the next steps are allocation-free.
    size_t total = std::max(peak_, capacity());
    chunks_.clear();
    chunks_.emplace_back(device_, total);
    ++folds_;
  }
  offset_ = 0;
  used_ = 0;
}

}  // namespace bts
