// p-SGD and c-SGD (METHODS.md): T epochs of floor(N*B/b) iterations, N*B draws per epoch without replacement
// with probability proportional to importance (+ eps), from per-sample statistics of the training forwards
// (p-SGD: 1 - p of the true label; c-SGD: p(1 - p)). Sample statistics stay on the device; the draw is a sort by
// weighted random keys on the device. The first warmup_epochs draw uniformly.
#include "engine/backend.h"
#include "kernels/common/check.h"
#include "train/strategies/uniform.h"

namespace bts {

namespace {

class ImportanceSampler : public Sampler {
 public:
  ImportanceSampler(std::string name, const SamplerContext& c, kernels::ImportanceKind kind)
      : name_(std::move(name)), ctx_(c), kind_(kind), uniform_(name_, c, c.epochs, 0) {
    const Device d = c.device;
    sum_p_ = Tensor::zeros({c.train_size}, DType::F64, d);
    visits_ = Tensor::zeros({c.train_size}, DType::I32, d);
    last_p_ = Tensor::zeros({c.train_size}, DType::F32, d);
    weights_ = Tensor::empty({c.train_size}, DType::F64, d);
    positions_ = Tensor::empty({c.train_size}, DType::I32, d);
    drawn_ = Tensor::empty({c.train_size}, DType::I32, d);
  }
  std::string name() const override { return name_; }
  int64_t epochs() const override { return ctx_.epochs; }
  int64_t iterations_per_epoch() const override { return uniform_.iterations_per_epoch(); }

  void begin_epoch(int64_t epoch, Tensor& order) override {
    if (epoch < ctx_.importance.warmup_epochs) {
      uniform_.begin_epoch(epoch, order);
      return;
    }
    const ImportanceOptions& o = ctx_.importance;
    Backend& be = backend(order.device());
    be.importance_weights(ctx_.train_size, sum_p_.data<double>(), visits_.data<int32_t>(), last_p_.data<float>(),
                          kind_, o.averaging, o.eps, weights_.data<double>());
    be.weighted_order(ctx_.seed, static_cast<uint64_t>(epoch), ctx_.train_size, weights_.data<double>(),
                      order.data<int32_t>());
    // The draw decides which samples the epoch trains; the order they train in is a uniform shuffle of them (the
    // paper's code feeds the drawn subset through a shuffling loader). Left in key order, the most important
    // samples would always train first: a curriculum the method does not have.
    const int64_t k = iterations_per_epoch() * ctx_.batch_size;
    be.random_order(ctx_.seed ^ kDrawnShuffleSeed, static_cast<uint64_t>(epoch), k, positions_.data<int32_t>());
    be.gather_rows(order.data<int32_t>(), 1, positions_.data<int32_t>(), k, drawn_.data<int32_t>());
    be.copy(order.raw(), drawn_.raw(), static_cast<size_t>(k) * sizeof(int32_t), /*touches_host=*/false);
  }

  void after_forward(BatchView& v) override {
    const int64_t b = v.indices.numel(), M = v.prob_per_target.dim(1);
    BTS_CHECK(M == 1 || (v.source_slot && v.label_weights),
              name_ << ": " << M << " targets per sample need their source slots and label weights");
    const float* lw = M > 1 ? v.label_weights->data<float>() : nullptr;
    const int32_t* src = M > 1 ? v.source_slot->data<int32_t>() : nullptr;
    backend(v.indices.device())
        .update_importance_stats(v.indices.data<int32_t>(), v.prob_per_target.data<float>(), lw, src, b, M,
                                 sum_p_.data<double>(), visits_.data<int32_t>(), last_p_.data<float>());
  }

  void save(TensorMap& m) const override {
    m.emplace("sampler.sum_p", sum_p_.view());
    m.emplace("sampler.visits", visits_.view());
    m.emplace("sampler.last_p", last_p_.view());
  }
  void load(const TensorMap& m) override {
    // Sums of probabilities, visit counts, a probability: anything else is corruption, not state.
    restore_entry(m, "sampler.sum_p", sum_p_, 0.0);
    restore_entry(m, "sampler.visits", visits_, 0.0);
    restore_entry(m, "sampler.last_p", last_p_, 0.0, 1.0);
  }

 private:
  std::string name_;
  SamplerContext ctx_;
  kernels::ImportanceKind kind_;
  RandomOrderSampler uniform_;  // warm-up epochs
  Tensor sum_p_, visits_, last_p_, weights_;
  Tensor positions_, drawn_;  // I32 [N]: the within-epoch shuffle of the drawn samples
  // Makes the shuffle's permutation independent of the uniform samplers' permutations for the same seed.
  static constexpr uint64_t kDrawnShuffleSeed = 0x53485546464C4544ull;
};

}  // namespace

std::unique_ptr<Sampler> make_p_sgd(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<ImportanceSampler>("p-sgd", c, kernels::ImportanceKind::Loss);
}

std::unique_ptr<Sampler> make_c_sgd(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<ImportanceSampler>("c-sgd", c, kernels::ImportanceKind::Confidence);
}

}  // namespace bts
