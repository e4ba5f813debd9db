// The command line every experiment app shares, and what it does:
//   <app> [--scale quick|full] [--data-dir D] [--runs-root DIR] [--shard i/n] [--jobs k] [--seeds n]
//         [--device auto|cpu|cuda] [--set key=value]... [--bts PATH]
//         [--dry-run | --aggregate-only | --print-slurm FILE [--slurm-time T] [--slurm-partition P] [--slurm-tasks n]]
// runs the grid's points of this shard (skipping finished runs, resuming interrupted ones), then aggregates every
// point found under the runs root into <runs-root>/<app>.md and .csv, <app>-runs.csv and the figures.
#pragma once
#include <string>
#include <vector>

#include "experiments/experiment.h"

namespace bts::experiments {

struct AppOptions {
  std::string scale = "full";
  std::string data_dir;
  std::string runs_root;      // default runs/<app> (full), runs/<app>-quick (quick)
  std::string shard = "0/1";
  int jobs = 1;
  std::string gpus;           // "0,1,..."; "" (default): every visible GPU when the device is cuda or auto
  int jobs_per_gpu = 0;       // 0: --jobs
  int slurm_gpus = 1;         // GPUs per Slurm array task
  int seeds = 0;              // 0: the scale's default (3 full, 2 quick)
  std::string device = "auto";
  std::vector<std::string> sets;
  std::string bts;
  bool dry_run = false;
  bool aggregate_only = false;
  std::string print_slurm;
  std::string slurm_time = "24:00:00";
  std::string slurm_partition;
  int slurm_tasks = 0;        // 0: one task per point
};

// The scale (base config, seeds) that the options describe.
Scale make_scale(const AppOptions& o);

// Aggregates whatever runs exist for the experiment at this scale and writes the Markdown, the CSVs and the
// figures under `runs_root`; returns the Markdown.
std::string aggregate_experiment(const Experiment& e, const Scale& scale, const std::string& runs_root,
                                 const std::string& command_line);

// main() of an experiment app. Exit status: 0 when every run of this shard completed, 1 on failures, 130 when
// interrupted, 2 on bad arguments.
int run_app(const Experiment& e, int argc, char** argv);

}  // namespace bts::experiments
