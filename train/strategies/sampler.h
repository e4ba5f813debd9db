// Sampling strategies: what the network is shown each epoch, and which samples of a batch backpropagate. The
// trainer's loop knows only this interface; each strategy family is one file of train/strategies/, registered
// by one line in registry.cpp (docs/ARCHITECTURE.md shows how to add one).
//
// Per epoch, begin_epoch writes the presentation order (device I32 indices). Per step, after the training
// forward, after_forward sees the batch's indices, per-sample losses and target probabilities (device tensors,
// nothing copied to the host) and may change the per-sample weights of the backward (a mask or OSGD's top-q);
// it may also run extra scoring forwards and report them through the counters.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "engine/tensor_file.h"

namespace bts {

// p-SGD / c-SGD switches (the paper's Figure 1 variants and Table 1's warm-up).
struct ImportanceOptions {
  bool eps = true;             // add eps = mean importance to every weight
  bool averaging = true;       // running mean of p over all visits (false: the last value only)
  int64_t warmup_epochs = 0;   // first W epochs drawn uniformly
};

struct SamplerContext {
  int64_t train_size;   // N
  int64_t batch_size;   // 128 in the paper
  int64_t epochs;       // T, the full training's epoch count
  double budget;        // B in (0, 1]
  uint64_t seed;
  Device device;
  ImportanceOptions importance{};
};

struct BatchView {
  const Tensor& indices;          // I32 [b], device
  const Tensor& loss_per_sample;  // [b]
  const Tensor& prob_per_target;  // [b, M]
  Tensor& sample_weights;         // [b]: the backward's per-sample weights (1/b each unless changed)
  // Under mixup/RICAP (M > 1): each target's label weight and source batch slot, [b, M]; nullptr when M = 1.
  const Tensor* label_weights = nullptr;
  const Tensor* source_slot = nullptr;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // Epochs this run does, and iterations in each (the budget accounting of METHODS.md).
  virtual int64_t epochs() const = 0;
  virtual int64_t iterations_per_epoch() const = 0;
  // Fill order[0, iterations_per_epoch() * batch_size) with this epoch's samples, in presentation order.
  virtual void begin_epoch(int64_t epoch, Tensor& order) = 0;
  virtual void after_forward(BatchView&) {}
  // The host value after_forward passes to its kernels when it changes between steps (OSGD: q); a recorded
  // training step (train/recorded_step.h) is recorded anew when it changes. Everything else it reads must be
  // device memory at fixed addresses.
  virtual int64_t recorded_step_key() const { return 0; }
  // Samples of a batch of b that the backward actually trains on (OSGD: its q).
  virtual int64_t backward_count(int64_t b) const { return b; }
  // End of an epoch, with its training accuracy (OSGD adapts q from it).
  virtual void end_epoch(double /*train_accuracy*/) {}
  // Strategy state for checkpoints (per-sample statistics, queues...).
  virtual void save(TensorMap&) const {}
  virtual void load(const TensorMap&) {}
};

// A strategy's factory: its sampler for this run. `subset` is the core-set's chosen samples (empty otherwise).
using SamplerFactory = std::unique_ptr<Sampler>(const SamplerContext& ctx, std::vector<int32_t> subset);

// The registered strategies (train/strategies/registry.cpp): "sgd" (B must be 1), "scan-sgd", "unif-sgd",
// "p-sgd", "c-sgd", "sb" (the presentation order of selective backprop's scoring batches: T epochs of floor(N/b);
// the trainer does the selection), "osgd", "core-set" (needs its subset: the chosen samples' data-set indices),
// "random-subset"; throws for others, listing the valid names.
std::unique_ptr<Sampler> make_sampler(const std::string& method, const SamplerContext& ctx,
                                      std::vector<int32_t> subset = {});
bool is_sampler_name(const std::string& method);
const char* sampler_names();  // comma-separated, in registration order

}  // namespace bts
