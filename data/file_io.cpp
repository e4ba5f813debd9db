#include "data/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef BTS_NO_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kernels/common/check.h"

namespace bts {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BTS_CHECK(fd >= 0, "cannot open '" << path << "': " << std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    BTS_FAIL("cannot read '" << path << "': expected a regular file, found " << (dir ? "a directory" : "something else"));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    BTS_CHECK(p != MAP_FAILED, "cannot map '" << path << "' (" << with_commas(size_) << " bytes): " << std::strerror(err));
    data_ = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

bool is_gzip(const uint8_t* data, size_t size) { return size >= 2 && data[0] == 0x1f && data[1] == 0x8b; }

std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, const std::string& name, size_t max_bytes) {
  BTS_CHECK(is_gzip(data, size), "'" << name << "': expected gzip data (magic 1f 8b), found "
                                     << (size < 2 ? "fewer than 2 bytes" : "other bytes"));
#ifdef BTS_NO_ZLIB
  (void)max_bytes;
  BTS_FAIL("cannot decompress '" << name << "': this build has no zlib (install the Debian package zlib1g-dev and "
                                    "reconfigure), or decompress it with gunzip");
#else
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip wrapper (header and CRC-32 trailer), not raw zlib.
  BTS_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "'" << name << "': zlib inflateInit2 failed");
  std::vector<uint8_t> out;
  // One byte of room beyond the limit tells "exactly max_bytes" apart from "more than max_bytes".
  const size_t cap = max_bytes + 1;
  size_t in_done = 0;
  std::string error;
  for (;;) {
    const size_t old = out.size();
    const size_t grow = std::min<size_t>(cap - old, std::max<size_t>(old, size_t(1) << 16));
    out.resize(old + grow);
    // zlib counts in uInt; feed and take at most 1 GiB per call.
    zs.next_in = const_cast<Bytef*>(data + in_done);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(size - in_done, size_t(1) << 30));
    zs.next_out = out.data() + old;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(grow, size_t(1) << 30));
    const uInt in_before = zs.avail_in, out_before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_done += in_before - zs.avail_in;
    out.resize(old + (out_before - zs.avail_out));
    if (out.size() > max_bytes) {
      error = "decompresses to more than " + with_commas(max_bytes) + " bytes (the limit)";
    } else if (rc == Z_STREAM_END) {
      if (in_done == size) break;
      // Another gzip member may follow (a gzip file may be a concatenation); anything else is garbage.
      if (!is_gzip(data + in_done, size - in_done)) {
        error = "trailing " + with_commas(size - in_done) + " bytes after the gzip stream";
      } else {
        inflateReset(&zs);
        continue;
      }
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = std::string("corrupt gzip data (") + (zs.msg ? std::string(zs.msg) : "zlib error " + std::to_string(rc)) +
              ")";
    } else if (in_done == size && zs.avail_out > 0) {
      error = "truncated gzip stream (the input ends before the compressed data does)";
    } else if (in_before == zs.avail_in && out_before == zs.avail_out) {
      error = "zlib made no progress (zlib error " + std::to_string(rc) + ")";
    }
    if (!error.empty()) break;
  }
  inflateEnd(&zs);
  BTS_CHECK(error.empty(), "'" << name << "': " << error);
  return out;
#endif
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace bts
