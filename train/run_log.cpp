#include "train/run_log.h"

#include <cstdio>
#include <string>

#include "kernels/common/check.h"

namespace bts {

RunLog::RunLog(const std::filesystem::path& dir, bool quiet, bool fresh) : path_(dir / "log.txt"), quiet_(quiet) {
  if (fresh) write_text_atomic(path_.string(), "");
}

void RunLog::operator()(const std::string& line) const {
  if (!quiet_) std::printf("%s\n", line.c_str());
  append_text(path_.string(), line + "\n");
}

std::string format_duration(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace bts
