// Selective backprop (METHODS.md): the percentile rule, the kept fraction on a known loss stream, the loss
// history ring, the queue, and through the trainer the exact backward budget, priming and a bitwise resume.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/ops.h"
#include "models/resnet18.h"
#include "train/config.h"
#include "engine/rng.h"
#include "train/strategies/selective_backprop.h"
#include "engine/tensor_file.h"
#include "train/trainer.h"
#include "kernels/common/selective_backprop.h"
#include "kernels/cpu/selective_backprop.h"
#include "tests/common/helpers.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {


// Feeds `batches` batches of b i.i.d. uniform losses; returns the kept fraction.
double kept_fraction(double beta, int64_t batches, int64_t b, uint64_t seed) {
  SelectiveBackprop sb(SelectiveBackpropOptions{beta, 1024, 0, seed}, b, Shape{1, 1, 1}, Device::CPU);
  Rng rng(seed);
  Tensor loss = Tensor::empty({b}, DType::F32), images = Tensor::zeros({b, 1, 1, 1}, DType::F32);
  Tensor labels = Tensor::zeros({b}, DType::I32), idx = Tensor::zeros({b}, DType::I32);
  int64_t kept = 0;
  for (int64_t s = 0; s < batches; ++s) {
    for (int64_t j = 0; j < b; ++j) loss.data<float>()[j] = static_cast<float>(rng.uniform());
    kept += sb.select(1, static_cast<uint64_t>(s), loss, images, labels, idx);
    sb.pop(sb.queued());
  }
  return static_cast<double>(kept) / static_cast<double>(batches * b);
}

json sb_config(const std::string& run_dir) {
  return {{"dataset", "fashion-mnist"}, {"method", "sb"}, {"budget", 0.5}, {"epochs", 3},
          {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 512}, {"test_subset", 200},
          {"device", "cpu"}, {"checkpoint_every", 1}, {"run_dir", run_dir}, {"seed", 9}};
}

}  // namespace

TEST_SUITE("selective_backprop") {

TEST_CASE("percentile: the fraction of the history strictly below the loss; P = percentile^beta") {
  const float h[] = {1, 2, 3, 4, 4};
  CHECK(kernels::sb_percentile(h, 5, 3.0f) == doctest::Approx(0.4));
  CHECK(kernels::sb_percentile(h, 5, 4.0f) == doctest::Approx(0.6));  // ties are not below
  CHECK(kernels::sb_percentile(h, 5, 0.5f) == 0.0);
  CHECK(kernels::sb_percentile(h, 5, 9.0f) == 1.0);
  CHECK(kernels::sb_select_probability(0.5, 3) == doctest::Approx(0.125));
  CHECK(kernels::sb_select_probability(0.0, 0) == 1.0);  // beta 0 keeps everything
  CHECK(kernels::sb_select_probability(1.0, 7) == 1.0);  // the largest loss is always kept
}

TEST_CASE("kept fraction on a stream of i.i.d. losses is 1/(beta+1)") {
  // The percentile of an i.i.d. loss is ~uniform, so E[P] = E[U^beta] = 1/(beta+1). 300 batches of 128:
  // the binomial standard error is below 0.003; allow 0.012.
  for (double beta : {0.0, 1.0, 7.0 / 3.0, 4.0}) {
    const double f = kept_fraction(beta, 300, 128, 17);
    INFO("beta " << beta << ": kept " << f);
    CHECK(std::abs(f - 1.0 / (beta + 1.0)) < 0.012);
  }
}

TEST_CASE("the loss history is a ring of the last R losses, appended before the decisions") {
  std::vector<float> h(4, -1.0f);
  const float a[] = {1, 2, 3}, b[] = {4, 5, 6};
  kernels::cpu::sb_append_history(h.data(), 4, 0, a, 3);
  kernels::cpu::sb_append_history(h.data(), 4, 3, b, 3);
  CHECK(h == std::vector<float>{5, 6, 3, 4});  // 1 and 2 were overwritten

  // The batch's own losses count in its percentiles: one batch of losses {0, 1} with beta 1, history empty
  // before: P(0) = 0 (nothing below), P(1) = 1/2.
  SelectiveBackprop sb(SelectiveBackpropOptions{1.0, 8, 0, 3}, 2, Shape{1}, Device::CPU);
  Tensor loss = Tensor::from_vector<float>({0.0f, 1.0f}, {2});
  Tensor images = Tensor::from_vector<float>({10.0f, 11.0f}, {2, 1});
  Tensor labels = Tensor::from_vector<int32_t>({3, 4}, {2}), idx = Tensor::from_vector<int32_t>({7, 8}, {2});
  int64_t kept_second = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    const int64_t before = sb.queued();
    sb.select(1, s, loss, images, labels, idx);
    for (int64_t q = before; q < sb.queued(); ++q) {
      // Only slot 1 can ever be kept (slot 0's loss is the minimum), and the queue holds its own row.
      CHECK(sb.indices(sb.queued()).data<int32_t>()[q] == 8);
      CHECK(sb.images(sb.queued()).data<float>()[q] == 11.0f);
      CHECK(sb.labels(sb.queued()).data<int32_t>()[q] == 4);
      ++kept_second;
    }
    sb.pop(sb.queued());
  }
  CHECK(sb.history_length() == 8);
  // After the first batch the history is half 0s, half 1s: P(1) = 1/2 throughout.
  CHECK(std::abs(kept_second / 400.0 - 0.5) < 0.08);
}

