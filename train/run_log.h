// A run directory's log.txt: every progress and status line, also printed unless quiet. (Atomic and appending
// writes, every failure an error, are engine/file_write.h's.)
#pragma once
#include <filesystem>
#include <string>

#include "engine/file_write.h"  // write_text_atomic, append_text

namespace bts {

class RunLog {
 public:
  // fresh: start log.txt anew (a new run); otherwise append (a resumed one).
  RunLog(const std::filesystem::path& dir, bool quiet, bool fresh);
  void operator()(const std::string& line) const;

 private:
  std::filesystem::path path_;
  bool quiet_;
};

// "h:mm:ss" of a duration in seconds.
std::string format_duration(double seconds);

}  // namespace bts
