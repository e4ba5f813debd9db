#include "engine/file_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "kernels/common/check.h"

namespace bts {

namespace {
std::string reason() { return std::strerror(errno); }
}  // namespace

AtomicFile::AtomicFile(std::string path)
    : AtomicFile(path, path + ".tmp." + std::to_string(::getpid())) {}

AtomicFile::AtomicFile(std::string path, std::string temporary) : path_(std::move(path)), tmp_(std::move(temporary)) {
  f_ = std::fopen(tmp_.c_str(), "wb");
  BTS_CHECK(f_ != nullptr, "cannot create '" << tmp_ << "': " << reason());
}

AtomicFile::~AtomicFile() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  BTS_CHECK(f_ != nullptr, "write to '" << tmp_ << "' after it was committed");
  if (n > 0 && std::fwrite(data, 1, n, f_) != n) BTS_FAIL("cannot write '" << tmp_ << "': " << reason());
}

void AtomicFile::commit() {
  BTS_CHECK(f_ != nullptr, "'" << tmp_ << "' committed twice");
  if (std::fflush(f_) != 0) BTS_FAIL("cannot write '" << tmp_ << "': " << reason());
  if (::fsync(::fileno(f_)) != 0 && errno != EINVAL)  // EINVAL: a file system without fsync (a pipe, /dev/null)
    BTS_FAIL("cannot sync '" << tmp_ << "' to disk: " << reason());
  std::FILE* f = f_;
  f_ = nullptr;
  if (std::fclose(f) != 0) {
    const std::string why = reason();
    std::remove(tmp_.c_str());
    BTS_FAIL("cannot write '" << tmp_ << "': " << why);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string why = reason();
    std::remove(tmp_.c_str());
    BTS_FAIL("cannot rename '" << tmp_ << "' to '" << path_ << "': " << why);
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

void append_text(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "ab");
  BTS_CHECK(f != nullptr, "cannot open '" << path << "' to append: " << reason());
  const bool wrote = text.empty() || std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool flushed = std::fflush(f) == 0;
  const std::string why = reason();
  const bool closed = std::fclose(f) == 0;
  BTS_CHECK(wrote && flushed && closed, "cannot append to '" << path << "': " << (closed ? why : reason()));
}

namespace {
void check_stdout_at_exit() {
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  const int err = errno;
  if (std::fclose(stdout) != 0 || failed) {
    std::fprintf(stderr, "error: writing to standard output failed: %s\n", std::strerror(failed ? err : errno));
    std::fflush(stderr);
    ::_exit(1);
  }
}
}  // namespace

void fail_exit_on_lost_stdout() { std::atexit(check_stdout_at_exit); }

}  // namespace bts