TEST_CASE("priming keeps everything; the queue keeps scoring order and pop moves the rest to the front") {
  const int64_t b = 4;
  SelectiveBackprop sb(SelectiveBackpropOptions{50.0, 16, 1, 5}, b, Shape{2}, Device::CPU);
  Tensor loss = Tensor::from_vector<float>({0.1f, 0.2f, 0.3f, 0.4f}, {b});
  Tensor images = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {b, 2});
  Tensor labels = Tensor::from_vector<int32_t>({0, 1, 2, 3}, {b});
  Tensor idx = Tensor::from_vector<int32_t>({40, 41, 42, 43}, {b});
  CHECK(sb.select(/*epoch=*/0, 0, loss, images, labels, idx) == 4);  // primed epoch
  sb.pop(3);
  REQUIRE(sb.queued() == 1);
  CHECK(sb.indices(1).data<int32_t>()[0] == 43);
  CHECK(sb.images(1).data<float>()[0] == 6.0f);
  CHECK(sb.images(1).data<float>()[1] == 7.0f);
  // After priming, beta 50 keeps almost nothing of a batch whose losses are all below the history's top.
  int64_t kept = 0;
  for (uint64_t s = 1; s < 50; ++s) {
    kept += sb.select(1, s, loss, images, labels, idx);
    sb.pop(sb.queued());
  }
  CHECK(kept <= 1);  // every P is at most (3/4)^50 ~ 6e-7: the history holds copies of the same four losses
  CHECK_THROWS_WITH_AS(SelectiveBackprop(SelectiveBackpropOptions{1, 2, 0, 0}, 4, Shape{1}, Device::CPU),
                       doctest::Contains("at least one batch"), Error);
}

