// convert_miniimagenet: mini-ImageNet images + train/val/test CSVs -> one packed file that
// `load_dataset("miniimagenet", ...)` maps (format: data/packed_file.h; procedure: docs/DATA.md).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <string>

#include "data/dataset.h"
#include "data/file_io.h"
#include "data/miniimagenet.h"
#include "data/miniimagenet_convert.h"
#include "engine/file_write.h"

namespace {
// The packed writer's temporary file (<out>.tmp), removed when a signal ends the conversion: an error already
// removes it (PackedWriter's destructor), Ctrl-C or a kill must too. (kill -9 cannot be caught: what it leaves, the
// next conversion overwrites.)
char g_tmp_path[4096];
extern "C" void remove_tmp_and_exit(int sig) {
  ::unlink(g_tmp_path);
  ::_exit(128 + sig);
}
}  // namespace

int main(int argc, char** argv) {
  bts::fail_exit_on_lost_stdout();
  CLI::App app{"Pool mini-ImageNet's 60,000 images, permute them with a fixed seed and split 50,000/10,000 "
               "(as the paper does) into one packed file"};
  bts::MiniImagenetConvertOptions opt;
  std::string root;
  app.add_option("--root", root, "folder holding train.csv, val.csv, test.csv and images/")->required();
  app.add_option("--images", opt.image_dir, "folder holding the images (default: <root>/images)");
  app.add_option("--out", opt.out_path, std::string("packed file to write (default: <root>/") +
                                            bts::kMiniImagenetFile + ")");
  app.add_option("--seed", opt.seed, "seed of the pooling permutation")
      ->capture_default_str()
      ->check([](const std::string& v) {  // CLI11 reads "-1" and 1e20's digits through strtoull, wrapping them
        const bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        if (digits) std::strtoull(v.c_str(), nullptr, 10);
        return digits && errno != ERANGE ? std::string()
                                         : "expected an integer in 0..18446744073709551615, got '" + v + "'";
      });
  CLI11_PARSE(app, argc, argv);

  opt.csv_dir = root;
  if (opt.image_dir.empty()) opt.image_dir = bts::join_path(root, "images");
  if (opt.out_path.empty()) opt.out_path = bts::join_path(root, bts::kMiniImagenetFile);
  const bts::DatasetInfo& info = bts::dataset_info("miniimagenet");
  opt.train_count = info.train_count;
  opt.test_count = info.test_count;
  opt.size = info.height;
  std::snprintf(g_tmp_path, sizeof g_tmp_path, "%s.tmp", opt.out_path.c_str());
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_tmp_and_exit);
  bool mid_line = false;  // a progress line without its newline is on the terminal
  opt.progress = [&mid_line](int64_t done, int64_t total) {
    std::printf("\rdecoded %lld / %lld images", static_cast<long long>(done), static_cast<long long>(total));
    mid_line = done != total;
    if (!mid_line) std::printf("\n");
    std::fflush(stdout);
  };
  try {
    const bts::MiniImagenetConvertReport r = bts::convert_miniimagenet(opt);
    std::printf("wrote %s: %lld train + %lld test images of 3x%dx%d, %lld classes (%lld resized)\n",
                opt.out_path.c_str(), static_cast<long long>(r.train), static_cast<long long>(r.test), opt.size,
                opt.size, static_cast<long long>(r.classes), static_cast<long long>(r.resized));
    if (r.images != info.train_count + info.test_count || r.classes != info.classes)
      std::printf("warning: mini-ImageNet has %lld images in %d classes; `bts` will refuse this file\n",
                  static_cast<long long>(info.train_count + info.test_count), info.classes);
  } catch (const std::exception& e) {
    if (mid_line) std::printf("\n");
    std::fprintf(stderr, "convert_miniimagenet: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
