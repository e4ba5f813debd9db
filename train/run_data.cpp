#include "train/run_data.h"

#include <algorithm>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/cpu/sampling.h"

namespace bts {

void take_subset(Dataset& ds, int64_t k) {
  const int64_t n = ds.size();
  if (k <= 0 || k >= n) return;
  std::vector<int32_t> order(static_cast<size_t>(n));
  kernels::cpu::random_order(/*seed=*/0x5u, /*epoch=*/0, n, order.data());
  const int64_t per = ds.images.numel() / n;
  Tensor images = Tensor::empty({k, ds.images.dim(1), ds.images.dim(2), ds.images.dim(3)}, DType::U8);
  Tensor labels = Tensor::empty({k}, DType::I32);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t src = order[static_cast<size_t>(i)];
    std::copy_n(ds.images.data<uint8_t>() + src * per, per, images.data<uint8_t>() + i * per);
    labels.data<int32_t>()[i] = ds.labels.data<int32_t>()[src];
  }
  ds.images = std::move(images);
  ds.labels = std::move(labels);
}

namespace {
Dataset copy_of(const Dataset& d) {
  Dataset c;
  c.name = d.name;
  c.split = d.split;
  c.images = d.images.clone();
  c.labels = d.labels.clone();
  c.classes = d.classes;
  c.mean = d.mean;
  c.std = d.std;
  c.flip = d.flip;
  return c;
}
}  // namespace

void check_subsets(const TrainConfig& cfg, int64_t train_size, int64_t test_size) {
  BTS_CHECK(cfg.train_subset <= train_size, "train_subset " << cfg.train_subset << " exceeds the " << train_size
                                                            << " training samples of " << cfg.dataset
                                                            << " (0 means all)");
  BTS_CHECK(cfg.test_subset <= test_size, "test_subset " << cfg.test_subset << " exceeds the " << test_size
                                                         << " test samples of " << cfg.dataset << " (0 means all)");
}

RunData load_run_data(const TrainConfig& cfg, Device device, const DataSplit* preloaded) {
  BTS_CHECK(!preloaded || preloaded->train.name == cfg.dataset,
            "preloaded data set is '" << (preloaded ? preloaded->train.name : "") << "', the config asks for '"
                                      << cfg.dataset << "'");
  DataSplit data = preloaded ? DataSplit{copy_of(preloaded->train), copy_of(preloaded->test)}
                             : load_dataset(cfg.dataset, cfg.data_dir);
  check_subsets(cfg, data.train.size(), data.test.size());
  take_subset(data.train, cfg.train_subset);
  take_subset(data.test, cfg.test_subset);
  // On the CPU the device data sets take the host tensors over (no second copy of a large data set).
  return RunData{DeviceDataset(std::move(data.train), device, cfg.pad), DeviceDataset(std::move(data.test), device, 0)};
}

}  // namespace bts
