// Writing files so that a failure is an error and a crash never leaves a half-written file in place.
// Every write, flush, sync, close and rename is checked (a full disk, /dev/full, a read-only folder: one
// line naming the file and the reason); atomic writes go through a temporary name unique to the process
// (`<path>.tmp.<pid>`) that is removed if the write fails, then renamed over the target.
#pragma once
#include <cstdio>
#include <string>

namespace bts {

// An atomic write in pieces: write() any number of times, then commit(). Destroyed without commit() (an
// exception on the way), it removes its temporary file and leaves the target untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  // With a temporary name of the caller's (a converter whose signal handler must know it in advance).
  AtomicFile(std::string path, std::string temporary);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void commit();  // flush, fsync (the data is on disk before the rename makes it visible), close, rename
  const std::string& temporary_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
};

void write_text_atomic(const std::string& path, const std::string& text);
// Appends to a log-like file (created if missing); a short write or a failed close is an error.
void append_text(const std::string& path, const std::string& text);

// Registers an exit hook that flushes and closes standard output and, if that fails (`bts ... > /dev/full`, a
// closed pipe), prints one line to stderr and exits with status 1: output that was lost is a failure, not a
// success. Every executable calls it first thing in main.
void fail_exit_on_lost_stdout();

}  // namespace bts
