// Batches built channels last (NHWC), the layout the GPU's bf16 and channels-last steps take their input in, so the
// step does not transpose it. Every batch kernel writes NHWC as the same values as NCHW, moved: the crop/flip/
// normalise build (with and without RandAugment), cutout, mixup and RICAP all give bit for bit the relayout of
// their NCHW result. Selective backprop's queue keeps the layout and its checkpoints hold NCHW. The model asks for
// the layout its stem convolution takes, and a run reports and resumes in it.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "data/dataset.h"
#include "data/device_dataset.h"
#include "engine/backend.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/rng.h"
#include "engine/tensor_file.h"
#include "kernels/cpu/mixing.h"
#include "models/resnet18.h"
#include "train/batch_mixing.h"
#include "train/config.h"
#include "train/strategies/selective_backprop.h"
#include "train/trainer.h"
#include "tests/common/helpers.h"
#include "tests/common/random_dataset.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Tensor moved_to(const Tensor& t, Layout to) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), Device::CPU, to);
  backend(Device::CPU).relayout(t, GradTarget{out.raw(), false, to});
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

Tensor random_batch(int64_t b, int c, int h, int w, uint64_t seed) {
  Tensor t = Tensor::empty({b, c, h, w}, DType::F32);
  Rng rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform() * 4.0 - 2.0);
  return t;
}

// The CPU imitating the CUDA backend's convolutions (each input brought to its output's layout), which makes a
// model ask for NHWC batches; switched back off however the test ends.
struct ConvInputFollowsOutput {
  ConvInputFollowsOutput() { cpu().set_conv_input_follows_output(true); }
  ~ConvInputFollowsOutput() { cpu().set_conv_input_follows_output(false); }
  static CpuBackend& cpu() { return dynamic_cast<CpuBackend&>(backend(Device::CPU)); }
};

}  // namespace

