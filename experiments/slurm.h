// A Slurm job-array script that runs an experiment's shards on a cluster: array task k runs
// `<app> <args> --shard k/n`, with G GPUs each (one by default; with G > 1 the task runs G runs at once, one per
// GPU). Runs are resumable, so a requeued or timed-out task picks up where it
// stopped; when every task is done, `<app> <args> --aggregate-only` writes the tables (the script says so).
#pragma once
#include <string>
#include <vector>

namespace bts::experiments {

struct SlurmOptions {
  std::string job_name;
  int tasks = 1;                  // n: array size = number of shards
  std::string time = "24:00:00";  // per task
  std::string partition;          // empty: the cluster's default
  int gpus_per_task = 1;
  int cpus_per_task = 8;
  int jobs_per_task = 1;          // --jobs inside each task
  std::string log_dir = "slurm-logs";
};

// `command` is the app and its arguments (without --shard, --jobs, --print-slurm), already shell-quoted.
std::string slurm_script(const std::string& command, const SlurmOptions& options);

// Quotes one word for a POSIX shell (single quotes unless it is plainly safe).
std::string shell_quote(const std::string& word);

}  // namespace bts::experiments
