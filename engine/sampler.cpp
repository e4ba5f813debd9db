#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/check.h"
#include "kernels/cpu/importance.h"
#include "kernels/cpu/sampling.h"
#ifdef BTS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/importance.h"
#include "kernels/cuda/sampling.h"
#endif

namespace bts {

namespace {

// SGD, scan-SGD and unif-SGD all show a prefix of a fresh uniformly random permutation each epoch; they differ
// in how many epochs they run and how long the prefix is:
//   sgd       T epochs of floor(N/b) iterations (the last partial batch dropped), B = 1
//   scan-sgd  round(T*B) epochs of floor(N/b) iterations (truncated training)
//   unif-sgd  T epochs of floor(N*B/b) iterations: N*B samples uniformly without replacement per epoch
class RandomOrderSampler : public Sampler {
 public:
  // iters == 0: floor(N*B/b), the budgeted draw of unif-SGD (and of the importance samplers).
  RandomOrderSampler(std::string name, const SamplerContext& c, int64_t epochs, int64_t iters)
      : name_(std::move(name)), ctx_(c), epochs_(epochs), iters_(iters) {
    if (iters_ == 0)
      iters_ = static_cast<int64_t>(std::floor(static_cast<double>(c.train_size) * c.budget + 1e-9)) / c.batch_size;
    BTS_CHECK(epochs_ >= 1 && iters_ >= 1, name_ << " with budget " << c.budget << ", " << c.epochs << " epochs, "
                                                 << c.train_size << " samples and batch " << c.batch_size
                                                 << " would train " << epochs_ << " epochs of " << iters_
                                                 << " iterations: raise the budget or the data size");
    if (ctx_.device == Device::CUDA) keys_ = Tensor::empty({ctx_.train_size}, DType::I64, Device::CUDA);
  }
  std::string name() const override { return name_; }
  int64_t epochs() const override { return epochs_; }
  int64_t iterations_per_epoch() const override { return iters_; }
  void begin_epoch(int64_t epoch, Tensor& order) override {
    BTS_CHECK(order.numel() >= ctx_.train_size && order.dtype() == DType::I32, "sampler order buffer too small");
    if (order.device() == Device::CPU) {
      kernels::cpu::random_order(ctx_.seed, static_cast<uint64_t>(epoch), ctx_.train_size, order.data<int32_t>());
      return;
    }
#ifdef BTS_WITH_CUDA
    kernels::cuda::random_order(kernels::cuda::current_context().stream(), ctx_.seed, static_cast<uint64_t>(epoch),
                                ctx_.train_size, reinterpret_cast<uint64_t*>(keys_.data<int64_t>()),
                                order.data<int32_t>());
#else
    BTS_FAIL("CUDA sampler in a build without CUDA");
#endif
  }

 private:
  std::string name_;
  SamplerContext ctx_;
  int64_t epochs_, iters_;
  Tensor keys_;
};

// p-SGD and c-SGD: T epochs of floor(N*B/b) iterations, N*B draws per epoch without replacement with
// probability proportional to importance (+ eps), from per-sample statistics of the training forwards. Sample
// statistics stay on the device; the only per-epoch host traffic is the count of seen samples.
class ImportanceSampler : public Sampler {
 public:
  ImportanceSampler(std::string name, const SamplerContext& c, kernels::ImportanceKind kind)
      : name_(std::move(name)), ctx_(c), kind_(kind), uniform_(name_, c, c.epochs, 0) {
    iters_ = uniform_.iterations_per_epoch();
    const Device d = c.device;
    sum_p_ = Tensor::zeros({c.train_size}, DType::F64, d);
    visits_ = Tensor::zeros({c.train_size}, DType::I32, d);
    last_p_ = Tensor::zeros({c.train_size}, DType::F32, d);
    weights_ = Tensor::empty({c.train_size}, DType::F64, d);
    if (d == Device::CUDA) keys_ = Tensor::empty({c.train_size}, DType::F64, d);
  }
  std::string name() const override { return name_; }
  int64_t epochs() const override { return ctx_.epochs; }
  int64_t iterations_per_epoch() const override { return iters_; }

