// libFuzzer target: the mini-ImageNet converter's inputs. The first byte picks what the rest is: even, a split
// CSV ("filename,label" rows); odd, an image file the CSV names, converted end to end (decode, resize, pack). Any
// input must be converted or refused with bts::Error. Built and run by tools/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/miniimagenet_convert.h"
#include "kernels/common/check.h"

namespace {
void write(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = "/tmp/bts_fuzz_convert_" + std::to_string(::getpid());
  static bool made = [] {
    std::filesystem::create_directories(dir);
    const std::string header = "filename,label\n";
    std::ofstream(dir + "/val.csv") << header;
    std::ofstream(dir + "/test.csv") << header << "b.ppm,n02\n";
    std::ofstream(dir + "/b.ppm", std::ios::binary) << "P6\n2 2\n255\n" << std::string(12, '\x40');
    return true;
  }();
  (void)made;
  if (size == 0) return 0;
  try {
    if (data[0] % 2 == 0) {
      write(dir + "/split.csv", data + 1, size - 1);
      (void)bts::read_split_csv(dir + "/split.csv");
    } else {
      write(dir + "/a.img", data + 1, size - 1);
      std::ofstream(dir + "/train.csv", std::ios::trunc) << "filename,label\na.img,n01\n";
      bts::MiniImagenetConvertOptions o;
      o.csv_dir = dir;
      o.image_dir = dir;
      o.out_path = dir + "/out.bin";
      o.train_count = 1;
      o.size = 8;
      (void)bts::convert_miniimagenet(o);
    }
  } catch (const bts::Error&) {
  }
  return 0;
}