TEST_CASE("mixup/RICAP: the queue carries each kept image's M labels and label weights, through pop and checkpoints") {
  const int64_t b = 4, M = 2;
  SelectiveBackpropOptions o{1.0, 16, 0, 11};
  o.targets = M;
  SelectiveBackprop sb(o, b, Shape{1}, Device::CPU);
  Tensor images = Tensor::from_vector<float>({10, 11, 12, 13}, {b, 1});
  Tensor labels = Tensor::from_vector<int32_t>({0, 5, 1, 6, 2, 7, 3, 8}, {b, M});
  Tensor weights = Tensor::from_vector<float>({0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.3f, 0.6f, 0.4f}, {b, M});
  Tensor idx = Tensor::from_vector<int32_t>({20, 21, 22, 23}, {b});
  // Distinct losses, so which slots are kept differs from step to step; every kept row must be its slot's row.
  Tensor loss = Tensor::from_vector<float>({0.4f, 0.1f, 0.3f, 0.2f}, {b});
  int64_t total = 0;
  for (uint64_t step = 0; step < 12; ++step) {
    const int64_t kept = sb.select(1, step, loss, images, labels, idx, weights);
    total += kept;
    const Tensor ql = sb.labels(sb.queued()), qw = sb.label_weights(sb.queued());
    REQUIRE(ql.shape() == Shape{sb.queued(), M});
    for (int64_t r = 0; r < sb.queued(); ++r) {
      const int64_t j = sb.indices(sb.queued()).data<int32_t>()[r] - 20;  // the slot this row came from
      CHECK(sb.images(sb.queued()).data<float>()[r] == 10.0f + static_cast<float>(j));
      for (int64_t m = 0; m < M; ++m) {
        CHECK(ql.data<int32_t>()[r * M + m] == labels.data<int32_t>()[j * M + m]);
        CHECK(qw.data<float>()[r * M + m] == weights.data<float>()[j * M + m]);
      }
    }
    if (sb.queued() >= b) sb.pop(b);
  }
  CHECK(total > 0);
  // A checkpoint restores the waiting rows' weights; a different M cannot be loaded into it silently.
  TensorMap m;
  sb.save(m);
  SelectiveBackprop back(o, b, Shape{1}, Device::CPU);
  back.load(m);
  REQUIRE(back.queued() == sb.queued());
  if (sb.queued() > 0)
    CHECK(back.label_weights(sb.queued()).to_double_vector() == sb.label_weights(sb.queued()).to_double_vector());
  SelectiveBackprop single(SelectiveBackpropOptions{1.0, 16, 0, 11}, b, Shape{1}, Device::CPU);
  CHECK_THROWS(single.load(m));
  CHECK_THROWS_WITH_AS(single.label_weights(0), doctest::Contains("only under mixup/RICAP"), Error);
  // Label weights are required with M > 1, and staleness (a per-sample loss cache) refuses mixed images.
  CHECK_THROWS_WITH_AS(sb.select(1, 99, loss, images, labels, idx), doctest::Contains("label weights"), Error);
  o.staleness = 1;
  o.train_size = 30;
  CHECK_THROWS_WITH_AS(SelectiveBackprop(o, b, Shape{1}, Device::CPU), doctest::Contains("staleness"), Error);
}

