#include "engine/tensor_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/crc32.h"
#include "kernels/common/bf16.h"
#include "engine/file_write.h"

namespace bts {

namespace {
constexpr char kMagic[8] = {'B', 'T', 'S', 'T', 'E', 'N', 'S', '\0'};
constexpr uint32_t kVersionUnchecked = 1, kVersion = 2;

DType dtype_from_code(uint32_t c, const std::string& where) {
  switch (c) {
    case 0: return DType::F32;
    case 1: return DType::F64;
    case 2: return DType::U8;
    case 3: return DType::I32;
    case 4: return DType::I64;
    case 5: return DType::BF16;
  }
  BTS_FAIL(where << ": unknown dtype code " << c << " (expected 0..5)");
}
uint32_t code_of(DType t) { return static_cast<uint32_t>(t); }

// Reads a file front to back, keeping two running CRCs: the whole file's and the current entry's.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "rb");
    BTS_CHECK(f_ != nullptr, "cannot open tensor file '" << path << "': " << std::strerror(errno));
    struct stat st {};
    if (::fstat(::fileno(f_), &st) != 0 || !S_ISREG(st.st_mode)) {
      std::fclose(f_);
      BTS_FAIL("'" << path << "' is not a regular file (a tensor file must be one)");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~Reader() { std::fclose(f_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  void read(void* dst, uint64_t n, const char* what) {
    BTS_CHECK(n <= remaining(), "tensor file '" << path_ << "' is truncated: needed " << n << " bytes for " << what
                                                << " at offset " << pos_ << ", file has " << size_);
    BTS_CHECK(std::fread(dst, 1, n, f_) == n, "cannot read '" << path_ << "' at offset " << pos_ << ": "
                                                               << (std::ferror(f_) ? std::strerror(errno)
                                                                                   : "the file shrank"));
    file_crc_ = crc32_update(file_crc_, dst, n);
    entry_crc_ = crc32_update(entry_crc_, dst, n);
    pos_ += n;
  }
  template <typename T> T get(const char* what) {
    T v;
    read(&v, sizeof v, what);
    return v;
  }
  // An entry's stored checksum: part of the file (the file's CRC covers it), not of the entry.
  uint32_t stored_entry_crc() {
    const uint32_t entry = entry_crc_;
    const uint32_t v = get<uint32_t>("a tensor checksum");
    entry_crc_ = entry;
    return v;
  }
  // The file's stored checksum, the last four bytes: compared with the CRC of everything before it.
  uint32_t stored_file_crc() {
    const uint32_t file = file_crc_;
    const uint32_t v = get<uint32_t>("the file checksum");
    file_crc_ = file;
    return v;
  }
  void begin_entry() { entry_crc_ = 0; }
  uint32_t entry_crc() const { return entry_crc_; }
  uint32_t file_crc() const { return file_crc_; }
  uint64_t remaining() const { return size_ - pos_; }
  uint64_t offset() const { return pos_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0, pos_ = 0;
  uint32_t file_crc_ = 0, entry_crc_ = 0;
};

// Writes the file's bytes to an AtomicFile with the same two running CRCs.
class Writer {
 public:
  explicit Writer(const std::string& path) : file_(path) {}
  void put(const void* p, size_t n) {
    file_.write(p, n);
    file_crc_ = crc32_update(file_crc_, p, n);
    entry_crc_ = crc32_update(entry_crc_, p, n);
  }
  void begin_entry() { entry_crc_ = 0; }
  void end_entry() {
    const uint32_t c = entry_crc_;
    put(&c, 4);
  }
  void finish() {
    const uint32_t c = file_crc_;
    file_.write(&c, 4);
    file_.commit();
  }

 private:
  AtomicFile file_;
  uint32_t file_crc_ = 0, entry_crc_ = 0;
};

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}
}  // namespace

TensorMap read_tensor_file(const std::string& path, TensorFileChecksums checksums) {
  Reader r(path);
  char magic[8];
  r.read(magic, 8, "the magic");
  BTS_CHECK(std::memcmp(magic, kMagic, 8) == 0, "'" << path << "' is not a bts tensor file (bad magic)");
  const uint32_t version = r.get<uint32_t>("the version");
  BTS_CHECK(version == kVersion || version == kVersionUnchecked,
            "'" << path << "' has tensor-file version " << version << ", expected " << kVersion);
  const bool checked = version == kVersion;
  BTS_CHECK(checked || checksums == TensorFileChecksums::Optional,
            "'" << path << "' is a version-1 tensor file without checksums; this file must be written by bts "
                << "(version " << kVersion << ")");
  const uint32_t count = r.get<uint32_t>("the tensor count");
  // Each entry takes at least 16 bytes: a count beyond what the file can hold is corrupt, not a loop to run.
  BTS_CHECK(count <= r.remaining() / 16, "'" << path << "' claims " << count << " tensors in "
                                             << r.remaining() << " bytes");
  TensorMap out;
  for (uint32_t i = 0; i < count; ++i) {
    r.begin_entry();
    const uint64_t entry_offset = r.offset();
    const uint32_t name_len = r.get<uint32_t>("a name length");
    BTS_CHECK(name_len > 0 && name_len <= 4096, "'" << path << "': tensor " << i << " (at offset " << entry_offset
                                                    << ") has name length " << name_len);
    std::string name(name_len, '\0');
    r.read(name.data(), name_len, "a name");
    const std::string where = "'" + path + "' tensor '" + name + "'";
    const DType dtype = dtype_from_code(r.get<uint32_t>("a dtype"), where);
    const uint32_t ndim = r.get<uint32_t>("a rank");
    BTS_CHECK(ndim <= 8, where << " has rank " << ndim << " (at most 8)");
    Shape shape(ndim);
    uint64_t bytes = dtype_size(dtype);
    for (auto& d : shape) {
      d = r.get<int64_t>("a dimension");
      BTS_CHECK(d >= 0, where << " has dimension " << d);
      // Overflow-checked: the element count of a corrupt shape must not wrap into a small allocation.
      BTS_CHECK(!__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes),
                where << " has a shape whose size overflows 64 bits");
    }
    // Checked before allocating: a corrupt size cannot ask for more memory than the file has bytes.
    BTS_CHECK(bytes <= r.remaining(), where << " is truncated: needs " << bytes << " bytes, only " << r.remaining()
                                            << " left in the file");
    Tensor t = Tensor::empty(shape, dtype);
    r.read(t.raw(), bytes, "tensor data");
    if (checked) {
      const uint32_t computed = r.entry_crc(), stored = r.stored_entry_crc();
      BTS_CHECK(computed == stored, where << " is corrupt: checksum " << hex(computed) << ", stored " << hex(stored));
    }
    BTS_CHECK(out.count(name) == 0, where << " appears twice");
    out.emplace(name, std::move(t));
  }
  if (checked) {
    const uint32_t computed = r.file_crc(), stored = r.stored_file_crc();
    BTS_CHECK(computed == stored, "'" << path << "' is corrupt: file checksum " << hex(computed) << ", stored "
                                      << hex(stored));
  }
  BTS_CHECK(r.remaining() == 0, "'" << path << "' has " << r.remaining() << " trailing bytes after " << count
                                    << " tensors");
  return out;
}

void write_tensor_file(const std::string& path, const TensorMap& tensors) {
  Writer w(path);
  w.put(kMagic, 8);
  const uint32_t version = kVersion, count = static_cast<uint32_t>(tensors.size());
  w.put(&version, 4);
  w.put(&count, 4);
  for (const auto& [name, t] : tensors) {
    w.begin_entry();
    const uint32_t len = static_cast<uint32_t>(name.size()), dt = code_of(t.dtype()),
                   nd = static_cast<uint32_t>(t.ndim());
    w.put(&len, 4);
    w.put(name.data(), len);
    w.put(&dt, 4);
    w.put(&nd, 4);
    for (int64_t d : t.shape()) w.put(&d, 8);
    Tensor host = t.device() == Device::CPU ? t.view() : t.to(Device::CPU);
    w.put(host.raw(), host.bytes());
    w.end_entry();
  }
  w.finish();
}

namespace {
std::string in_file(const std::string& file) { return file.empty() ? "" : "'" + file + "' "; }

template <typename T>
void check_values(const T* v, int64_t n, const std::string& name, double lo, double hi) {
  for (int64_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(v[i]);
    BTS_CHECK(std::isfinite(x) && x >= lo && x <= hi,
              "entry '" << name << "' holds " << x << " at index " << i << ", expected a finite value in [" << lo
                        << ", " << hi << "]");
  }
}
}  // namespace

const Tensor& tensor_entry(const TensorMap& m, const std::string& file, const std::string& name) {
  const auto it = m.find(name);
  BTS_CHECK(it != m.end(), in_file(file) << "has no entry '" << name << "'");
  return it->second;
}

void check_entry_values(const Tensor& t, const std::string& name, double lo, double hi) {
  BTS_CHECK(t.device() == Device::CPU, "entry '" << name << "' must be checked on the host");
  switch (t.dtype()) {
    case DType::F32: check_values(t.data<float>(), t.numel(), name, lo, hi); break;
    case DType::F64: check_values(t.data<double>(), t.numel(), name, lo, hi); break;
    case DType::U8: check_values(t.data<uint8_t>(), t.numel(), name, lo, hi); break;
    case DType::I32: check_values(t.data<int32_t>(), t.numel(), name, lo, hi); break;
    case DType::I64: check_values(t.data<int64_t>(), t.numel(), name, lo, hi); break;
    case DType::BF16: {
      std::vector<float> v(static_cast<size_t>(t.numel()));
      for (size_t i = 0; i < v.size(); ++i) v[i] = kernels::bf16_to_f32(t.data<BFloat16>()[i].bits);
      check_values(v.data(), t.numel(), name, lo, hi);
      break;
    }
  }
}

void restore_entry(const TensorMap& m, const std::string& name, Tensor& dst, double lo, double hi) {
  const Tensor& t = tensor_entry(m, "", name, dst.dtype(), dst.shape());
  check_entry_values(t, name, lo, hi);
  dst.copy_from(t);
}

const Tensor& tensor_entry(const TensorMap& m, const std::string& file, const std::string& name, DType dtype,
                           const Shape& shape) {
  const Tensor& t = tensor_entry(m, file, name);
  BTS_CHECK(t.dtype() == dtype && t.shape() == shape,
            in_file(file) << "entry '" << name << "' is " << dtype_name(t.dtype()) << " " << shape_str(t.shape())
                << ", expected " << dtype_name(dtype) << " " << shape_str(shape));
  return t;
}

Tensor text_to_tensor(const std::string& text) {
  Tensor t = Tensor::empty({static_cast<int64_t>(text.size())}, DType::U8);
  std::copy(text.begin(), text.end(), t.data<uint8_t>());
  return t;
}

std::string tensor_to_text(const Tensor& t) {
  BTS_CHECK(t.dtype() == DType::U8 && t.ndim() == 1, "text entry is " << t.describe() << ", expected a u8 vector");
  return std::string(reinterpret_cast<const char*>(t.data<uint8_t>()), static_cast<size_t>(t.numel()));
}

}  // namespace bts
