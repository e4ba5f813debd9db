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

#ifndef BTS_NO_ZLIB
namespace {
// Inflates the whole stream (concatenated members too) through a fixed 64 KiB window, handing each piece to `sink`;
// stops with an error once more than max_bytes came out. Returns the error ("" when the stream is whole).
template <typename Sink>
std::string inflate_stream(const uint8_t* data, size_t size, size_t max_bytes, Sink&& sink) {
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip wrapper (header and CRC-32 trailer), not raw zlib.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return "zlib inflateInit2 failed";
  uint8_t window[size_t(1) << 16];
  size_t in_done = 0, out_total = 0;
  std::string error;
  for (;;) {
    // zlib counts in uInt; feed at most 1 GiB per call.
    zs.next_in = const_cast<Bytef*>(data + in_done);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(size - in_done, size_t(1) << 30));
    zs.next_out = window;
    zs.avail_out = sizeof window;
    const uInt in_before = zs.avail_in;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_done += in_before - zs.avail_in;
    const size_t produced = sizeof window - zs.avail_out;
    out_total += produced;
    if (out_total > max_bytes) {
      error = "decompresses to more than " + with_commas(max_bytes) + " bytes (the limit)";
    } else {
      sink(window, produced);
      if (rc == Z_STREAM_END) {
        if (in_done == size) break;
        // Another gzip member may follow (a gzip file may be a concatenation); anything else is garbage.
        if (!is_gzip(data + in_done, size - in_done)) {
          error = "trailing " + with_commas(size - in_done) + " bytes after the gzip stream";
        } else {
          inflateReset(&zs);
          continue;
        }
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error = std::string("corrupt gzip data (") +
                (zs.msg ? std::string(zs.msg) : "zlib error " + std::to_string(rc)) + ")";
      } else if (in_done == size && zs.avail_out > 0) {
        error = "truncated gzip stream (the input ends before the compressed data does)";
      } else if (in_before == zs.avail_in && produced == 0) {
        error = "zlib made no progress (zlib error " + std::to_string(rc) + ")";
      }
    }
    if (!error.empty()) break;
  }
  inflateEnd(&zs);
  return error;
}
}  // namespace
#endif

std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, const std::string& name, size_t max_bytes) {
  BTS_CHECK(is_gzip(data, size), "'" << name << "': expected gzip data (magic 1f 8b), found "
                                     << (size < 2 ? "fewer than 2 bytes" : "other bytes"));
#ifdef BTS_NO_ZLIB
  (void)max_bytes;
  BTS_FAIL("cannot decompress '" << name << "': this build has no zlib (install the Debian package zlib1g-dev and "
                                    "reconfigure), or decompress it with gunzip");
#else
  // Two passes so that peak memory is the output's exact size, never more, and nothing at all for a stream that
  // breaks the limit: the first only counts (and checks the whole stream), the second fills a buffer of that size.
  // (Growing a buffer as the output comes held up to twice the limit at once: a 1.1 MB file took 2.27 GB.)
  size_t total = 0;
  std::string error = inflate_stream(data, size, max_bytes, [&](const uint8_t*, size_t n) { total += n; });
  BTS_CHECK(error.empty(), "'" << name << "': " << error);
  std::vector<uint8_t> out;
  out.reserve(total);
  error = inflate_stream(data, size, max_bytes, [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  BTS_CHECK(error.empty() && out.size() == total, "'" << name << "': " << error);
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
