// Fashion-MNIST end to end from the Debian package's files (dataset-fashion-mnist): counts, balance, the
// normalisation constants measured on the real training images, and batches from them.
#include <cmath>

#include "data/dataset.h"
#include "data/device_dataset.h"
#include "data/fashion_mnist.h"
#include "data/file_io.h"
#include "tests/cpu/test_data_files.h"

using namespace bts;

TEST_SUITE("data_fashion_mnist") {

TEST_CASE("Fashion-MNIST from its default folder: counts, classes, constants, batches") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
    return;
  }
  DataSplit s = load_dataset("fashion-mnist", "");
  REQUIRE(s.train.images.shape() == Shape{60000, 1, 28, 28});
  REQUIRE(s.test.images.shape() == Shape{10000, 1, 28, 28});
  CHECK(s.train.classes == 10);
  // Both splits are balanced: 6,000 and 1,000 images per class.
  std::vector<int> train_count(10, 0), test_count(10, 0);
  for (int64_t i = 0; i < 60000; ++i) ++train_count[static_cast<size_t>(s.train.labels.data<int32_t>()[i])];
  for (int64_t i = 0; i < 10000; ++i) ++test_count[static_cast<size_t>(s.test.labels.data<int32_t>()[i])];
  CHECK(train_count == std::vector<int>(10, 6000));
  CHECK(test_count == std::vector<int>(10, 1000));
  // The first labels of the published files: ankle boot, T-shirt, T-shirt, dress / ankle boot, pullover, trouser.
  CHECK(s.train.labels.to_double_vector()[0] == 9);
  CHECK(s.train.labels.to_double_vector()[1] == 0);
  CHECK(s.train.labels.to_double_vector()[3] == 3);
  CHECK(s.test.labels.to_double_vector()[0] == 9);
  CHECK(s.test.labels.to_double_vector()[1] == 2);
  CHECK(s.test.labels.to_double_vector()[2] == 1);

  // The constants (mean 0.2860, std 0.3530) are the training pixels' statistics in [0, 1] units.
  double sum = 0, sum2 = 0;
  const uint8_t* p = s.train.images.data<uint8_t>();
  const int64_t n = s.train.images.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double v = p[i] / 255.0;
    sum += v;
    sum2 += v * v;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  MESSAGE("Fashion-MNIST train pixels: mean " << mean << ", std " << sd);
  CHECK(std::abs(mean - s.train.mean[0]) < 1e-4);  // the constants carry 4 decimals
  CHECK(std::abs(sd - s.train.std[0]) < 1e-4);

  // Batches: a test batch is the images normalised; a training batch is a crop/flip of them.
  DeviceDataset train(s.train, Device::CPU), test(s.test, Device::CPU);
  Batch t = test.batch(index_range(0, 128, Device::CPU), {0, 0, false});
  CHECK(t.labels.to_double_vector()[0] == 9);
  double lo = 1e9, hi = -1e9;
  for (int64_t i = 0; i < t.images.numel(); ++i) {
    lo = std::min<double>(lo, t.images.data<float>()[i]);
    hi = std::max<double>(hi, t.images.data<float>()[i]);
  }
  CHECK(lo == doctest::Approx((0 - 0.2860) / 0.3530).epsilon(1e-5));
  CHECK(hi == doctest::Approx((1 - 0.2860) / 0.3530).epsilon(1e-5));
  Batch a = train.batch(index_range(0, 128, Device::CPU), {1, 0, true});
  Batch plain = train.batch(index_range(0, 128, Device::CPU), {1, 0, false});
  CHECK(a.labels.to_double_vector() == plain.labels.to_double_vector());
  int64_t differ = 0;
  for (int64_t i = 0; i < a.images.numel(); ++i) differ += a.images.data<float>()[i] != plain.images.data<float>()[i];
  CHECK(differ > a.images.numel() / 4);  // most of the 128 images moved or flipped
}

}  // TEST_SUITE
