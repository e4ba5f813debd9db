#include "data/fashion_mnist.h"

#include <cstdlib>

#include "data/file_io.h"
#include "data/idx.h"
#include "kernels/common/check.h"

namespace bts {

std::string fashion_mnist_default_dir() {
  const char* env = std::getenv("BTS_FASHION_MNIST_DIR");
  return env && *env ? std::string(env) : std::string(kFashionMnistDefaultDir);
}

bool have_fashion_mnist(const std::string& dir_in) {
  const std::string plain = join_path(dir_in.empty() ? fashion_mnist_default_dir() : dir_in, "train-images-idx3-ubyte");
  return path_exists(plain) || path_exists(plain + ".gz");
}

std::string find_idx_file(const std::string& dir, const std::string& base) {
  const std::string plain = join_path(dir, base), gz = plain + ".gz";
  if (path_exists(plain)) return plain;
  if (path_exists(gz)) return gz;
  BTS_FAIL("Fashion-MNIST: neither '" << plain << "' nor '" << gz << "' exists"
                                      << (dir == kFashionMnistDefaultDir
                                              ? " (install the Debian package dataset-fashion-mnist)"
                                              : " (the data_dir given, or $BTS_FASHION_MNIST_DIR)"));
}

DataSplit load_fashion_mnist(const std::string& dir_in) {
  const std::string dir = dir_in.empty() ? fashion_mnist_default_dir() : dir_in;
  const DatasetInfo& info = dataset_info("fashion-mnist");
  auto split = [&](const std::string& prefix, const std::string& name, int64_t count) {
    const std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
    const std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
    return make_dataset(info, name, read_idx_pair(images, labels, info.classes), count, images);
  };
  DataSplit out;
  out.train = split("train", "train", info.train_count);
  out.test = split("t10k", "test", info.test_count);
  return out;
}

}  // namespace bts
