#include "experiments/slurm.h"

#include <cctype>
#include <sstream>
#include <string_view>

#include "kernels/common/check.h"

namespace bts::experiments {

namespace {

// A non-empty word of letters, digits and the characters in `others` only.
bool plain_word(const std::string& w, const char* others) {
  bool ok = !w.empty();
  for (char c : w) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || std::string_view(others).find(c) != std::string_view::npos);
  return ok;
}

}  // namespace

std::string shell_quote(const std::string& w) {
  if (plain_word(w, "/._-=+:,@%")) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

// An #SBATCH value is one token: a newline in it would start a line of its own in the script (a shell command,
// run by the job), a space or '#' would end the directive early. Slurm's time, partition, job and folder names
// need none of them.
void check_sbatch_value(const char* what, const std::string& v) {
  BTS_CHECK(plain_word(v, ":-_.,/+@%"),
            "Slurm " << what << " '" << v << "': expected one word of letters, digits and :-_.,/+@%");
}

}  // namespace

std::string slurm_script(const std::string& command, const SlurmOptions& o) {
  BTS_CHECK(o.tasks >= 1, "Slurm array size must be >= 1, got " << o.tasks);
  BTS_CHECK(o.jobs_per_task >= 1, "--jobs must be >= 1, got " << o.jobs_per_task);
  check_sbatch_value("job name", o.job_name);
  check_sbatch_value("time (--slurm-time)", o.time);
  if (!o.partition.empty()) check_sbatch_value("partition (--slurm-partition)", o.partition);
  check_sbatch_value("log folder", o.log_dir);
  // The command is also written into a comment line: a newline in any argument (quoted or not) would end the
  // comment and run the rest, before the #SBATCH lines (so Slurm would also ignore them).
  BTS_CHECK(command.find_first_of("\n\r") == std::string::npos,
            "Slurm script: an argument holds a line break (--runs-root, --data-dir, --set or the app's path)");
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# " << o.job_name << ": " << o.tasks << " shard(s) as a Slurm job array; submit with: sbatch <this file>\n"
    << "# Every task runs its shard's points (finished runs are skipped, interrupted ones resumed), so the array\n"
    << "# can be resubmitted after a failure or a time-out. When all tasks are done, write the tables with:\n"
    << "#   " << command << " --aggregate-only\n"
    << "# Slurm does not create the log folder: it must exist when the job starts (mkdir -p " << o.log_dir << ").\n"
    << "#SBATCH --job-name=" << o.job_name << "\n"
    << "#SBATCH --array=0-" << (o.tasks - 1) << "\n"
    << "#SBATCH --gpus-per-task=" << o.gpus_per_task << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << o.cpus_per_task << "\n"
    << "#SBATCH --time=" << o.time << "\n"
    << "#SBATCH --output=" << o.log_dir << "/%x-%a.out\n";
  if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
  s << "#SBATCH --signal=B:TERM@120\n"
    << "set -euo pipefail\n"
    << "exec " << command << " --jobs " << o.jobs_per_task;
  // Several GPUs per task: the app places one run per GPU Slurm gave the task (its CUDA_VISIBLE_DEVICES).
  if (o.gpus_per_task > 1) s << " --jobs-per-gpu " << o.jobs_per_task;
  s << " --shard \"${SLURM_ARRAY_TASK_ID}/" << o.tasks << "\"\n";
  return s.str();
}

}  // namespace bts::experiments
