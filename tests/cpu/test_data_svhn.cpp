// SVHN .mat reader on small files written with libmatio in the real layout (X: 32x32x3xN uint8, column-major;
// y: N x 1 labels 1..10), compressed or not, v5 or v7.3; and every malformed variant.
#include <cstring>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/svhn.h"
#include "tests/cpu/test_data_files.h"

#ifdef BTS_WITH_MATIO
#include <matio.h>
#endif

using namespace bts;
using namespace bts::test;

#ifdef BTS_WITH_MATIO
namespace {

struct MatVar {
  std::string name;
  matio_classes cls;
  matio_types type;
  std::vector<size_t> dims;
  std::vector<uint8_t> bytes;  // element data, column-major
};

template <typename T>
MatVar numeric(const std::string& name, matio_classes cls, matio_types type, std::vector<size_t> dims,
               const std::vector<T>& v) {
  MatVar m{name, cls, type, std::move(dims), {}};
  m.bytes.resize(v.size() * sizeof(T));
  std::memcpy(m.bytes.data(), v.data(), m.bytes.size());
  return m;
}

// Returns false when this matio cannot create files of that version (v7.3 needs HDF5 support).
bool write_mat(const std::string& path, const std::vector<MatVar>& vars, mat_ft version = MAT_FT_MAT5,
               matio_compression compression = MAT_COMPRESSION_NONE) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, version);
  if (!mat) return false;
  for (const MatVar& v : vars) {
    std::vector<size_t> dims = v.dims;
    matvar_t* var = Mat_VarCreate(v.name.c_str(), v.cls, v.type, static_cast<int>(dims.size()), dims.data(),
                                  const_cast<uint8_t*>(v.bytes.data()), 0);
    REQUIRE(var != nullptr);
    REQUIRE(Mat_VarWrite(mat, var, compression) == 0);
    Mat_VarFree(var);
  }
  Mat_Close(mat);
  return true;
}

// X in MATLAB order: X(r, c, ch, i) at r + 32 (c + 32 (ch + 3 i)), holding pattern_pixel(i, ch, r, c).
MatVar svhn_x(size_t n, size_t channels = 3) {
  std::vector<uint8_t> x(32 * 32 * channels * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t ch = 0; ch < channels; ++ch)
      for (size_t c = 0; c < 32; ++c)
        for (size_t r = 0; r < 32; ++r)
          x[r + 32 * (c + 32 * (ch + channels * i))] =
              pattern_pixel(static_cast<int64_t>(i), static_cast<int>(ch), static_cast<int>(r), static_cast<int>(c));
  return numeric("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, channels, n}, x);
}

MatVar svhn_y(const std::vector<double>& labels) {
  return numeric("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {labels.size(), 1}, labels);
}

void check_images(const ImageSet& s) {
  int64_t bad = 0;
  const uint8_t* p = s.images.data<uint8_t>();
  for (int64_t i = 0; i < s.size(); ++i)
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) bad += *p++ != pattern_pixel(i, ch, y, x);
  CHECK_MESSAGE(bad == 0, bad << " pixels are not where NCHW puts them");
}

}  // namespace
#endif

