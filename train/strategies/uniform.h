// The uniform orders every other strategy builds on (train/strategies/uniform.cpp):
//   RandomOrderSampler  a prefix of a fresh uniformly random permutation each epoch (sgd, scan-sgd, unif-sgd,
//                       selective backprop's scoring order, OSGD's order, the importance samplers' warm-up);
//   SubsetSampler       a fixed subset of N*B samples, reshuffled each epoch (random subset, core-set).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "train/strategies/sampler.h"

namespace bts {

// Whole-epoch methods (scan-SGD, ordered SGD): ceil(T*B) epochs over all samples (at least 1); the trainer stops
// them after floor(B*T*N / b) training steps, so a fractional T*B ends with a partial epoch instead of overspending.
int64_t whole_epochs(const SamplerContext& c);

// The budgeted draw of unif-SGD and the importance samplers: floor(N*B / b) iterations per epoch.
int64_t budgeted_iterations(const SamplerContext& c);

class RandomOrderSampler : public Sampler {
 public:
  // `epochs` epochs of `iters` iterations each; iters == 0: budgeted_iterations(c).
  RandomOrderSampler(std::string name, const SamplerContext& c, int64_t epochs, int64_t iters);
  std::string name() const override { return name_; }
  int64_t epochs() const override { return epochs_; }
  int64_t iterations_per_epoch() const override { return iters_; }
  void begin_epoch(int64_t epoch, Tensor& order) override;

 private:
  std::string name_;
  SamplerContext ctx_;
  int64_t epochs_, iters_;
};

class SubsetSampler : public Sampler {
 public:
  // An empty `subset` draws the random subset (the prefix of a reserved "epoch"'s permutation).
  SubsetSampler(std::string name, const SamplerContext& c, std::vector<int32_t> subset);
  std::string name() const override { return name_; }
  int64_t epochs() const override { return ctx_.epochs; }
  int64_t iterations_per_epoch() const override { return uniform_.iterations_per_epoch(); }
  void begin_epoch(int64_t epoch, Tensor& order) override;
  const std::vector<int32_t>& subset() const { return subset_; }

 private:
  static constexpr uint64_t kSubsetEpoch = 0xFFFFFFFFull;
  std::string name_;
  SamplerContext ctx_;
  RandomOrderSampler uniform_;
  std::vector<int32_t> subset_;
  int64_t k_ = 0;
  // On the sampler's device: the subset, and the epoch's permutation of its positions (the draw never leaves
  // the device, so an epoch's start does not wait for the host).
  Tensor subset_device_, positions_;
};

}  // namespace bts
