// The sweep runner: runs each point of a (shard of a) grid as its own `bts train` process and run directory
// <runs_root>/<point name>. Finished runs are skipped, interrupted ones resumed from their checkpoints (see
// run_state.h). Up to `jobs` runs go at once (several small runs share one GPU well). Each run's stdout and
// stderr go to <dir>/stdout.txt. A failed run is reported (name, exit status, last lines) and the others go on.
// SIGINT/SIGTERM stop new starts, pass SIGTERM to the running runs (which checkpoint and exit) and return.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/grid.h"

namespace bts::experiments {

struct RunnerOptions {
  std::string bts;            // path of the bts binary
  int jobs = 1;
  std::FILE* log = stdout;    // progress lines
};

struct RunFailure {
  std::string name;
  std::string what;           // "exit status 1", "killed by signal 9", "conflict: ..."
  std::string last_lines;     // the end of its stdout.txt
};

struct SweepSummary {
  int points = 0;
  int skipped = 0;            // already completed
  int started = 0, resumed = 0;
  int succeeded = 0;          // of those started or resumed
  std::vector<RunFailure> failures;
  bool interrupted = false;
  double seconds = 0;
};

// The config handed to bts for a point: the point's config with run_dir set to the absolute directory.
nlohmann::json run_config(const Point& p, const std::filesystem::path& dir);

// The argv (without the binary) of the bts command for a run: a fresh start or a resume.
std::vector<std::string> bts_arguments(const std::filesystem::path& dir, bool resume);

SweepSummary run_sweep(const std::vector<Point>& points, const std::filesystem::path& runs_root,
                       const RunnerOptions& options);

// The last `n` lines of a text file ("" when unreadable).
std::string last_lines(const std::filesystem::path& file, int n);

// The bts binary next to this executable's own (/proc/self/exe), or "" when there is none.
std::string find_bts_next_to_self();

}  // namespace bts::experiments
