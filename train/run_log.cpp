#include "train/run_log.h"

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

#include "kernels/common/check.h"

namespace bts {

RunLog::RunLog(const std::filesystem::path& dir, bool quiet, bool fresh) : path_(dir / "log.txt"), quiet_(quiet) {
  if (fresh) std::ofstream(path_, std::ios::trunc);
}

void RunLog::operator()(const std::string& line) const {
  if (!quiet_) std::printf("%s\n", line.c_str());
  std::ofstream(path_, std::ios::app) << line << "\n";
}

void write_text_atomic(const std::filesystem::path& path, const std::string& text) {
  // Unique per process: two writers can never share a temporary (the run lock keeps them apart anyway).
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    BTS_CHECK(f.good(), "cannot create " << tmp);
    f << text;
    f.flush();
    BTS_CHECK(f.good(), "write to " << tmp << " failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

std::string format_duration(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace bts
