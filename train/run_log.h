// A run directory's text outputs: log.txt (every progress and status line, also printed unless quiet), and
// atomic writes (temporary file + rename) for the files a reader must never see half-written.
#pragma once
#include <filesystem>
#include <string>

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

void write_text_atomic(const std::filesystem::path& path, const std::string& text);
// "h:mm:ss" of a duration in seconds.
std::string format_duration(double seconds);

}  // namespace bts
