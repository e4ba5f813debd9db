// The sweep runner: runs each point of a (shard of a) grid as its own `bts train` process and run directory
// <runs_root>/<point name>. Finished runs are skipped, interrupted ones resumed from their checkpoints (see
// run_state.h). Up to `jobs` runs go at once (several small runs share one GPU well), or, with GPU placement,
// `jobs_per_gpu` runs on each of the given GPUs. Each run's stdout and stderr go to <dir>/stdout.txt. A failed run is reported (name, exit status, last lines) and the others go on.
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
  int jobs = 1;               // runs at once without GPU placement (the CPU, or all runs on one device)
  std::FILE* log = stdout;    // progress lines
  // GPU placement: when not empty, each run is pinned to one of these GPUs (indices among those this process sees,
  // i.e. into $CUDA_VISIBLE_DEVICES when that is set) through its child's CUDA_VISIBLE_DEVICES, with at most
  // jobs_per_gpu runs on a GPU at once; `jobs` is then unused.
  std::vector<int> gpus;
  int jobs_per_gpu = 1;
};

// The CUDA_VISIBLE_DEVICES value that pins a child to GPU `index` of those this process sees: the index-th entry
// of `visible` (this process's own CUDA_VISIBLE_DEVICES) when it is set, else the index itself.
std::string pinned_visible_devices(int index, const char* visible);
// "0,1,3" -> {0, 1, 3}; "" -> {}. Throws naming the text for anything else.
std::vector<int> parse_gpu_list(const std::string& text);
// How many GPUs `bts info` (the given binary) sees; 0 when none or when it cannot tell.
int visible_gpus(const std::string& bts);

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
