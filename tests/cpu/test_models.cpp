// ResNet-18 exactly as METHODS.md: parameter counts, PyTorch names, shapes at 28/32/84 pixels, initialisation.
#include <cmath>

#include "engine/ops.h"
#include "models/resnet18.h"
#include "models/tiny_net.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("models") {

TEST_CASE("ResNet-18 width 1 has the paper's parameter counts") {
  CHECK(ResNet18({1.0, 10, 3}).num_parameters() == 11173962);
  CHECK(ResNet18({1.0, 100, 3}).num_parameters() == 11220132);
}

TEST_CASE("ResNet-18 forward cost matches METHODS.md: 555.4 M MACs at 32x32, 3.917 G at 84x84") {
  ResNet18 m({1.0, 10, 3});
  CHECK(m.forward_macs(32, 32) == doctest::Approx(555.4e6).epsilon(0.0005));
  CHECK(m.forward_macs(84, 84) == doctest::Approx(3.917e9).epsilon(0.0005));
}

TEST_CASE("ResNet-18 names its tensors as the paper's PyTorch code does") {
  ResNet18 m({0.125, 10, 3});
  CHECK(m.params().find("conv1.weight") != nullptr);
  CHECK(m.params().find("layer1.0.conv1.weight") != nullptr);
  CHECK(m.params().find("layer1.0.shortcut.0.weight") == nullptr);  // identity shortcut in stage 1
  CHECK(m.params().find("layer2.0.shortcut.0.weight") != nullptr);
  CHECK(m.params().find("layer4.1.bn2.bias") != nullptr);
  CHECK(m.buffers().find("layer3.0.shortcut.1.running_var") != nullptr);
  CHECK(m.params().at("linear.weight").shape == Shape{10, 64});
  CHECK(m.params().items().size() == 62);  // 20 convs + 20 BNs x2 + linear x2
  CHECK(m.buffers().items().size() == 40);
}

TEST_CASE("ResNet-18 forward works at 28x28x1, 32x32x3 and 84x84x3 (global pool)") {
  struct Case { int64_t C, HW, classes; };
  for (Case c : {Case{1, 28, 10}, Case{3, 32, 100}, Case{3, 84, 100}}) {
    ResNet18 m({0.0625, c.classes, c.C});
    m.finalize(DType::F32, Device::CPU, 1);
    Rng rng(3);
    Tensor x = bts::test::random_tensor({2, c.C, c.HW, c.HW}, DType::F32, rng);
    Tape t(Device::CPU);
    Var y = m.forward(t, t.input(x));
    CHECK(y.shape() == Shape{2, c.classes});
    for (double v : y.value().to_double_vector()) CHECK(std::isfinite(v));
  }
}

TEST_CASE("eval mode uses running statistics and leaves them unchanged") {
  TinyNet m({4, 3, 1});
  m.finalize(DType::F64, Device::CPU, 5);
  Rng rng(4);
  Tensor x = bts::test::random_tensor({3, 1, 6, 6}, DType::F64, rng);
  const std::vector<double> before = m.buffers().flat_data().to_double_vector();
  m.set_training(false);
  Tape t(Device::CPU);
  std::vector<double> y1, y2;
  {
    NoGradGuard ng(t);
    y1 = m.forward(t, t.input(x)).value().to_double_vector();
    y2 = m.forward(t, t.input(x)).value().to_double_vector();
  }
  CHECK(y1 == y2);
  CHECK(m.buffers().flat_data().to_double_vector() == before);
  m.set_training(true);
  m.forward(t, t.input(x));
  CHECK(m.buffers().flat_data().to_double_vector() != before);  // training updates running statistics
}

TEST_CASE("initialisation: Kaiming normal (fan_out) convs, PyTorch-default linear, BN ones/zeros; seeded") {
  ResNet18 m({0.5, 10, 3});
  m.finalize(DType::F32, Device::CPU, 42);
  const Parameter& w = m.params().at("layer3.0.conv2.weight");  // [128, 128, 3, 3]: fan_out = 1152
  std::vector<double> v = w.data.to_double_vector();
  double mean = 0, sq = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  const double std = std::sqrt(sq / static_cast<double>(v.size()));
  CHECK(std::abs(mean) < 0.002);
  CHECK(std == doctest::Approx(std::sqrt(2.0 / 1152.0)).epsilon(0.02));
  const double bound = 1.0 / std::sqrt(256.0);
  double mx = 0;
  for (double x : m.params().at("linear.weight").data.to_double_vector()) mx = std::max(mx, std::abs(x));
  CHECK(mx <= bound);
  CHECK(mx > 0.95 * bound);
  for (double x : m.params().at("bn1.weight").data.to_double_vector()) CHECK(x == 1.0);
  for (double x : m.buffers().at("bn1.running_var").data.to_double_vector()) CHECK(x == 1.0);
  ResNet18 m2({0.5, 10, 3});
  m2.finalize(DType::F32, Device::CPU, 42);
  CHECK(m2.params().flat_data().to_double_vector() == m.params().flat_data().to_double_vector());
  ResNet18 m3({0.5, 10, 3});
  m3.finalize(DType::F32, Device::CPU, 43);
  CHECK(m3.params().flat_data().to_double_vector() != m.params().flat_data().to_double_vector());
}

TEST_CASE("bad model configurations are rejected with a message") {
  CHECK_THROWS_AS(ResNet18({0.0, 10, 3}), Error);
  CHECK_THROWS_AS(ResNet18({1.0, 1, 3}), Error);
  ResNet18 m({0.0625, 10, 3});
  m.finalize(DType::F32, Device::CPU, 1);
  Tape t(Device::CPU);
  Tensor wrong_channels = Tensor::zeros({2, 1, 8, 8}, DType::F32);
  CHECK_THROWS_WITH_AS(m.forward(t, t.input(wrong_channels)), doctest::Contains("conv2d"), Error);
}

}  // TEST_SUITE