TEST_SUITE("batch_layout") {

TEST_CASE("the batch build writes NHWC as its NCHW batch moved, bit for bit (crop/flip, RandAugment, test batches)") {
  const int64_t n = 40, b = 16;
  const int c = 3, h = 12, w = 10;
  DeviceDataset ds(bts::test::random_dataset(n, c, h, w, true, 3), Device::CPU);  // h != w: a swap shows
  std::vector<int32_t> iv;
  for (int k = 0; k < b; ++k) iv.push_back((k * 7 + 3) % n);
  const Tensor idx = Tensor::from_vector(iv, {b});
  for (const BatchOptions& opt : {BatchOptions{5, 7, true}, BatchOptions{5, 8, true, 2, 4}, BatchOptions{5, 7, false}}) {
    CAPTURE(opt.step);
    CAPTURE(opt.augment);
    CAPTURE(opt.randaugment_n);
    const Batch nchw = ds.batch(idx, opt);
    const Batch nhwc = ds.batch(idx, opt, Layout::NHWC);
    CHECK(nhwc.images.layout() == Layout::NHWC);
    CHECK(same_bytes(nhwc.images, moved_to(nchw.images, Layout::NHWC)));
    CHECK_FALSE(same_bytes(nhwc.images, nchw.images));  // three channels: the two layouts differ in memory
    CHECK(same_bytes(nhwc.labels, nchw.labels));
  }
  // build_batch follows the tensor it is given; a layout the kernels do not write is refused by them.
  ds.set_batch_options(BatchOptions{5, 7, true});
  Tensor images = Tensor::empty({b, c, h, w}, DType::F32, Device::CPU, Layout::NHWC);
  Tensor labels = Tensor::empty({b}, DType::I32);
  ds.build_batch(idx, images, labels);
  CHECK(same_bytes(images, ds.batch(idx, BatchOptions{5, 7, true}, Layout::NHWC).images));
  std::vector<float> img(static_cast<size_t>(2 * 16 * 4 * 4));
  CHECK_THROWS_WITH_AS(kernels::cpu::cutout_batch(img.data(), 2, 16, 4, 4, kernels::make_cutout_args(2, 1, 1),
                                                  kernels::MemoryOrder::NCHW16C),
                       doctest::Contains("NCHW or NHWC"), Error);
}

TEST_CASE("cutout, mixup and RICAP on an NHWC batch: the NCHW results moved, the same targets") {
  const int64_t b = 6;
  const int c = 3, h = 5, w = 7;
  const Tensor base = random_batch(b, c, h, w, 17);
  Tensor labels = Tensor::empty({b}, DType::I32);
  for (int64_t i = 0; i < b; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(i * 3 % 10);
  for (const MixingOptions& mo : {MixingOptions{0, 0, 3, 21}, MixingOptions{0.3, 0, 0, 21},
                                  MixingOptions{0.3, 0, 2, 21}, MixingOptions{0, 0.3, 0, 21},
                                  MixingOptions{0, 0.3, 3, 21}}) {
    CAPTURE(mo.mixup_alpha);
    CAPTURE(mo.ricap_beta);
    CAPTURE(mo.cutout);
    BatchMixer nchw(mo, b, c, h, w, Device::CPU), nhwc(mo, b, c, h, w, Device::CPU, Layout::NHWC);
    for (uint64_t step : {4u, 9u}) {
      CAPTURE(step);
      Tensor x = base.clone(), y = moved_to(base, Layout::NHWC);
      nchw.apply(step, x, labels);
      nhwc.apply(step, y, labels);
      CHECK(same_bytes(y, moved_to(x, Layout::NHWC)));  // cutout, in place
      if (mo.cutout > 0) {
        int64_t zeros = 0;
        for (int64_t i = 0; i < x.numel(); ++i) zeros += x.data<float>()[i] == 0.0f;
        CHECK(zeros >= b * c);  // every image has a hole of at least one pixel
      }
      if (nchw.targets() > 1) {
        CHECK(nhwc.images().layout() == Layout::NHWC);
        CHECK(same_bytes(nhwc.images(), moved_to(nchw.images(), Layout::NHWC)));
        CHECK_FALSE(same_bytes(nhwc.images(), nchw.images()));
        CHECK(same_bytes(nhwc.labels(), nchw.labels()));
        CHECK(same_bytes(nhwc.label_weights(), nchw.label_weights()));
        CHECK(same_bytes(nhwc.source_slot(), nchw.source_slot()));
      }
    }
    Tensor wrong = base.clone();
    CHECK_THROWS_WITH_AS(nhwc.apply(1, wrong, labels), doctest::Contains("made for NHWC"), Error);
  }
  CHECK_THROWS_WITH_AS(BatchMixer(MixingOptions{0.3, 0, 0, 1}, b, 16, h, w, Device::CPU, Layout::NCHW16C),
                       doctest::Contains("NCHW or NHWC"), Error);
}

TEST_CASE("selective backprop: the queue keeps NHWC rows, checkpoints hold NCHW, either layout loads either") {
  const int64_t b = 8;
  const Shape image{3, 4, 5};
  SelectiveBackpropOptions o{1.0, 64, 0, 13};
  SelectiveBackprop nchw(o, b, image, Device::CPU), nhwc(o, b, image, Device::CPU, Layout::NHWC);
  Rng rng(2);
  for (uint64_t step = 0; step < 5; ++step) {
    const Tensor x = random_batch(b, 3, 4, 5, 100 + step);
    Tensor loss = Tensor::empty({b}, DType::F32), labels = Tensor::empty({b}, DType::I32),
           idx = Tensor::empty({b}, DType::I32);
    for (int64_t j = 0; j < b; ++j) {
      loss.data<float>()[j] = static_cast<float>(rng.uniform());
      labels.data<int32_t>()[j] = static_cast<int32_t>(j % 10);
      idx.data<int32_t>()[j] = static_cast<int32_t>(step * b + j);
    }
    const int64_t kept = nchw.select(1, step, loss, x, labels, idx);
    CHECK(nhwc.select(1, step, loss, moved_to(x, Layout::NHWC), labels, idx) == kept);
    CHECK_THROWS_WITH_AS(nhwc.select(1, step, loss, x, labels, idx), doctest::Contains("the queue holds NHWC"), Error);
    if (nchw.queued() >= b) {
      nchw.pop(b);
      nhwc.pop(b);
    }
  }
  const int64_t q = nchw.queued();
  REQUIRE(q > 0);
  REQUIRE(nhwc.queued() == q);
  CHECK(nhwc.images(q).layout() == Layout::NHWC);
  CHECK(same_bytes(nhwc.images(q), moved_to(nchw.images(q), Layout::NHWC)));
  CHECK(same_bytes(nhwc.indices(q), nchw.indices(q)));
  TensorMap from_nchw, from_nhwc;
  nchw.save(from_nchw);
  nhwc.save(from_nhwc);
  CHECK(same_bytes(from_nhwc.at("sb.queue_images"), from_nchw.at("sb.queue_images")));
  SelectiveBackprop nhwc_back(o, b, image, Device::CPU, Layout::NHWC), nchw_back(o, b, image, Device::CPU);
  nhwc_back.load(from_nchw);
  nchw_back.load(from_nhwc);
  CHECK(same_bytes(nhwc_back.images(q), nhwc.images(q)));
  CHECK(same_bytes(nchw_back.images(q), nchw.images(q)));
}

TEST_CASE("a model asks for the layout its stem convolution takes its input in") {
  ResNet18 m({0.125, 10, 3});
  m.finalize(DType::F32, Device::CPU, 1);
  CHECK(m.input_layout(Device::CPU, 3) == Layout::NCHW);  // oneDNN takes any input layout: no reason to move it
  auto& cpu = ConvInputFollowsOutput::cpu();
  const bool channels_last = cpu.activation_layout(DType::F32, 8) != Layout::NCHW;
  {
    ConvInputFollowsOutput follow;
    // The stem's output (8 channels at width 0.125) is NHWC with oneDNN, so its 3-channel input is brought there.
    CHECK(m.input_layout(Device::CPU, 3) == (channels_last ? Layout::NHWC : Layout::NCHW));
    m.set_compute_dtype(DType::BF16);  // the CPU's bf16 activations stay NCHW
    CHECK(m.input_layout(Device::CPU, 3) == Layout::NCHW);
  }
  CHECK(cpu.input_layout(DType::F32, 16, 64) == Layout::NCHW);
}

TEST_CASE("through the trainer: NHWC batches reported, close to the NCHW run, and a bitwise resume") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  if (ConvInputFollowsOutput::cpu().activation_layout(DType::F32, 4) == Layout::NCHW) {
    MESSAGE("this build's CPU convolutions output NCHW: its models never ask for NHWC batches");
    return;
  }
  TrainOptions quiet;
  quiet.quiet = true;
  auto config = [](const std::string& method, const std::string& dir) {
    return json{{"dataset", "fashion-mnist"}, {"method", method}, {"budget", 0.5}, {"epochs", 3},
                {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 256}, {"test_subset", 100},
                {"device", "cpu"}, {"seed", 6}, {"augment", {{"ricap_beta", 0.3}, {"cutout", -1}}},
                {"run_dir", dir}};
  };
  auto params = [](const std::string& dir) {
    return read_tensor_file((fs::path(dir) / "checkpoint.bin").string()).at("params").to_double_vector();
  };
  const std::string plain = "bts_test_layout_plain", a = "bts_test_layout_a", c = "bts_test_layout_c";
  for (const auto& d : {plain, a, c}) fs::remove_all(d);
  const json rp = train(config_from_json(config("unif-sgd", plain)), quiet);
  CHECK(rp["input_layout"] == "NCHW");
  ConvInputFollowsOutput follow;
  const json ru = train(config_from_json(config("unif-sgd", a)), quiet);
  CHECK(ru["input_layout"] == "NHWC");
  // The same training; only the convolutions' operand layouts differ (oneDNN may sum in another order).
  const double lp = rp["history"][0]["train_loss"].get<double>(), lu = ru["history"][0]["train_loss"].get<double>();
  MESSAGE("first epoch's training loss: NCHW batches " << lp << ", NHWC " << lu);
  CHECK(std::abs(lu - lp) <= 1e-3 * std::abs(lp));
  fs::remove_all(a);
  // Selective backprop under RICAP and cutout, stopped with images waiting in its (NHWC) queue and resumed from
  // the checkpoint (which holds them NCHW): identical to the uninterrupted run.
  const json rs = train(config_from_json(config("sb", a)), quiet);
  CHECK(rs["input_layout"] == "NHWC");
  TrainOptions stop = quiet;
  stop.stop_after_steps = 5;
  CHECK(train(config_from_json(config("sb", c)), stop)["status"] == "interrupted");
  const json rc = train(config_from_json(config("sb", c)), TrainOptions{true, true, 0});
  CHECK(rc["budget_spent"] == rs["budget_spent"]);
  CHECK(params(c) == params(a));
  for (const auto& d : {plain, a, c}) fs::remove_all(d);
}

}  // TEST_SUITE
