#include "train/strategies/coreset.h"

#include <algorithm>
#include <limits>

#include "engine/backend.h"
#include "kernels/common/check.h"
#include "kernels/common/sampling.h"
#include "train/strategies/uniform.h"

namespace bts {

ForgettingTracker::ForgettingTracker(int64_t n, Device d)
    : last_correct_(Tensor::zeros({n}, DType::I32, d)),
      ever_correct_(Tensor::zeros({n}, DType::I32, d)),
      forgets_(Tensor::zeros({n}, DType::I32, d)) {}

void ForgettingTracker::update(const Tensor& logits, const Tensor& labels, const Tensor& indices) {
  const int64_t b = logits.dim(0), K = logits.dim(1);
  BTS_CHECK(labels.numel() == b && indices.numel() == b, "forgetting: batch of " << b << " logits, "
                                                                                 << labels.numel() << " labels, "
                                                                                 << indices.numel() << " indices");
  backend(logits.device())
      .update_forgetting(logits.data<float>(), labels.data<int32_t>(), indices.data<int32_t>(), b, K,
                         last_correct_.data<int32_t>(), ever_correct_.data<int32_t>(), forgets_.data<int32_t>());
}

void ForgettingTracker::save(TensorMap& m) const {
  m.emplace("forgetting.last_correct", last_correct_.view());
  m.emplace("forgetting.ever_correct", ever_correct_.view());
  m.emplace("forgetting.forgets", forgets_.view());
}
void ForgettingTracker::load(const TensorMap& m) {
  restore_entry(m, "forgetting.last_correct", last_correct_, 0.0, 1.0);  // flags
  restore_entry(m, "forgetting.ever_correct", ever_correct_, 0.0, 1.0);
  restore_entry(m, "forgetting.forgets", forgets_, 0.0);
}

void ForgettingTracker::write(const std::string& path) const {
  TensorMap m;
  m.emplace("forgets", forgets_.to(Device::CPU));
  m.emplace("ever_correct", ever_correct_.to(Device::CPU));
  m.emplace("last_correct", last_correct_.to(Device::CPU));
  write_tensor_file(path, m);
}

std::vector<int32_t> most_forgotten(const std::string& path, int64_t k, uint64_t seed,
                                    const std::vector<int32_t>& presented) {
  const TensorMap m = read_tensor_file(path);
  const Tensor& f = tensor_entry(m, path, "forgets");
  const Tensor& e = tensor_entry(m, path, "ever_correct");
  BTS_CHECK(f.dtype() == DType::I32 && e.dtype() == DType::I32 && f.ndim() == 1 && e.ndim() == 1,
            "'" << path << "': entries 'forgets' and 'ever_correct' must be i32 vectors, not " << f.describe()
                << " and " << e.describe());
  const int64_t n = f.numel();
  BTS_CHECK(e.numel() == n && k >= 0 && k <= n, path << ": " << n << " samples, asked for the " << k
                                                     << " most forgotten");
  struct Item {
    int64_t score;
    uint64_t tie;
    int32_t index;
  };
  std::vector<Item> items(static_cast<size_t>(n));
  BTS_CHECK(presented.empty() || static_cast<int64_t>(presented.size()) == n,
            path << ": " << n << " samples but " << presented.size() << " presentation counts");
  for (int64_t i = 0; i < n; ++i) {
    int64_t score = e.data<int32_t>()[i] ? f.data<int32_t>()[i] : std::numeric_limits<int64_t>::max();
    if (!presented.empty() && presented[static_cast<size_t>(i)] == 0) score = -1;
    items[static_cast<size_t>(i)] = {score, kernels::permutation_key(seed, /*epoch=*/0xC0DEull, static_cast<uint64_t>(i)),
                                     static_cast<int32_t>(i)};
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.score != b.score ? a.score > b.score : a.tie < b.tie;
  });
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) out.push_back(items[static_cast<size_t>(i)].index);
  std::sort(out.begin(), out.end());
  return out;
}

// Core-set (Figure 1): the N*B most forgotten samples of a selection run (the trainer picks them with
// most_forgotten), trained for T epochs like the random subset (registry.cpp).
std::unique_ptr<Sampler> make_coreset(const SamplerContext& c, std::vector<int32_t> subset) {
  BTS_CHECK(!subset.empty(), "core-set needs its subset (the trainer picks it from a selection run)");
  return std::make_unique<SubsetSampler>("core-set", c, std::move(subset));
}

}  // namespace bts
