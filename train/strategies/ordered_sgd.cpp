// Ordered SGD (Kawaguchi & Lu 2020; METHODS.md): truncated like scan-SGD (ceil(T*B) epochs over all samples, at
// most floor(B*T*N/b) steps);
// each batch backpropagates only its q largest losses (weights 1/q), with q adapted at each epoch's end from the
// training accuracy.
#include <algorithm>
#include <cmath>

#include "engine/backend.h"
#include "kernels/common/importance.h"
#include "train/strategies/uniform.h"

namespace bts {

namespace {

class OrderedSgdSampler : public Sampler {
 public:
  explicit OrderedSgdSampler(const SamplerContext& c)
      : ctx_(c),
        order_("osgd", c, whole_epochs(c), c.train_size / c.batch_size),
        q_(c.batch_size) {}
  std::string name() const override { return "osgd"; }
  int64_t epochs() const override { return order_.epochs(); }
  int64_t iterations_per_epoch() const override { return order_.iterations_per_epoch(); }
  void begin_epoch(int64_t epoch, Tensor& order) override { order_.begin_epoch(epoch, order); }
  void after_forward(BatchView& v) override {
    backend(v.loss_per_sample.device())
        .top_q_weights(v.loss_per_sample.data<float>(), v.loss_per_sample.numel(), q_, v.sample_weights.data<float>());
  }
  int64_t recorded_step_key() const override { return q_; }
  int64_t backward_count(int64_t b) const override { return std::min(b, q_); }
  void end_epoch(double train_accuracy) override { q_ = kernels::osgd_q(ctx_.batch_size, train_accuracy); }
  void save(TensorMap& m) const override { m.emplace("sampler.q", Tensor::from_vector<int64_t>({q_}, {1})); }
  void load(const TensorMap& m) override {
    const Tensor& q = tensor_entry(m, "", "sampler.q", DType::I64, {1});
    check_entry_values(q, "sampler.q", 1, static_cast<double>(ctx_.batch_size));  // q samples of a batch
    q_ = q.data<int64_t>()[0];
  }

 private:
  SamplerContext ctx_;
  RandomOrderSampler order_;
  int64_t q_;
};

}  // namespace

std::unique_ptr<Sampler> make_ordered_sgd(const SamplerContext& c, std::vector<int32_t>) {
  return std::make_unique<OrderedSgdSampler>(c);
}

}  // namespace bts
