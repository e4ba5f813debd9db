#include "data/svhn.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "data/fetch.h"
#include "data/file_io.h"
#include "kernels/common/check.h"

#ifdef BTS_WITH_MATIO
#include <matio.h>
#endif

namespace bts {

#ifdef BTS_WITH_MATIO
namespace {

// matio reports why it failed only through its log callback; keep the last message for our error text.
thread_local std::string g_matio_message;
void matio_log(int level, char* message) {
  if ((level & (MATIO_LOG_LEVEL_ERROR | MATIO_LOG_LEVEL_CRITICAL)) && message) g_matio_message = message;
}
std::string matio_reason() {
  return g_matio_message.empty() ? std::string() : " (matio: " + g_matio_message + ")";
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatPtr = std::unique_ptr<mat_t, MatCloser>;
using VarPtr = std::unique_ptr<matvar_t, VarFreer>;

std::string shape_of(const matvar_t* v) {
  std::string s;
  for (int i = 0; i < v->rank; ++i) s += (i ? "x" : "") + std::to_string(v->dims[i]);
  return s;
}

size_t numel_of(const matvar_t* v) {
  size_t n = 1;
  for (int i = 0; i < v->rank; ++i) n *= v->dims[i];
  return n;
}

// One label value as a double, whatever numeric class MATLAB stored it in.
bool label_at(const matvar_t* y, size_t i, double* out) {
  const void* d = y->data;
  switch (y->class_type) {
    case MAT_C_DOUBLE: *out = static_cast<const double*>(d)[i]; return true;
    case MAT_C_SINGLE: *out = static_cast<const float*>(d)[i]; return true;
    case MAT_C_INT8: *out = static_cast<const int8_t*>(d)[i]; return true;
    case MAT_C_UINT8: *out = static_cast<const uint8_t*>(d)[i]; return true;
    case MAT_C_INT16: *out = static_cast<const int16_t*>(d)[i]; return true;
    case MAT_C_UINT16: *out = static_cast<const uint16_t*>(d)[i]; return true;
    case MAT_C_INT32: *out = static_cast<const int32_t*>(d)[i]; return true;
    case MAT_C_UINT32: *out = static_cast<const uint32_t*>(d)[i]; return true;
    case MAT_C_INT64: *out = static_cast<double>(static_cast<const int64_t*>(d)[i]); return true;
    case MAT_C_UINT64: *out = static_cast<double>(static_cast<const uint64_t*>(d)[i]); return true;
    default: return false;
  }
}

size_t class_bytes(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
    case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
    case MAT_C_INT16: case MAT_C_UINT16: return 2;
    case MAT_C_INT8: case MAT_C_UINT8: return 1;
    default: return 0;
  }
}

// SVHN's largest split ("extra") has 531,131 images; a header claiming more than a million is corrupt, and its data
// must not be allocated (matio sizes the buffer from the header before it can tell the file is short).
constexpr size_t kMaxSvhnImages = 1000000;

// `max_bytes`: what the variable's data may take (X: 3,072 uint8 per image; y: one label of at most 8 bytes per
// image).
VarPtr read_var(mat_t* mat, const char* name, const std::string& path, const char* expected, size_t max_bytes) {
  g_matio_message.clear();
  {
    // The header alone first: the bytes its shape and class claim, bounded before matio allocates for the data.
    VarPtr info(Mat_VarReadInfo(mat, name));
    BTS_CHECK(info != nullptr, "'" << path << "': no readable variable '" << name << "', expected " << expected
                                   << matio_reason());
    size_t numel = 1;
    bool overflow = info->rank < 0 || info->rank > 8 || info->dims == nullptr;
    for (int i = 0; !overflow && i < info->rank; ++i) overflow = __builtin_mul_overflow(numel, info->dims[i], &numel);
    size_t bytes = 0;
    overflow = overflow || __builtin_mul_overflow(numel, std::max<size_t>(1, class_bytes(info->class_type)), &bytes);
    BTS_CHECK(!overflow && bytes <= max_bytes,
              "'" << path << "': variable '" << name << "' claims "
                  << (overflow ? std::string("an impossible shape") : "shape " + shape_of(info.get()))
                  << " of class " << int(info->class_type) << ", expected " << expected << " with at most "
                  << kMaxSvhnImages << " images");
  }
  VarPtr v(Mat_VarRead(mat, name));
  BTS_CHECK(v != nullptr, "'" << path << "': no readable variable '" << name << "', expected " << expected
                              << matio_reason());
  return v;
}

}  // namespace

ImageSet read_svhn_mat(const std::string& path) {
  static const int log_init = Mat_LogInitFunc("bts", matio_log);  // once: silence matio's stderr logging
  (void)log_init;
  BTS_CHECK(path_exists(path), "cannot open '" << path << "': no such file");
  g_matio_message.clear();
  MatPtr mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  BTS_CHECK(mat != nullptr, "'" << path << "': not a MATLAB .mat file that matio can read (v4, v5 or v7.3)"
                                << matio_reason());

  const char* x_expected = "X: 32x32x3xN uint8 images";
  VarPtr x = read_var(mat.get(), "X", path, x_expected, kMaxSvhnImages * 32 * 32 * 3);
  BTS_CHECK(x->class_type == MAT_C_UINT8 && !x->isComplex,
            "'" << path << "': X has class " << int(x->class_type) << (x->isComplex ? " (complex)" : "")
                << ", expected " << x_expected);
  BTS_CHECK(x->rank == 4 && x->dims[0] == 32 && x->dims[1] == 32 && x->dims[2] == 3,
            "'" << path << "': X has shape " << shape_of(x.get()) << ", expected " << x_expected);
  const size_t n = x->dims[3];
  BTS_CHECK(x->data != nullptr && x->nbytes >= numel_of(x.get()),
            "'" << path << "': X holds " << x->nbytes << " bytes of data, expected " << numel_of(x.get()));

  const char* y_expected = "y: N labels 1..10 (N x 1)";
  VarPtr y = read_var(mat.get(), "y", path, y_expected, kMaxSvhnImages * 8);
  const size_t ny = numel_of(y.get());
  BTS_CHECK(class_bytes(y->class_type) > 0 && !y->isComplex && y->rank == 2 && (y->dims[0] == 1 || y->dims[1] == 1),
            "'" << path << "': y has class " << int(y->class_type) << " and shape " << shape_of(y.get())
                << ", expected " << y_expected);
  BTS_CHECK(ny == n, "'" << path << "': y holds " << ny << " labels but X holds " << n << " images");
  BTS_CHECK(y->data != nullptr && y->nbytes >= ny * class_bytes(y->class_type),
            "'" << path << "': y holds " << y->nbytes << " bytes of data, expected "
                << ny * class_bytes(y->class_type));

  const int64_t ni = static_cast<int64_t>(n);
  ImageSet s{Tensor::empty({ni, 3, 32, 32}, DType::U8), Tensor::empty({ni}, DType::I32)};
  int32_t* labels = s.labels.data<int32_t>();
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    label_at(y.get(), i, &v);
    BTS_CHECK(v >= 1 && v <= 10 && std::floor(v) == v,
              "'" << path << "': label " << v << " of sample " << i << ", expected an integer 1..10 (10 = digit 0)");
    labels[i] = static_cast<int32_t>(v) % 10;
  }
  // MATLAB is column-major: X(r, c, ch, i) sits at r + 32 c + 1024 ch + 3072 i. NCHW wants [i][ch][r][c].
  const uint8_t* src = static_cast<const uint8_t*>(x->data);
  uint8_t* dst = s.images.data<uint8_t>();
  for (size_t i = 0; i < n; ++i)
    for (size_t ch = 0; ch < 3; ++ch)
      for (size_t r = 0; r < 32; ++r)
        for (size_t c = 0; c < 32; ++c) dst[((i * 3 + ch) * 32 + r) * 32 + c] = src[r + 32 * (c + 32 * (ch + 3 * i))];
  return s;
}

#else

ImageSet read_svhn_mat(const std::string& path) {
  BTS_FAIL("cannot read '" << path << "': this build has no libmatio (install the Debian package libmatio-dev "
                                      "and reconfigure)");
}

#endif

DataSplit load_svhn(const std::string& dir) {
  const DatasetInfo& info = dataset_info("svhn");
  const std::string train = join_path(dir, "train_32x32.mat"), test = join_path(dir, "test_32x32.mat");
  // A missing file is most likely a data set never fetched: say how to get it.
  auto read = [&](const std::string& f) {
    BTS_CHECK(path_exists(f), "cannot open '" << f << "': no such file " << fetch_hint("svhn", dir));
    return read_svhn_mat(f);
  };
  DataSplit out;
  out.train = make_dataset(info, "train", read(train), info.train_count, train);
  out.test = make_dataset(info, "test", read(test), info.test_count, test);
  return out;
}

}  // namespace bts
