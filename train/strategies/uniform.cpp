// Uniform sampling: SGD, scan-SGD, unif-SGD and the random subset (METHODS.md). SGD, scan-SGD and unif-SGD all
// show a prefix of a fresh uniformly random permutation each epoch; they differ in how many epochs they run and
// how long the prefix is:
//   sgd       T epochs of floor(N/b) iterations (the last partial batch dropped), B = 1
//   scan-sgd  ceil(T*B) epochs of floor(N/b) iterations, stopped after floor(B*T*N/b) steps (truncated training)
//   unif-sgd  T epochs of floor(N*B/b) iterations: N*B samples uniformly without replacement per epoch
// The random subset (Figure 1) trains a fixed random N*B samples for T epochs.
#include "train/strategies/uniform.h"

#include <cmath>

#include "engine/backend.h"
#include "kernels/common/check.h"
#include "kernels/cpu/sampling.h"

namespace bts {

int64_t budgeted_iterations(const SamplerContext& c) {
  return static_cast<int64_t>(std::floor(static_cast<double>(c.train_size) * c.budget + 1e-9)) / c.batch_size;
}

RandomOrderSampler::RandomOrderSampler(std::string name, const SamplerContext& c, int64_t epochs, int64_t iters)
    : name_(std::move(name)), ctx_(c), epochs_(epochs), iters_(iters) {
  if (iters_ == 0) iters_ = budgeted_iterations(c);
  BTS_CHECK(epochs_ >= 1 && iters_ >= 1, name_ << " with budget " << c.budget << ", " << c.epochs << " epochs, "
                                               << c.train_size << " samples and batch " << c.batch_size
                                               << " would train " << epochs_ << " epochs of " << iters_
                                               << " iterations: raise the budget or the data size");
}

void RandomOrderSampler::begin_epoch(int64_t epoch, Tensor& order) {
  BTS_CHECK(order.numel() >= ctx_.train_size && order.dtype() == DType::I32, "sampler order buffer too small");
  backend(order.device()).random_order(ctx_.seed, static_cast<uint64_t>(epoch), ctx_.train_size,
                                       order.data<int32_t>());
}

SubsetSampler::SubsetSampler(std::string name, const SamplerContext& c, std::vector<int32_t> subset)
    : name_(std::move(name)), ctx_(c), uniform_(name_, c, c.epochs, 0), subset_(std::move(subset)) {
  k_ = static_cast<int64_t>(std::floor(static_cast<double>(c.train_size) * c.budget + 1e-9));
  if (subset_.empty()) {
    std::vector<int32_t> perm(static_cast<size_t>(c.train_size));
    kernels::cpu::random_order(c.seed, kSubsetEpoch, c.train_size, perm.data());
    subset_ = std::vector<int32_t>(perm.begin(), perm.begin() + k_);
  }
  BTS_CHECK(static_cast<int64_t>(subset_.size()) == k_,
            name_ << ": a subset of " << subset_.size() << " samples, expected N*B = " << k_);
  for (int32_t i : subset_)
    BTS_CHECK(i >= 0 && i < c.train_size, name_ << ": subset index " << i << " outside [0, " << c.train_size << ")");
  subset_device_ = Tensor::from_vector<int32_t>(subset_, {k_}).to(c.device);
  positions_ = Tensor::empty({std::max<int64_t>(k_, 1)}, DType::I32, c.device);
}

void SubsetSampler::begin_epoch(int64_t epoch, Tensor& order) {
  BTS_CHECK(order.numel() >= k_ && order.dtype() == DType::I32 && order.device() == ctx_.device,
            name_ << ": sampler order buffer too small");
  // order[j] = subset[pos[j]] with pos the epoch's permutation of 0..k-1, drawn and gathered on the device.
  Backend& be = backend(ctx_.device);
  be.random_order(ctx_.seed, static_cast<uint64_t>(epoch), k_, positions_.data<int32_t>());
  be.gather_rows(subset_device_.data<int32_t>(), 1, positions_.data<int32_t>(), k_, order.data<int32_t>());
}

// ---- factories (registry.cpp)

std::unique_ptr<Sampler> make_full_sgd(const SamplerContext& c, std::vector<int32_t>) {
  BTS_CHECK(c.budget == 1.0, "method 'sgd' is full training (budget 1); got budget " << c.budget
                                                                                    << ": use scan-sgd or unif-sgd");
  return std::make_unique<RandomOrderSampler>("sgd", c, c.epochs, c.train_size / c.batch_size);
}

int64_t whole_epochs(const SamplerContext& c) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(c.epochs) * c.budget - 1e-9)));
}

std::unique_ptr<Sampler> make_scan_sgd(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<RandomOrderSampler>("scan-sgd", c, whole_epochs(c), c.train_size / c.batch_size);
}

std::unique_ptr<Sampler> make_unif_sgd(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<RandomOrderSampler>("unif-sgd", c, c.epochs, 0);
}

std::unique_ptr<Sampler> make_random_subset(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<SubsetSampler>("random-subset", c, std::vector<int32_t>{});
}

}  // namespace bts
