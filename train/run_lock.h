// One writer per run directory: an OS file lock (flock on <run_dir>/.lock) held for the run's lifetime and released
// by the kernel on any exit, kill -9 included. A second process on the same directory fails at once, naming the
// holder's pid.
#pragma once
#include <filesystem>

namespace bts {

class RunLock {
 public:
  explicit RunLock(const std::filesystem::path& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes the temporary files (*.tmp, *.tmp.<pid>) a killed writer may have left in a run directory; call with
// the directory's lock held.
void remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace bts