TEST_CASE("through the trainer: the backward budget met exactly, scoring counted, bitwise resume") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  TrainOptions quiet;
  quiet.quiet = true;
  // beta 0 keeps every scored sample, so the budget of B*T*N = 0.5*3*512 = 768 is spent during epoch 2.
  const std::string a = "bts_test_sb_a", b = "bts_test_sb_b";
  fs::remove_all(a);
  fs::remove_all(b);
  json ca = sb_config(a);
  ca["sb"] = {{"beta", 0}};
  const json ra = train(config_from_json(ca), quiet);
  CHECK(ra["budget_spent"]["samples_backward"] == 768);
  CHECK(ra["budget_spent"]["samples_forward"] == 768);
  CHECK(ra["budget_spent"]["iterations"] == 24);
  CHECK(ra["budget_spent"]["samples_scored"] == 16 * 32 + 8 * 32);  // epoch 1 + half of epoch 2
  CHECK(ra["selective_backprop"]["stopped_when_budget_spent"] == true);
  CHECK(ra["history"].size() == 2);
  CHECK(ra["budget_spent"]["epochs"] == 2);
  // The schedule runs over the budget: the last step used the linear schedule's final LR.
  // (Approx's default scale would accept anything within 1e-5 of 1e-6: an absolute bound is set instead.)
  CHECK(ra["history"][1]["lr"].get<double>() == doctest::Approx(1e-6).epsilon(1e-9));

  // The default beta = 1/B - 1 = 1 keeps about half, so 3 epochs of 16 scoring batches are about what the budget of
  // 768 buys: the run either scores them all or stops during epoch 3 with the budget spent exactly (which of the
  // two depends on the model's rounding; it changed once already).
  json cb = sb_config(b);
  const json rb = train(config_from_json(cb), quiet);
  const int64_t scored_b = rb["budget_spent"]["samples_scored"].get<int64_t>();
  CHECK(scored_b % 32 == 0);
  CHECK(scored_b > 2 * 16 * 32);
  CHECK((scored_b == 3 * 16 * 32 || rb["budget_spent"]["samples_backward"] == 768));
  const double kept = rb["selective_backprop"]["kept_fraction"].get<double>();
  CHECK(kept > 0.35);
  CHECK(kept < 0.65);
  CHECK(rb["budget_spent"]["samples_backward"].get<int64_t>() <= 768);
  CHECK(rb["history"].back()["lr"].get<double>() == doctest::Approx(1e-6).epsilon(1e-9));  // whichever end came first
  TensorMap counts = read_tensor_file((fs::path(b) / "sample_counts.bin").string());
  double total = 0;
  for (double v : counts.at("counts").to_double_vector()) total += v;
  CHECK(total == rb["budget_spent"]["samples_backward"].get<double>());  // counts are the backprop'd samples

  // Interrupted mid-epoch with samples waiting in the queue, then resumed: identical to the uninterrupted run.
  const std::string c = "bts_test_sb_c";
  fs::remove_all(c);
  json cc = sb_config(c);
  TrainOptions stop = quiet;
  stop.stop_after_steps = 11;
  CHECK(train(config_from_json(cc), stop)["status"] == "interrupted");
  const json rc = train(config_from_json(cc), TrainOptions{true, true, 0});
  CHECK(rc["budget_spent"] == rb["budget_spent"]);
  CHECK(rc["final_test_accuracy"].get<double>() == rb["final_test_accuracy"].get<double>());
  TensorMap kb = read_tensor_file((fs::path(b) / "checkpoint.bin").string());
  TensorMap kc = read_tensor_file((fs::path(c) / "checkpoint.bin").string());
  CHECK(kb.at("params").to_double_vector() == kc.at("params").to_double_vector());
  CHECK(kb.at("sb.history").to_double_vector() == kc.at("sb.history").to_double_vector());
  // beta 4 keeps about a fifth: the epochs run out well before the budget, and the last step (the last epoch's
  // flush) still runs at lr.final, not where the samples spent would put it (about 40% of the schedule).
  const std::string d = "bts_test_sb_d";
  fs::remove_all(d);
  json cd = sb_config(d);
  cd["sb"] = {{"beta", 4}};
  const json rd = train(config_from_json(cd), quiet);
  CHECK(rd["budget_spent"]["samples_backward"].get<int64_t>() < 600);
  CHECK(rd["budget_spent"]["samples_scored"] == 3 * 16 * 32);
  CHECK(rd["history"].back()["lr"].get<double>() == doctest::Approx(1e-6).epsilon(1e-9));
  CHECK(rd["history"][1]["lr"].get<double>() > 1e-3);  // before the end it follows the samples spent
  for (const auto& dir : {a, b, c, d}) fs::remove_all(dir);
}

TEST_CASE("staleness: cached losses reused for S epochs, only stale slots scored") {
  // Samples 0..3; sample 1 scored in epoch 4, sample 2 in epoch 2, sample 3 never; staleness 2 at epoch 5.
  const float cached[] = {9, 1.5f, 2.5f, 0};
  int32_t scored_epoch[] = {kernels::kNeverScored, 4, 2, kernels::kNeverScored};
  const int32_t idx[] = {3, 1, 2, 0};
  float loss[4] = {-1, -1, -1, -1};
  int32_t need[4] = {-1, -1, -1, -1};
  const int64_t count = kernels::cpu::sb_split_stale(idx, 4, cached, scored_epoch, 5, 2, loss, need);
  REQUIRE(count == 3);  // slot 1 (sample 1, one epoch old) is fresh; sample 2 is 3 epochs old
  CHECK(need[0] == 0);
  CHECK(need[1] == 2);
  CHECK(need[2] == 3);
  CHECK(loss[1] == 1.5f);
  std::vector<float> cache(cached, cached + 4);
  const float scored[] = {7, 8, 6};
  kernels::cpu::sb_scatter_scores(idx, need, 3, scored, 5, loss, cache.data(), scored_epoch);
  CHECK(std::vector<float>(loss, loss + 4) == std::vector<float>{7, 1.5f, 8, 6});
  CHECK(cache == std::vector<float>{6, 1.5f, 8, 7});
  CHECK(scored_epoch[3] == 5);
  CHECK(scored_epoch[0] == 5);

  if (!have_fashion_mnist()) return;
  // Through the trainer: staleness 1 over 3 epochs scores every sample in epoch 1, none in epoch 2 (all one epoch
  // old), all again in epoch 3.
  const std::string d = "bts_test_sb_stale";
  fs::remove_all(d);
  json c = sb_config(d);
  c["sb"] = {{"staleness", 1}};
  TrainOptions quiet;
  quiet.quiet = true;
  const json r = train(config_from_json(c), quiet);
  // Epoch 3 scores until the end or until the budget of 768 is spent (which first depends on the model's rounding).
  const int64_t total_scored = r["budget_spent"]["samples_scored"].get<int64_t>();
  CHECK(total_scored > 16 * 32);
  CHECK((total_scored == 2 * 16 * 32 || r["budget_spent"]["samples_backward"] == 768));
  CHECK(r["history"][1]["counters"]["samples_scored"] == 16 * 32);  // nothing scored in epoch 2
  CHECK(r["budget_spent"]["samples_backward"].get<int64_t>() > 0);
  fs::remove_all(d);
}

