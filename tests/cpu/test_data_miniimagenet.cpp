// The mini-ImageNet converter on a tiny tree in the real layout (train/val/test CSVs + image files): pooling,
// the fixed-seed permutation and split, class numbering, resizing, and its errors.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "data/file_io.h"
#include "data/miniimagenet_convert.h"
#include "data/packed_file.h"
#include "tests/cpu/test_data_files.h"

using namespace bts;
using namespace bts::test;

// The converter decodes with stb; a build without it (BTS_REQUIRE_DATA_LIBS=OFF) has no converter to test.
#ifdef BTS_WITH_STB
namespace {

// Binary PPM (P6), which stb_image decodes like the JPEGs of the real data set.
void write_ppm(const std::string& path, int w, int h, const std::function<uint8_t(int y, int x, int c)>& px) {
  std::string header = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  Bytes b(header.begin(), header.end());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) b.push_back(px(y, x, c));
  write_bytes(path, b);
}

struct Tree {
  TempDir dir;
  std::vector<std::string> files;   // pooled order: train.csv, val.csv, test.csv rows
  std::vector<std::string> labels;  // WordNet-like ids
  int odd = 5;                      // the one image stored at 100x90, a flat colour
  Tree() {
    std::filesystem::create_directories(dir.file("images"));
    const char* wnids[] = {"n03000000", "n01000000", "n02000000"};  // sorted: n01 -> 0, n02 -> 1, n03 -> 2
    for (int i = 0; i < 12; ++i) {
      files.push_back("n" + std::to_string(i) + ".ppm");
      labels.push_back(wnids[i % 3]);
      if (i == odd)
        write_ppm(dir.file("images/" + files.back()), 100, 90, [](int, int, int c) { return uint8_t(10 + 90 * c); });
      else
        write_ppm(dir.file("images/" + files.back()), 84, 84,
                  [i](int y, int x, int c) { return pattern_pixel(i, c, y, x); });
    }
    auto csv = [&](const std::string& name, int begin, int end) {
      std::string text = "filename,label\r\n";  // CRLF, as some copies of the CSVs have
      for (int i = begin; i < end; ++i) text += files[i] + "," + labels[i] + "\r\n";
      write_text(dir.file(name), text);
    };
    csv("train.csv", 0, 6);
    csv("val.csv", 6, 9);
    csv("test.csv", 9, 12);
  }
  MiniImagenetConvertOptions options(const std::string& out, uint64_t seed = 0) const {
    MiniImagenetConvertOptions o;
    o.csv_dir = dir.path();
    o.image_dir = dir.file("images");
    o.out_path = dir.file(out);
    o.seed = seed;
    o.train_count = 8;
    return o;
  }
};

}  // namespace
#endif

TEST_SUITE("data_miniimagenet") {

TEST_CASE("the pooling permutation is a fixed-seed permutation") {
  const std::vector<int64_t> p = miniimagenet_permutation(60000, 0);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 60000; ++i) REQUIRE(sorted[static_cast<size_t>(i)] == i);
  CHECK(p == miniimagenet_permutation(60000, 0));
  CHECK(p != miniimagenet_permutation(60000, 1));
  int64_t fixed = 0;
  for (int64_t i = 0; i < 60000; ++i) fixed += p[static_cast<size_t>(i)] == i;
  CHECK(fixed < 10);  // a shuffle, not the identity (expected about 1 fixed point)
}

