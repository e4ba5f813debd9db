#include "engine/tensor_file.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace bts {

namespace {
constexpr char kMagic[8] = {'B', 'T', 'S', 'T', 'E', 'N', 'S', '\0'};
constexpr uint32_t kVersion = 1;

DType dtype_from_code(uint32_t c, const std::string& where) {
  switch (c) {
    case 0: return DType::F32;
    case 1: return DType::F64;
    case 2: return DType::U8;
    case 3: return DType::I32;
    case 4: return DType::I64;
  }
  BTS_FAIL(where << ": unknown dtype code " << c << " (expected 0..4)");
}
uint32_t code_of(DType t) { return static_cast<uint32_t>(t); }

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    std::ifstream f(path, std::ios::binary);
    BTS_CHECK(f.good(), "cannot open tensor file '" << path << "'");
    data_.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  void read(void* dst, size_t n, const char* what) {
    BTS_CHECK(n <= data_.size() - pos_, "tensor file '" << path_ << "' is truncated: needed " << n
                                                        << " bytes for " << what << " at offset " << pos_
                                                        << ", file has " << data_.size());
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
  }
  template <typename T> T get(const char* what) {
    T v;
    read(&v, sizeof v, what);
    return v;
  }
  size_t remaining() const { return data_.size() - pos_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<char> data_;
  size_t pos_ = 0;
};
}  // namespace

TensorMap read_tensor_file(const std::string& path) {
  Reader r(path);
  char magic[8];
  r.read(magic, 8, "the magic");
  BTS_CHECK(std::memcmp(magic, kMagic, 8) == 0, "'" << path << "' is not a bts tensor file (bad magic)");
  const uint32_t version = r.get<uint32_t>("the version");
  BTS_CHECK(version == kVersion, "'" << path << "' has tensor-file version " << version << ", expected " << kVersion);
  const uint32_t count = r.get<uint32_t>("the tensor count");
  TensorMap out;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t name_len = r.get<uint32_t>("a name length");
    BTS_CHECK(name_len > 0 && name_len <= 4096, "'" << path << "': tensor " << i << " has name length " << name_len);
    std::string name(name_len, '\0');
    r.read(name.data(), name_len, "a name");
    const std::string where = "'" + path + "' tensor '" + name + "'";
    const DType dtype = dtype_from_code(r.get<uint32_t>("a dtype"), where);
    const uint32_t ndim = r.get<uint32_t>("a rank");
    BTS_CHECK(ndim <= 8, where << " has rank " << ndim << " (at most 8)");
    Shape shape(ndim);
    for (auto& d : shape) {
      d = r.get<int64_t>("a dimension");
      BTS_CHECK(d >= 0 && d <= (int64_t(1) << 40), where << " has dimension " << d);
    }
    const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
    BTS_CHECK(bytes <= r.remaining(), where << " is truncated: needs " << bytes << " bytes, only " << r.remaining()
                                            << " left in the file");
    Tensor t = Tensor::empty(shape, dtype);
    r.read(t.raw(), bytes, "tensor data");
    BTS_CHECK(out.count(name) == 0, where << " appears twice");
    out.emplace(name, std::move(t));
  }
  BTS_CHECK(r.remaining() == 0, "'" << path << "' has " << r.remaining() << " trailing bytes after " << count
                                    << " tensors");
  return out;
}

void write_tensor_file(const std::string& path, const TensorMap& tensors) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());  // unique per process
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    BTS_CHECK(f.good(), "cannot create '" << tmp << "'");
    auto put = [&](const void* p, size_t n) { f.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); };
    put(kMagic, 8);
    const uint32_t version = kVersion, count = static_cast<uint32_t>(tensors.size());
    put(&version, 4);
    put(&count, 4);
    for (const auto& [name, t] : tensors) {
      const uint32_t len = static_cast<uint32_t>(name.size()), dt = code_of(t.dtype()),
                     nd = static_cast<uint32_t>(t.ndim());
      put(&len, 4);
      put(name.data(), len);
      put(&dt, 4);
      put(&nd, 4);
      for (int64_t d : t.shape()) put(&d, 8);
      Tensor host = t.device() == Device::CPU ? t.view() : t.to(Device::CPU);
      put(host.raw(), host.bytes());
    }
    f.flush();
    BTS_CHECK(f.good(), "write to '" << tmp << "' failed (disk full?)");
  }
  BTS_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '" << tmp << "' to '" << path << "'");
}

Tensor text_to_tensor(const std::string& text) {
  Tensor t = Tensor::empty({static_cast<int64_t>(text.size())}, DType::U8);
  std::copy(text.begin(), text.end(), t.data<uint8_t>());
  return t;
}

std::string tensor_to_text(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data<uint8_t>()), static_cast<size_t>(t.numel()));
}

}  // namespace bts