  void begin_epoch(int64_t epoch, Tensor& order) override {
    if (epoch < ctx_.importance.warmup_epochs) {
      uniform_.begin_epoch(epoch, order);
      return;
    }
    const auto e = static_cast<uint64_t>(epoch);
    const ImportanceOptions& o = ctx_.importance;
    if (order.device() == Device::CPU) {
      kernels::cpu::importance_weights(ctx_.train_size, sum_p_.data<double>(), visits_.data<int32_t>(),
                                       last_p_.data<float>(), kind_, o.averaging, o.eps, weights_.data<double>());
      kernels::cpu::weighted_order(ctx_.seed, e, ctx_.train_size, weights_.data<double>(), order.data<int32_t>());
      return;
    }
#ifdef BTS_WITH_CUDA
    cudaStream_t s = kernels::cuda::current_context().stream();
    kernels::cuda::importance_weights(s, ctx_.train_size, sum_p_.data<double>(), visits_.data<int32_t>(),
                                      last_p_.data<float>(), kind_, o.averaging, o.eps, weights_.data<double>());
    kernels::cuda::weighted_order(s, ctx_.seed, e, ctx_.train_size, weights_.data<double>(), keys_.data<double>(),
                                  order.data<int32_t>());
#endif
  }

  void after_forward(BatchView& v) override {
    const int64_t b = v.indices.numel(), M = v.prob_per_target.dim(1);
    BTS_CHECK(M == 1 || (v.source_slot && v.label_weights),
              name_ << ": " << M << " targets per sample need their source slots and label weights");
    const float* lw = M > 1 ? v.label_weights->data<float>() : nullptr;
    const int32_t* src = M > 1 ? v.source_slot->data<int32_t>() : nullptr;
    if (v.indices.device() == Device::CPU) {
      kernels::cpu::update_importance_stats(v.indices.data<int32_t>(), v.prob_per_target.data<float>(), lw, src, b,
                                            M, sum_p_.data<double>(), visits_.data<int32_t>(), last_p_.data<float>());
      return;
    }
#ifdef BTS_WITH_CUDA
    kernels::cuda::update_importance_stats(kernels::cuda::current_context().stream(), v.indices.data<int32_t>(),
                                           v.prob_per_target.data<float>(), lw, src, b, M, sum_p_.data<double>(),
                                           visits_.data<int32_t>(), last_p_.data<float>());
#endif
  }

  void save(TensorMap& m) const override {
    m.emplace("sampler.sum_p", sum_p_.view());
    m.emplace("sampler.visits", visits_.view());
    m.emplace("sampler.last_p", last_p_.view());
  }
  void load(const TensorMap& m) override {
    sum_p_.copy_from(m.at("sampler.sum_p"));
    visits_.copy_from(m.at("sampler.visits"));
    last_p_.copy_from(m.at("sampler.last_p"));
  }
  const Tensor& weights() const { return weights_; }

 private:
  std::string name_;
  SamplerContext ctx_;
  kernels::ImportanceKind kind_;
  RandomOrderSampler uniform_;  // warm-up epochs
  int64_t iters_ = 0;
  Tensor sum_p_, visits_, last_p_, weights_, keys_;
};

// Ordered SGD: truncated like scan-SGD (round(T*B) epochs over all samples); each batch backpropagates only its
// q largest losses (weights 1/q), with q adapted at each epoch's end from the training accuracy.
class OrderedSgdSampler : public Sampler {
 public:
  OrderedSgdSampler(const SamplerContext& c)
      : ctx_(c),
        order_("osgd", c, static_cast<int64_t>(std::llround(static_cast<double>(c.epochs) * c.budget)),
               c.train_size / c.batch_size),
        q_(c.batch_size) {}
  std::string name() const override { return "osgd"; }
  int64_t epochs() const override { return order_.epochs(); }
  int64_t iterations_per_epoch() const override { return order_.iterations_per_epoch(); }
  void begin_epoch(int64_t epoch, Tensor& order) override { order_.begin_epoch(epoch, order); }
  void after_forward(BatchView& v) override {
    const int64_t b = v.loss_per_sample.numel();
    if (v.loss_per_sample.device() == Device::CPU) {
      kernels::cpu::top_q_weights(v.loss_per_sample.data<float>(), b, q_, v.sample_weights.data<float>());
      return;
    }
#ifdef BTS_WITH_CUDA
    kernels::cuda::top_q_weights(kernels::cuda::current_context().stream(), v.loss_per_sample.data<float>(), b, q_,
                                 v.sample_weights.data<float>());
#endif
  }
  int64_t backward_count(int64_t b) const override { return std::min(b, q_); }
  void end_epoch(double train_accuracy) override { q_ = kernels::osgd_q(ctx_.batch_size, train_accuracy); }
  int64_t q() const { return q_; }
  void save(TensorMap& m) const override { m.emplace("sampler.q", Tensor::from_vector<int64_t>({q_}, {1})); }
  void load(const TensorMap& m) override { q_ = m.at("sampler.q").data<int64_t>()[0]; }

