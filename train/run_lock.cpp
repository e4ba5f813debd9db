#include "train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kernels/common/check.h"

namespace bts {

RunLock::RunLock(const std::filesystem::path& dir) {
  const std::string path = (dir / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  BTS_CHECK(fd_ >= 0, "cannot open the run directory's lock file '" << path << "': " << std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    BTS_CHECK(err != EWOULDBLOCK, "run directory '" << dir.string() << "' is in use by another process (pid "
                                                   << (n > 0 ? std::string(holder, static_cast<size_t>(n)) : "?")
                                                   << "): wait for it to finish or stop it");
    BTS_FAIL("cannot lock '" << path << "': " << std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    const ssize_t w = ::pwrite(fd_, pid.data(), pid.size(), 0);  // who holds it, for the message above
    (void)w;
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file(ec) && (name.size() > 4 && (name.rfind(".tmp") == name.size() - 4 ||
                                                      name.find(".tmp.") != std::string::npos)))
      std::filesystem::remove(e.path(), ec);
  }
}

}  // namespace bts