// With staleness the scoring forward runs on the stale count rounded up to a quarter of the batch (four sizes, so
// four cuDNN plans and recordings instead of up to b); the padding rows must not change the real rows' losses.
TEST_CASE("staleness: scoring rows come in quarters of the batch, and padding rows leave the real losses alone") {
  const int64_t b = 8;
  SelectiveBackpropOptions o;
  o.staleness = 1;
  o.train_size = 20;
  SelectiveBackprop sb(o, b, Shape{3, 8, 8}, Device::CPU);
  Rng rng(41);
  const Tensor images = bts::test::random_tensor({b, 3, 8, 8}, DType::F32, rng);
  Tensor labels = Tensor::empty({b}, DType::I32), idx = Tensor::empty({b}, DType::I32);
  for (int i = 0; i < b; ++i) {
    labels.data<int32_t>()[i] = (3 * i) % 10;
    idx.data<int32_t>()[i] = i;  // epoch 0: all never scored
  }
  CHECK(sb.prepare_scoring(0, idx, images, labels) == b);
  CHECK(sb.scoring_rows() == b);
  CHECK_THROWS_AS(sb.scoring_images(3), Error);  // only scoring_rows() rows are prepared

  // The quarter rule itself, through prepare_scoring's count: b = 8 gives sizes 2, 4, 6, 8.
  for (int64_t stale : {1, 2, 3, 5, 8}) {
    SelectiveBackprop q(o, b, Shape{3, 8, 8}, Device::CPU);
    Tensor ids = Tensor::empty({b}, DType::I32);
    for (int i = 0; i < b; ++i) ids.data<int32_t>()[i] = i;
    q.prepare_scoring(0, ids, images, labels);
    q.finish_scoring(0, ids, Tensor::zeros({b}, DType::F32));
    // Epoch 1: the first `stale` slots show new (never scored) samples, the rest samples scored in epoch 0.
    for (int i = 0; i < b; ++i) ids.data<int32_t>()[i] = i < stale ? 10 + i : i;
    REQUIRE(q.prepare_scoring(1, ids, images, labels) == stale);
    CHECK(q.scoring_rows() == (stale + 1) / 2 * 2);
    q.finish_scoring(1, ids, Tensor::zeros({stale}, DType::F32));
  }

  // Eval mode is row-independent: a ResNet-18's losses of 5 images alone and as the first 5 of 8.
  ResNet18 model({0.125, 10, 3});
  model.finalize(DType::F32, Device::CPU, 7);
  model.set_training(false);
  auto losses = [&](int64_t n) {
    Tape tape(Device::CPU);
    NoGradGuard no_grad(tape);
    Tensor lab = Tensor::wrap(labels.raw(), {n}, DType::I32, Device::CPU);
    Var logits = model.forward(tape, tape.input(Tensor::wrap(images.raw(), {n, 3, 8, 8}, DType::F32, Device::CPU)));
    const Tensor l = cross_entropy(tape, logits, Targets::hard(lab, DType::F32, Device::CPU)).loss_per_sample->view();
    std::vector<double> v = l.to_double_vector();
    v.resize(5);
    return v;
  };
  const std::vector<double> alone = losses(5), padded = losses(8);
  for (int i = 0; i < 5; ++i) CHECK(padded[i] == doctest::Approx(alone[i]).epsilon(1e-6));
}

}  // TEST_SUITE
