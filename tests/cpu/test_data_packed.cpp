// The packed image file (mini-ImageNet's format): round trip through the writer, and every malformed variant
// (bad magic, version, header size, truncated, trailing bytes, label out of range, wrong shape, missing file).
#include <cstring>
#include <filesystem>

#include "data/dataset.h"
#include "data/file_io.h"
#include "data/miniimagenet.h"
#include "data/packed_file.h"
#include "tests/cpu/test_data_files.h"

using namespace bts;
using namespace bts::test;

namespace {

ImageSet make_set(int64_t n, int c, int h, int w, int64_t first, int classes) {
  ImageSet s{Tensor::empty({n, c, h, w}, DType::U8), Tensor::empty({n}, DType::I32)};
  uint8_t* p = s.images.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) *p++ = pattern_pixel(first + i, ch, y, x);
    s.labels.data<int32_t>()[i] = static_cast<int32_t>((first + i) % classes);
  }
  return s;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

}  // namespace

TEST_SUITE("data_packed") {

TEST_CASE("packed file: header layout and a bit-exact round trip of both splits") {
  TempDir dir;
  ImageSet train = make_set(5, 3, 6, 7, 0, 4), test = make_set(2, 3, 6, 7, 5, 4);
  write_packed(dir.file("p.bin"), "tiny", 4, train, test);
  const Bytes b = read_bytes(dir.file("p.bin"));
  REQUIRE(b.size() == 64 + 7 * (3 * 6 * 7 + 4));
  CHECK(std::memcmp(b.data(), "BTSIMGS\0", 8) == 0);
  CHECK(load_le32(b.data() + 8) == 1);    // version
  CHECK(load_le32(b.data() + 12) == 64);  // header bytes
  CHECK(load_le64(b.data() + 16) == 5);
  CHECK(load_le64(b.data() + 24) == 2);
  CHECK(load_le32(b.data() + 32) == 3);
  CHECK(load_le32(b.data() + 36) == 6);
  CHECK(load_le32(b.data() + 40) == 7);
  CHECK(load_le32(b.data() + 44) == 4);
  CHECK(std::string(reinterpret_cast<const char*>(b.data() + 48)) == "tiny");
  CHECK(b[64] == pattern_pixel(0, 0, 0, 0));                             // first train pixel
  CHECK(load_le32(b.data() + 64 + 5 * 126 + 4 * 3) == 3);               // fourth train label
  CHECK(load_le32(b.data() + 64 + 5 * 130 + 2 * 126 + 4) == 6 % 4);     // second test label

  PackedContents c = read_packed(dir.file("p.bin"));
  CHECK(c.header.name == "tiny");
  CHECK(c.header.classes == 4);
  CHECK(same(c.train.images, train.images));
  CHECK(same(c.train.labels, train.labels));
  CHECK(same(c.test.images, test.images));
  CHECK(same(c.test.labels, test.labels));
  CHECK_FALSE(path_exists(dir.file("p.bin.tmp")));
}

TEST_CASE("malformed packed files are rejected naming the file, the expectation and the finding") {
  TempDir dir;
  write_packed(dir.file("p.bin"), "tiny", 4, make_set(3, 1, 4, 4, 0, 4), make_set(1, 1, 4, 4, 3, 4));
  const Bytes good = read_bytes(dir.file("p.bin"));
  auto parse = [](const Bytes& b) { return [b] { parse_packed(b.data(), b.size(), "p.bin"); }; };
  Bytes magic = good;
  magic[0] = 'X';
  check_error(parse(magic), {"'p.bin'", "bad magic", "BTSIMGS"});
  Bytes version = good;
  store_le32(version.data() + 8, 2);
  check_error(parse(version), {"version 2", "expected 1"});
  Bytes header = good;
  store_le32(header.data() + 12, 80);
  check_error(parse(header), {"header size 80", "expected 64"});
  check_error(parse(Bytes(good.begin(), good.begin() + 40)), {"40 bytes", "too short", "64-byte"});
  check_error(parse(Bytes(good.begin(), good.end() - 1)),
              {"'p.bin'", "expected 144 bytes for 3 + 1 samples of 1x4x4", "found 143", "truncated"});
  Bytes longer = good;
  longer.push_back(0);
  check_error(parse(longer), {"found 145", "trailing bytes"});
  Bytes label = good;
  store_le32(label.data() + 64 + 3 * 16 + 4, 4);  // train label of sample 1
  check_error(parse(label), {"'p.bin'", "train label 4 of sample 1", "outside 0..3"});
  Bytes negative = good;
  store_le32(negative.data() + 144 - 4, 0xffffffffu);  // the test label
  check_error(parse(negative), {"test label -1 of sample 0"});
  Bytes shape = good;
  store_le32(shape.data() + 32, 0);
  check_error(parse(shape), {"image shape 0x4x4"});
  Bytes classes = good;
  store_le32(classes.data() + 44, 0);
  check_error(parse(classes), {"0 classes"});
  Bytes huge = good;
  store_le64(huge.data() + 16, uint64_t(1) << 62);
  check_error(parse(huge), {"implausible sample counts"});
  check_error([&] { read_packed(dir.file("none.bin")); }, {"cannot open", dir.file("none.bin")});
}

TEST_CASE("load_miniimagenet checks the packed file against mini-ImageNet's shape and classes") {
  TempDir dir;
  check_error([&] { load_dataset("miniimagenet", dir.path()); },
              {dir.file("miniimagenet.bin"), "not found", "convert_miniimagenet"});
  write_packed(dir.file("miniimagenet.bin"), "miniimagenet", 100, make_set(2, 3, 32, 32, 0, 100),
               make_set(1, 3, 32, 32, 2, 100));
  check_error([&] { load_dataset("miniimagenet", dir.path()); },
              {dir.file("miniimagenet.bin"), "expected images of shape 3x84x84, found 3x32x32"});
  write_packed(dir.file("c.bin"), "miniimagenet", 10, make_set(2, 3, 84, 84, 0, 10), make_set(1, 3, 84, 84, 2, 10));
  check_error([&] { load_dataset("miniimagenet", dir.file("c.bin")); },  // the file itself may be given
              {dir.file("c.bin"), "header says 10 classes, expected 100"});
  write_packed(dir.file("n.bin"), "miniimagenet", 100, make_set(2, 3, 84, 84, 0, 100),
               make_set(1, 3, 84, 84, 2, 100));
  check_error([&] { load_dataset("miniimagenet", dir.file("n.bin")); }, {"expected 50,000 images, found 2"});
}

TEST_CASE("a packed writer that does not finish leaves nothing behind") {
  TempDir dir;
  PackedHeader h;
  h.name = "x";
  h.train_count = 2;
  h.test_count = 1;
  h.channels = 1;
  h.height = h.width = 2;
  h.classes = 2;
  {
    PackedWriter w(dir.file("out.bin"), h);
    const uint8_t px[4] = {1, 2, 3, 4};
    w.write_images(px, 1);
    CHECK(path_exists(dir.file("out.bin.tmp")));
  }  // destroyed mid-way (as when an image fails to decode)
  CHECK_FALSE(path_exists(dir.file("out.bin.tmp")));
  CHECK_FALSE(path_exists(dir.file("out.bin")));
  PackedWriter w(dir.file("out.bin"), h);
  check_error([&] { w.finish(); }, {"wrote 64 bytes", "the header promises 88"});
  CHECK_FALSE(path_exists(dir.file("out.bin")));
}

}  // TEST_SUITE