 private:
  SamplerContext ctx_;
  RandomOrderSampler order_;
  int64_t q_;
};

// Random subset and core-set (Figure 1): a fixed subset of N*B samples, chosen once, trained for T epochs
// (reshuffled each epoch). The random subset is the prefix of the permutation of a reserved "epoch" number, so
// it never coincides with an epoch's order; the core-set comes from the trainer (most_forgotten).
class SubsetSampler : public Sampler {
 public:
  SubsetSampler(std::string name, const SamplerContext& c, std::vector<int32_t> subset)
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
  }
  std::string name() const override { return name_; }
  int64_t epochs() const override { return ctx_.epochs; }
  int64_t iterations_per_epoch() const override { return uniform_.iterations_per_epoch(); }
  void begin_epoch(int64_t epoch, Tensor& order) override {
    // Shuffle positions within the subset with the epoch's permutation of 0..k-1 (host: k indices per epoch).
    std::vector<int32_t> pos(static_cast<size_t>(k_)), out(static_cast<size_t>(k_));
    kernels::cpu::random_order(ctx_.seed, static_cast<uint64_t>(epoch), k_, pos.data());
    for (int64_t j = 0; j < k_; ++j) out[static_cast<size_t>(j)] = subset_[static_cast<size_t>(pos[static_cast<size_t>(j)])];
    Tensor host = Tensor::from_vector<int32_t>(out, {k_});
    Tensor dst = Tensor::wrap(order.raw(), {k_}, DType::I32, order.device());
    dst.copy_from(host);
  }
  const std::vector<int32_t>& subset() const { return subset_; }

 private:
  static constexpr uint64_t kSubsetEpoch = 0xFFFFFFFFull;
  std::string name_;
  SamplerContext ctx_;
  RandomOrderSampler uniform_;
  std::vector<int32_t> subset_;
  int64_t k_ = 0;
};

}  // namespace

const char* sampler_names() {
  return "sgd, scan-sgd, unif-sgd, p-sgd, c-sgd, sb, osgd, core-set, random-subset";
}

std::unique_ptr<Sampler> make_sampler(const std::string& method, const SamplerContext& c, std::vector<int32_t> subset) {
  BTS_CHECK(c.budget > 0 && c.budget <= 1, "budget must be in (0, 1], got " << c.budget);
  const int64_t full_iters = c.train_size / c.batch_size;
  if (method == "sgd") {
    BTS_CHECK(c.budget == 1.0, "method 'sgd' is full training (budget 1); got budget " << c.budget
                                                                                      << ": use scan-sgd or unif-sgd");
    return std::make_unique<RandomOrderSampler>(method, c, c.epochs, full_iters);
  }
  if (method == "scan-sgd")
    return std::make_unique<RandomOrderSampler>(
        method, c, static_cast<int64_t>(std::llround(static_cast<double>(c.epochs) * c.budget)), full_iters);
  if (method == "unif-sgd") return std::make_unique<RandomOrderSampler>(method, c, c.epochs, 0);
  if (method == "p-sgd") return std::make_unique<ImportanceSampler>(method, c, kernels::ImportanceKind::Loss);
  if (method == "random-subset") return std::make_unique<SubsetSampler>(method, c, std::vector<int32_t>{});
  if (method == "core-set") {
    BTS_CHECK(!subset.empty(), "core-set needs its subset (the trainer picks it from a selection run)");
    return std::make_unique<SubsetSampler>(method, c, std::move(subset));
  }
  if (method == "sb") return std::make_unique<RandomOrderSampler>(method, c, c.epochs, full_iters);
  if (method == "osgd") return std::make_unique<OrderedSgdSampler>(c);
  if (method == "c-sgd") return std::make_unique<ImportanceSampler>(method, c, kernels::ImportanceKind::Confidence);
  BTS_FAIL("unknown method '" << method << "' (expected one of: " << sampler_names() << ")");
}

}  // namespace bts
