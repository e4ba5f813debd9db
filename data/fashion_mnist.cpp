#include "data/fashion_mnist.h"

#include "data/file_io.h"
#include "data/idx.h"
#include "kernels/common/check.h"

namespace bts {

std::string find_idx_file(const std::string& dir, const std::string& base) {
  const std::string plain = join_path(dir, base), gz = plain + ".gz";
  if (path_exists(plain)) return plain;
  if (path_exists(gz)) return gz;
  BTS_FAIL("Fashion-MNIST: neither '" << plain << "' nor '" << gz << "' exists"
                                      << (dir == kFashionMnistDefaultDir
                                              ? " (install the Debian package dataset-fashion-mnist)"
                                              : ""));
}

DataSplit load_fashion_mnist(const std::string& dir_in) {
  const std::string dir = dir_in.empty() ? kFashionMnistDefaultDir : dir_in;
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