#ifdef BTS_WITH_STB
TEST_CASE("convert: all CSVs pooled, permuted, split train/test; images and labels follow their files") {
  Tree t;
  int64_t last_progress = 0;
  MiniImagenetConvertOptions o = t.options("mini.bin");
  o.progress = [&](int64_t done, int64_t total) {
    CHECK(total == 12);
    last_progress = done;
  };
  const MiniImagenetConvertReport r = convert_miniimagenet(o);
  CHECK(last_progress == 12);
  CHECK(r.images == 12);
  CHECK(r.classes == 3);
  CHECK(r.resized == 1);
  CHECK(r.train == 8);
  CHECK(r.test == 4);
  PackedContents c = read_packed(t.dir.file("mini.bin"));
  CHECK(c.header.name == "miniimagenet");
  CHECK(c.header.classes == 3);
  REQUIRE(c.train.images.shape() == Shape{8, 3, 84, 84});
  REQUIRE(c.test.images.shape() == Shape{4, 3, 84, 84});
  const std::vector<int64_t> perm = miniimagenet_permutation(12, 0);
  const std::map<std::string, int> cls{{"n01000000", 0}, {"n02000000", 1}, {"n03000000", 2}};
  for (int64_t k = 0; k < 12; ++k) {
    const ImageSet& s = k < 8 ? c.train : c.test;
    const int64_t j = k < 8 ? k : k - 8;
    const int src = static_cast<int>(perm[static_cast<size_t>(k)]);
    CAPTURE(k);
    CHECK(s.labels.data<int32_t>()[j] == cls.at(t.labels[static_cast<size_t>(src)]));
    const uint8_t* img = s.images.data<uint8_t>() + j * 3 * 84 * 84;
    int64_t bad = 0;
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < 84; ++y)
        for (int x = 0; x < 84; ++x) {
          const int got = img[(ch * 84 + y) * 84 + x];
          // The 100x90 flat image, resized, stays flat (within rounding); the others are copied exactly (CHW).
          bad += src == t.odd ? std::abs(got - (10 + 90 * ch)) > 1 : got != pattern_pixel(src, ch, y, x);
        }
    CHECK_MESSAGE(bad == 0, bad << " pixels differ in packed sample " << k << " (source image " << src << ")");
  }
}

TEST_CASE("convert is reproducible: the same seed writes the same bytes, another seed another order") {
  Tree t;
  convert_miniimagenet(t.options("a.bin", 7));
  convert_miniimagenet(t.options("b.bin", 7));
  convert_miniimagenet(t.options("c.bin", 8));
  const Bytes a = read_bytes(t.dir.file("a.bin"));
  CHECK(a == read_bytes(t.dir.file("b.bin")));
  CHECK(a != read_bytes(t.dir.file("c.bin")));
  CHECK(a.size() == read_bytes(t.dir.file("c.bin")).size());
}

TEST_CASE("convert errors name the CSV line or the image, and leave no output behind") {
  Tree t;
  const std::string out = t.dir.file("out.bin");
  auto run = [&] { return [&] { convert_miniimagenet(t.options("out.bin")); }; };
  auto nothing_written = [&] {
    CHECK_FALSE(path_exists(out));
    CHECK_FALSE(path_exists(out + ".tmp"));
  };

  std::filesystem::remove(t.dir.file("images/n7.ppm"));
  check_error(run(), {"cannot decode image", t.dir.file("images/n7.ppm")});
  nothing_written();
  write_text(t.dir.file("images/n7.ppm"), "this is not an image");
  check_error(run(), {"cannot decode image", t.dir.file("images/n7.ppm")});
  nothing_written();
  write_ppm(t.dir.file("images/n7.ppm"), 84, 84, [](int, int, int) { return uint8_t(1); });

  write_text(t.dir.file("val.csv"), "file,class\nn6.ppm,n01000000\n");
  check_error(run(), {t.dir.file("val.csv"), "line 1", "expected the header 'filename,label'", "'file,class'"});
  write_text(t.dir.file("val.csv"), "filename,label\nn6.ppm,n01000000\nn7.ppm\n");
  check_error(run(), {t.dir.file("val.csv"), "line 3", "expected 'filename,label'", "found 'n7.ppm'"});
  write_text(t.dir.file("val.csv"), "filename,label\nn6.ppm,n01000000\nn0.ppm,n03000000\n");
  check_error(run(), {t.dir.file("val.csv"), "line 3", "'n0.ppm' is already listed", t.dir.file("train.csv")});
  std::filesystem::remove(t.dir.file("val.csv"));
  check_error(run(), {"cannot open", t.dir.file("val.csv")});
  nothing_written();

  write_text(t.dir.file("val.csv"), "filename,label\n");
  MiniImagenetConvertOptions o = t.options("out.bin");
  o.train_count = 9;
  check_error([&] { convert_miniimagenet(o); }, {"list 9 images", "cannot split off 9"});
  nothing_written();
  // A count other than the expected one is refused before any image is read (or memory asked for all of them).
  o.train_count = 8;
  o.test_count = 4;
  std::filesystem::remove(t.dir.file("images/n0.ppm"));
  check_error([&] { convert_miniimagenet(o); }, {"list 9 images", "expected 12 (8 for training + 4 for testing)"});
  nothing_written();
}
#endif

}  // TEST_SUITE
