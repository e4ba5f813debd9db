#include "data/dataset.h"

#include <sstream>

#include "data/cifar.h"
#include "data/fashion_mnist.h"
#include "data/file_io.h"
#include "data/miniimagenet.h"
#include "data/svhn.h"

namespace bts {

namespace {

// METHODS.md, "Data sets" and "Standard augmentation". Fashion-MNIST is not in the paper: its constants are the
// statistics of its 60,000 training images (checked by the data_fashion_mnist test on the installed files).
const std::vector<DatasetInfo>& info_table() {
  static const std::vector<DatasetInfo> table = {
      {"cifar10", 10, 3, 32, 32, 50000, 10000, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, true},
      {"cifar100", 100, 3, 32, 32, 50000, 10000, {0.5071f, 0.4867f, 0.4408f}, {0.2675f, 0.2565f, 0.2761f}, true},
      {"svhn", 10, 3, 32, 32, 73257, 26032, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}, false},
      {"miniimagenet", 100, 3, 84, 84, 50000, 10000, {0.4728f, 0.4487f, 0.4031f}, {0.2744f, 0.2663f, 0.2806f}, true},
      {"fashion-mnist", 10, 1, 28, 28, 60000, 10000, {0.2860f}, {0.3530f}, true},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const DatasetInfo& i : info_table()) n.push_back(i.name);
    return n;
  }();
  return names;
}

const DatasetInfo& dataset_info(const std::string& name) {
  for (const DatasetInfo& i : info_table())
    if (i.name == name) return i;
  std::ostringstream valid;
  for (const std::string& n : dataset_names()) valid << (valid.tellp() > 0 ? ", " : "") << n;
  BTS_FAIL("unknown data set '" << name << "': expected one of " << valid.str());
}

Dataset make_dataset(const DatasetInfo& info, const std::string& split, ImageSet&& set, int64_t expected_count,
                     const std::string& source) {
  BTS_CHECK(set.images.defined() && set.labels.defined() && set.images.dtype() == DType::U8 &&
                set.labels.dtype() == DType::I32 && set.images.ndim() == 4 && set.labels.ndim() == 1 &&
                set.images.device() == Device::CPU && set.labels.device() == Device::CPU,
            info.name << " " << split << " (" << source << "): expected host u8 images [N, C, H, W] and i32 labels [N]");
  const Shape& s = set.images.shape();
  BTS_CHECK(s[1] == info.channels && s[2] == info.height && s[3] == info.width,
            info.name << " " << split << " (" << source << "): expected images of shape " << info.channels << "x"
                      << info.height << "x" << info.width << ", found " << s[1] << "x" << s[2] << "x" << s[3]);
  BTS_CHECK(s[0] == set.labels.numel(), info.name << " " << split << " (" << source << "): " << s[0]
                                                  << " images but " << set.labels.numel() << " labels");
  BTS_CHECK(expected_count < 0 || s[0] == expected_count,
            info.name << " " << split << " (" << source << "): expected " << with_commas(expected_count)
                      << " images, found " << with_commas(s[0]));
  const int32_t* y = set.labels.data<int32_t>();
  for (int64_t i = 0; i < set.labels.numel(); ++i)
    BTS_CHECK(y[i] >= 0 && y[i] < info.classes, info.name << " " << split << " (" << source << "): label " << y[i]
                                                         << " of sample " << i << " is outside 0.." << info.classes - 1);
  Dataset d;
  d.name = info.name;
  d.split = split;
  d.images = std::move(set.images);
  d.labels = std::move(set.labels);
  d.classes = info.classes;
  d.mean = info.mean;
  d.std = info.std;
  d.flip = info.flip;
  return d;
}

DataSplit load_dataset(const std::string& name, const std::string& dir) {
  const DatasetInfo& info = dataset_info(name);  // rejects unknown names first
  if (name == "cifar10") return load_cifar10(dir);
  if (name == "cifar100") return load_cifar100(dir);
  if (name == "svhn") return load_svhn(dir);
  if (name == "miniimagenet") return load_miniimagenet(dir);
  if (name == "fashion-mnist") return load_fashion_mnist(dir);
  BTS_FAIL("data set '" << info.name << "' has constants but no loader");
}

}  // namespace bts