TEST_SUITE("data_svhn") {

#ifdef BTS_WITH_MATIO
TEST_CASE("SVHN .mat: column-major X becomes NCHW, label 10 becomes digit 0 (v5, plain and compressed)") {
  TempDir dir;
  for (matio_compression comp : {MAT_COMPRESSION_NONE, MAT_COMPRESSION_ZLIB}) {
    CAPTURE(int(comp));
    const std::string path = dir.file("train_32x32.mat");
    REQUIRE(write_mat(path, {svhn_x(4), svhn_y({10, 1, 5, 9})}, MAT_FT_MAT5, comp));
    ImageSet s = read_svhn_mat(path);
    REQUIRE(s.images.shape() == Shape{4, 3, 32, 32});
    CHECK(s.labels.to_double_vector() == std::vector<double>{0, 1, 5, 9});
    check_images(s);
  }
}

TEST_CASE("SVHN .mat: labels stored as uint8, and the v7.3 (HDF5) container") {
  TempDir dir;
  const std::string p8 = dir.file("u8.mat");
  REQUIRE(write_mat(p8, {svhn_x(2), numeric<uint8_t>("y", MAT_C_UINT8, MAT_T_UINT8, {2, 1}, {3, 10})}));
  CHECK(read_svhn_mat(p8).labels.to_double_vector() == std::vector<double>{3, 0});
  const std::string p73 = dir.file("v73.mat");
  if (write_mat(p73, {svhn_x(3), svhn_y({2, 10, 4})}, MAT_FT_MAT73)) {
    ImageSet s = read_svhn_mat(p73);
    CHECK(s.labels.to_double_vector() == std::vector<double>{2, 0, 4});
    check_images(s);
  } else {
    MESSAGE("this libmatio cannot write v7.3 files; v7.3 reading not exercised");
  }
}

TEST_CASE("malformed SVHN files are rejected naming the file, the expectation and the finding") {
  TempDir dir;
  const std::string f = dir.file("f.mat");
  check_error([&] { read_svhn_mat(dir.file("missing.mat")); }, {"cannot open", dir.file("missing.mat")});
  write_text(f, "this is not a MATLAB file, just some text that is long enough to have a header of 128 bytes ......"
                "........................................................................................");
  check_error([&] { read_svhn_mat(f); }, {f, "not a MATLAB .mat file"});
  REQUIRE(write_mat(f, {svhn_y({1, 2})}));
  check_error([&] { read_svhn_mat(f); }, {f, "no readable variable 'X'", "32x32x3xN uint8"});
  REQUIRE(write_mat(f, {svhn_x(2)}));
  check_error([&] { read_svhn_mat(f); }, {f, "no readable variable 'y'"});
  REQUIRE(write_mat(f, {numeric<double>("X", MAT_C_DOUBLE, MAT_T_DOUBLE, {32, 32, 3, 1}, std::vector<double>(3072)),
                        svhn_y({1})}));
  check_error([&] { read_svhn_mat(f); }, {f, "X has class 6", "expected X: 32x32x3xN uint8"});
  REQUIRE(write_mat(f, {svhn_x(2, 1), svhn_y({1, 2})}));
  check_error([&] { read_svhn_mat(f); }, {f, "X has shape 32x32x1x2", "expected X: 32x32x3xN"});
  REQUIRE(write_mat(f, {svhn_x(2), svhn_y({1, 2, 3})}));
  check_error([&] { read_svhn_mat(f); }, {f, "y holds 3 labels but X holds 2 images"});
  REQUIRE(write_mat(f, {svhn_x(2), numeric<double>("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2}, {1, 2, 3, 4})}));
  check_error([&] { read_svhn_mat(f); }, {f, "y has class 6 and shape 2x2", "N x 1"});
  for (double bad : {0.0, 11.0, 1.5, -3.0}) {
    CAPTURE(bad);
    REQUIRE(write_mat(f, {svhn_x(3), svhn_y({1, bad, 2})}));
    check_error([&] { read_svhn_mat(f); }, {f, "of sample 1", "expected an integer 1..10 (10 = digit 0)"});
  }
}

TEST_CASE("regression (fuzz_svhn): a 257-byte .mat whose header makes libmatio allocate 4.7 GB fails cleanly") {
  // Found by tools/fuzz.sh: a compressed v5 file with a corrupted field. libmatio callocs from the header before
  // it notices the damage; the allocation stays untouched (or fails), and the read must end in a clean error.
  const Bytes file = {
      0x4d, 0x41, 0x54, 0x4c, 0x41, 0x42, 0x20, 0x35, 0x2e, 0x30, 0x20, 0x4d, 0x41, 0x54, 0x2d, 0x66, 0x69,
      0x6c, 0x65, 0x2c, 0x20, 0x50, 0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72, 0x6d, 0x3a, 0x20, 0x78, 0x38, 0x36,
      0x5f, 0x36, 0x34, 0x2d, 0x70, 0x63, 0x2d, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0x2d, 0x67, 0x6e, 0x75, 0x2c,
      0x20, 0x43, 0x72, 0x65, 0x61, 0x74, 0x65, 0x64, 0x20, 0x62, 0x79, 0x3a, 0x20, 0x6c, 0x69, 0x62, 0x6d,
      0x61, 0x74, 0x69, 0x6f, 0x20, 0x76, 0x31, 0x2e, 0x35, 0x2e, 0x32, 0x33, 0x20, 0x6f, 0x6e, 0x20, 0x53,
      0x61, 0x74, 0x20, 0x4e, 0x6f, 0x76, 0x20, 0x32, 0x38, 0x20, 0x32, 0x30, 0x3a, 0x33, 0x36, 0x3a, 0x30,
      0x30, 0x20, 0x32, 0x30, 0x32, 0x36, 0x0a, 0x00, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
      0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x01, 0x49, 0x4d, 0x0f, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00,
      0x78, 0x9c, 0xed, 0xcb, 0xc1, 0x09, 0x80, 0x40, 0x0c, 0x45, 0xc1, 0xa8, 0x28, 0xee, 0x45, 0xf4, 0xe6,
      0xd1, 0x32, 0x2c, 0xc5, 0xfe, 0x2b, 0xf1, 0x83, 0x5b, 0x85, 0xcc, 0x84, 0x47, 0x72, 0xc9, 0x56, 0x55,
      0xf7, 0x59, 0xb5, 0x64, 0xaf, 0xa9, 0xd5, 0x67, 0x4e, 0x7b, 0xba, 0x7a, 0x53, 0x1a, 0xd3, 0x90, 0x79,
      0xfa, 0x5d, 0xf9, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xdf, 0x79, 0x01, 0x77, 0x56, 0x99, 0x53,
      0x0f, 0x00, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x00, 0x78, 0x9c, 0xe3, 0x63, 0x60, 0x60, 0x70, 0x00, 0x62,
      0x37, 0x20, 0xe6, 0x80, 0xd2, 0x20, 0xc0, 0x0a, 0xe5, 0x36, 0x01, 0x31, 0x23, 0x18, 0x33, 0x32, 0x54,
      0x02, 0x69, 0x4e, 0x20, 0x16, 0x60, 0x80, 0x01, 0x15, 0x07, 0x08, 0xcd, 0xe1, 0x00, 0x00, 0x30, 0x36,
      0x01, 0xb3};
  TempDir dir;
  write_bytes(dir.file("oom.mat"), file);
  check_error([&] { read_svhn_mat(dir.file("oom.mat")); }, {dir.file("oom.mat"), "expected"});
}

TEST_CASE("load_svhn: train_32x32.mat and test_32x32.mat, counts checked") {
  TempDir dir;
  check_error([&] { load_dataset("svhn", dir.path()); }, {"cannot open", dir.file("train_32x32.mat")});
  REQUIRE(write_mat(dir.file("train_32x32.mat"), {svhn_x(3), svhn_y({1, 2, 3})}));
  check_error([&] { load_dataset("svhn", dir.path()); },
              {"svhn train", dir.file("train_32x32.mat"), "expected 73,257 images, found 3"});
}
#else
TEST_CASE("without libmatio, reading SVHN says which package is missing") {
  check_error([] { read_svhn_mat("x.mat"); }, {"x.mat", "libmatio-dev"});
}
#endif

}  // TEST_SUITE
