// Byte-level helpers the readers share: a read-only memory map of a whole file, gzip decompression with a size
// cap, and explicit-endian integer loads/stores (file formats fix their byte order; the host's does not matter).
// Every error names the file and what went wrong.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bts {

class MappedFile {
 public:
  // Throws naming `path` when it is missing, unreadable or a directory. An empty file maps to size() == 0.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

bool is_gzip(const uint8_t* data, size_t size);
// Inflates a whole gzip stream (concatenated members too). Throws naming `name` on corrupt or truncated data,
// trailing garbage, or output beyond max_bytes (a guard against decompression bombs).
std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, const std::string& name, size_t max_bytes);

bool path_exists(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);
// "1,234,567": byte counts in messages are easier to compare with thousands separators.
std::string with_commas(uint64_t v);

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | (uint64_t(load_le32(p + 4)) << 32); }
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  store_le32(p, static_cast<uint32_t>(v));
  store_le32(p + 4, static_cast<uint32_t>(v >> 32));
}

}  // namespace bts
