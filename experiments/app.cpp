#include "experiments/figures.h"
#include "experiments/app.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "engine/device_spec.h"
#include "engine/file_write.h"
#include "kernels/common/check.h"
#include "experiments/report.h"
#include "experiments/runner.h"
#include "experiments/slurm.h"

namespace bts::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Applies "dotted.key=value" (value parsed as JSON, else a string) to a config, as `bts train --set` does.
void apply_set(json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  BTS_CHECK(eq != std::string::npos && eq > 0, "--set '" << assignment << "' is not key=value");
  json value;
  try {
    value = json::parse(assignment.substr(eq + 1));
  } catch (const std::exception&) {
    value = assignment.substr(eq + 1);
  }
  json* node = &j;
  std::string key = assignment.substr(0, eq);
  size_t dot;
  while ((dot = key.find('.')) != std::string::npos) {
    node = &(*node)[key.substr(0, dot)];
    if (node->is_null()) *node = json::object();
    BTS_CHECK(node->is_object(), "--set '" << assignment << "': '" << key.substr(0, dot) << "' is not a section");
    key = key.substr(dot + 1);
  }
  (*node)[key] = value;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

std::string describe_base(const Scale& s, const Experiment& e) {
  const json& b = s.base;
  std::ostringstream os;
  std::vector<std::string> ds;
  for (const auto& d : s.datasets(e.paper_datasets)) ds.push_back(dataset_title(d));
  for (size_t i = 0; i < ds.size(); ++i) os << (i ? ", " : "") << ds[i];
  auto sub = [&](const char* k, const char* what) {
    const int64_t v = b.value(k, int64_t{0});
    if (v > 0) os << ", " << what << " subset " << v;
  };
  sub("train_subset", "train");
  sub("test_subset", "test");
  os << "; ResNet-18 width " << b.at("model").value("width", 1.0) << ", T = " << b.value("epochs", 200)
     << " epochs, batch " << b.value("batch_size", 128) << ", " << s.seeds << " seed(s)";
  return os.str();
}

std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

Scale make_scale(const AppOptions& o) {
  BTS_CHECK(o.scale == "quick" || o.scale == "full", "--scale must be quick or full, got '" << o.scale << "'");
  BTS_CHECK(is_device_spec(o.device), "--device must be auto, cpu, cuda or cuda:N, got '" << o.device << "'");
  Scale s;
  s.quick = o.scale == "quick";
  s.seeds = o.seeds > 0 ? o.seeds : (s.quick ? QuickSettings::seeds : 3);
  s.data_root = o.data_dir.empty() ? "" : fs::absolute(o.data_dir).string();
  if (s.quick) {
    // Small enough that all seven apps finish in a few minutes on 2 CPU cores (docs/EXPERIMENTS.md).
    s.base = {{"epochs", QuickSettings::epochs},
              {"batch_size", QuickSettings::batch_size},
              {"model", {{"width", QuickSettings::width}}},
              {"train_subset", QuickSettings::train_subset},
              {"test_subset", QuickSettings::test_subset},
              {"eval_every", 2}};
  } else {
    // The paper's setup (METHODS.md); the test set every 10 epochs keeps evaluation a small part of low budgets.
    s.base = {{"epochs", 200}, {"batch_size", 128}, {"model", {{"width", 1.0}}}, {"eval_every", 10}};
  }
  s.base["device"] = o.device;
  for (const auto& a : o.sets) apply_set(s.base, a);
  return s;
}

std::string aggregate_experiment(const Experiment& e, const Scale& scale, const std::string& runs_root,
                                 const std::string& command_line) {
  const fs::path root = fs::absolute(runs_root);
  const std::vector<Point> points = expand(e.grids(scale));
  const std::vector<RunRecord> runs = load_runs(points, root);
  std::vector<TableResult> tables;
  for (const TableSpec& t : e.tables(scale)) tables.push_back(evaluate(t, runs));

  std::set<std::string> devices;
  int done = 0;
  for (const RunRecord& r : runs)
    if (r.completed()) {
      ++done;
      devices.insert(r.result.value("device", "?"));
    }
  std::ostringstream md;
  md << "# " << e.title << "\n\n";
  md << "- Produced by `" << e.name << "` on " << today() << " at **" << scale.name() << " scale**: "
     << describe_base(scale, e) << ".\n";
  md << "- Device: ";
  if (devices.empty()) md << "none yet";
  for (auto it = devices.begin(); it != devices.end(); ++it) md << (it == devices.begin() ? "" : "; ") << *it;
  md << ".\n- Runs: " << done << " of " << runs.size() << " completed, in `" << root.string() << "`.\n";
  md << "- Each cell: mean ± sample std over seeds of the final test accuracy (%) unless the table says otherwise; "
        "(k/n) when only k of its n runs are done, — when none is.\n";
  if (scale.quick)
    md << "- The paper columns are the paper's full-scale numbers ("
       << dataset_title(scale.paper_dataset("fashion-mnist", e.paper_datasets))
       << ", ResNet-18, 200 epochs, GTX 1080 Ti): shown for the layout, not comparable with quick-scale numbers.\n";
  md << "- Command: `" << command_line << "`\n\n";
  for (const TableResult& t : tables) md << to_markdown(t);
  if (!e.notes.empty()) md << e.notes << "\n\n";

  std::vector<std::string> figure_lines;
  if (e.figures) figure_lines = e.figures(scale, runs, root);
  for (const std::string& l : write_budget_figures(e.name, runs, root)) figure_lines.push_back(l);
  if (!figure_lines.empty()) {
    md << "## Figures\n\n";
    for (const auto& l : figure_lines) md << "- " << l << "\n";
    md << "\n";
  }
  write_text_file(root / (e.name + ".md"), md.str());
  write_text_file(root / (e.name + ".csv"), to_csv(tables));
  write_text_file(root / (e.name + "-runs.csv"), runs_csv(runs));
  return md.str();
}

namespace {

// --print-slurm: the array script for this experiment, with the options that define its runs.
int print_slurm(const Experiment& e, const AppOptions& o, const Scale& scale, size_t points) {
  std::string cmd = shell_quote(self_path().empty() ? e.name : self_path());
  cmd += " --scale " + std::string(scale.name()) + " --runs-root " + shell_quote(fs::absolute(o.runs_root).string());
  if (!o.data_dir.empty()) cmd += " --data-dir " + shell_quote(scale.data_root);
  if (o.seeds > 0) cmd += " --seeds " + std::to_string(o.seeds);
  cmd += " --device " + o.device;
  for (const auto& s : o.sets) cmd += " --set " + shell_quote(s);
  if (!o.bts.empty()) cmd += " --bts " + shell_quote(fs::absolute(o.bts).string());
  SlurmOptions so;
  so.job_name = e.name;
  so.gpus_per_task = o.slurm_gpus;
  so.tasks = o.slurm_tasks > 0 ? o.slurm_tasks : static_cast<int>((points + so.gpus_per_task - 1) / so.gpus_per_task);
  so.time = o.slurm_time;
  so.partition = o.slurm_partition;
  so.jobs_per_task = o.jobs;
  fs::create_directories(so.log_dir);  // Slurm needs it to exist (relative to where sbatch is run)
  write_text_file(fs::absolute(o.print_slurm), slurm_script(cmd, so));
  std::printf("%s: wrote %s (%d array tasks over %zu points); submit it with sbatch from this folder\n",
              e.name.c_str(), o.print_slurm.c_str(), so.tasks, points);
  return 0;
}

// --dry-run: this shard's points and how each differs from the scale's base config.
int print_dry_run(const Experiment& e, const AppOptions& o, const Scale& scale, const std::vector<Point>& mine,
                  size_t all, Shard shard) {
  std::printf("%s at %s scale: %zu points, shard %d/%d has %zu; runs in %s\n", e.name.c_str(), scale.name(), all,
              shard.index, shard.count, mine.size(), fs::absolute(o.runs_root).string().c_str());
  std::printf("base config: %s\n", scale.base.dump().c_str());
  for (const Point& p : mine) {
    std::printf("%s\n", p.name.c_str());
    for (const auto& d : config_diff(scale.base, p.config)) std::printf("    %s\n", d.c_str());
  }
  return 0;
}

// Runs this shard's points; the exit status: 0, 1 (failures) or 130 (interrupted).
int run_shard(const Experiment& e, const AppOptions& o, const Scale& scale, const std::vector<Point>& mine,
              size_t all, Shard shard) {
  RunnerOptions ro;
  ro.bts = o.bts.empty() ? find_bts_next_to_self() : o.bts;
  BTS_CHECK(!ro.bts.empty(), "cannot find the bts binary next to this app; give it with --bts PATH");
  BTS_CHECK(::access(ro.bts.c_str(), X_OK) == 0, "--bts '" << ro.bts << "' is not an executable file");
  ro.jobs = o.jobs;
  ro.jobs_per_gpu = o.jobs_per_gpu > 0 ? o.jobs_per_gpu : o.jobs;
  ro.gpus = parse_gpu_list(o.gpus);
  if (o.gpus.empty() && (o.device == "cuda" || o.device == "auto")) {
    const int n = visible_gpus(ro.bts);  // asks `bts info`
    for (int g = 0; g < n; ++g) ro.gpus.push_back(g);
  }
  std::printf("%s at %s scale, shard %d/%d: %zu of %zu points\n", e.name.c_str(), scale.name(), shard.index,
              shard.count, mine.size(), all);
  std::fflush(stdout);
  const SweepSummary s = run_sweep(mine, o.runs_root, ro);
  std::printf("%s: %d run(s) finished now, %d already completed, %zu failed%s, %.1f s\n", e.name.c_str(),
              s.succeeded, s.skipped, s.failures.size(), s.interrupted ? ", interrupted" : "", s.seconds);
  for (const auto& f : s.failures) std::printf("  FAILED %s: %s\n", f.name.c_str(), f.what.c_str());
  if (s.interrupted) return 130;
  return s.failures.empty() ? 0 : 1;
}

}  // namespace

int run_app(const Experiment& e, int argc, char** argv) {
  fail_exit_on_lost_stdout();
  AppOptions o;
  CLI::App app{e.title + "\nRuns the paper's grid for this experiment with `bts train` (one run directory per point; "
               "finished runs are skipped, interrupted ones resumed) and writes its table and figures."};
  app.add_option("--scale", o.scale, "full: the paper's grid and data sets; quick: Fashion-MNIST on a CPU in minutes")
      ->check(CLI::IsMember({"quick", "full"}));
  app.add_option("--data-dir", o.data_dir, "data root: data set X is read from <dir>/X when that folder exists, else <dir>");
  app.add_option("--runs-root", o.runs_root, "where the run directories and tables go (default runs/<app>[-quick])");
  app.add_option("--shard", o.shard, "run only shard i of n (points p with p % n == i)");
  app.add_option("--jobs", o.jobs, "runs at once (they share the GPU)")->check(CLI::Range(1, 1024));
  app.add_option("--seeds", o.seeds, "seeds per configuration (default 3, quick 2)")->check(CLI::Range(1, 1000));
  app.add_option("--device", o.device, "device for every run: auto, cpu, cuda, or cuda:N (every run on GPU N)");
  app.add_option("--gpus", o.gpus, "GPUs to place runs on, e.g. 0,1,2,3 (default: every visible GPU when --device "
                                   "is cuda or auto); each run is pinned to one");
  app.add_option("--jobs-per-gpu", o.jobs_per_gpu, "runs at once on each GPU (default: --jobs)")
      ->check(CLI::Range(1, 64));
  app.add_option("--set", o.sets, "override a config field of every run: --set precision=fp32 (repeatable)");
  app.add_option("--bts", o.bts, "the bts binary (default: the one next to this app)");
  app.add_flag("--dry-run", o.dry_run, "list this shard's points and how each config differs from the base");
  app.add_flag("--aggregate-only", o.aggregate_only, "run nothing; write the table and figures from existing runs");
  app.add_option("--print-slurm", o.print_slurm, "write a Slurm job-array script running the shards, and exit");
  app.add_option("--slurm-time", o.slurm_time, "time limit per array task (Slurm syntax)");
  app.add_option("--slurm-partition", o.slurm_partition, "Slurm partition");
  app.add_option("--slurm-tasks", o.slurm_tasks, "array size = shards (default: one per point, or per G points)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--slurm-gpus", o.slurm_gpus, "GPUs per array task, G (each task runs G runs at once)")
      ->check(CLI::Range(1, 64));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }
  // A closed stdout (`| head`) must not kill the sweep and orphan its runs: writes then just fail.
  std::signal(SIGPIPE, SIG_IGN);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + shell_quote(i ? argv[i] : e.name.c_str());
  try {
    const Scale scale = make_scale(o);
    if (o.runs_root.empty()) o.runs_root = "runs/" + e.name + (scale.quick ? "-quick" : "");
    const std::vector<Point> points = expand(e.grids(scale));
    const Shard shard = parse_shard(o.shard);
    if (!o.print_slurm.empty()) return print_slurm(e, o, scale, points.size());
    const std::vector<Point> mine = select_shard(points, shard);
    if (o.dry_run) return print_dry_run(e, o, scale, mine, points.size(), shard);
    const int status = o.aggregate_only ? 0 : run_shard(e, o, scale, mine, points.size(), shard);
    const std::string md = aggregate_experiment(e, scale, o.runs_root, command_line);
    std::printf("\n%s", md.c_str());
    std::printf("%s: wrote %s/%s.md, %s.csv, %s-runs.csv\n", e.name.c_str(), o.runs_root.c_str(), e.name.c_str(),
                e.name.c_str(), e.name.c_str());
    return status;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "%s: error: %s\n", e.name.c_str(), ex.what());
    return 2;
  }
}

}  // namespace bts::experiments
