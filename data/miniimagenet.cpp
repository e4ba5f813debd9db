#include "data/miniimagenet.h"

#include <sys/stat.h>

#include "data/file_io.h"
#include "data/packed_file.h"
#include "kernels/common/check.h"

namespace bts {

DataSplit load_miniimagenet(const std::string& dir) {
  struct stat st {};
  const bool is_file = ::stat(dir.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  const std::string path = is_file ? dir : join_path(dir, kMiniImagenetFile);
  BTS_CHECK(path_exists(path), "mini-ImageNet: '" << path << "' not found; build it from the images and CSVs with "
                                                     "convert_miniimagenet (docs/DATA.md)");
  PackedContents c = read_packed(path);
  const DatasetInfo& info = dataset_info("miniimagenet");
  BTS_CHECK(c.header.classes == info.classes, "'" << path << "': header says " << c.header.classes
                                                  << " classes, expected " << info.classes << " for mini-ImageNet");
  DataSplit out;
  out.train = make_dataset(info, "train", std::move(c.train), info.train_count, path);
  out.test = make_dataset(info, "test", std::move(c.test), info.test_count, path);
  return out;
}

}  // namespace bts
