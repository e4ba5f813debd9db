// The experiment apps' machinery (experiments/): grid expansion, shards, the runner's skip/resume/start
// decisions on hand-made run directories, aggregation of hand-made result.json files, the Slurm script, the
// paper's numbers, and one tiny sweep through a fake bts (a shell script) to check the subprocess handling.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>

#include <doctest/doctest.h>

#include "kernels/common/check.h"
#include "experiments/aggregate.h"
#include "experiments/experiment.h"
#include "experiments/grid.h"
#include "experiments/paper_numbers.h"
#include "experiments/report.h"
#include "experiments/run_curves.h"
#include "experiments/run_state.h"
#include "experiments/runner.h"
#include "experiments/slurm.h"
#include "experiments/tables.h"

using namespace bts::experiments;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("bts_sweep_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

Grid small_grid() {
  Grid g;
  g.base = {{"epochs", 4}, {"model", {{"width", 0.5}}}};
  g.axes = {method_axis({"unif-sgd", "p-sgd"}), budget_axis({0.2, 0.3, 0.5}), seed_axis(2)};
  return g;
}

// What bts writes when a run completes (only the fields aggregation reads).
json completed_result(const json& config, double accuracy, double seconds) {
  return {{"status", "completed"},
          {"config", config},
          {"final_test_accuracy", accuracy},
          {"best_test_accuracy", accuracy},
          {"wall_clock_seconds", seconds},
          {"phase_seconds", {{"evaluation", 0.0}}},
          {"sample_count_entropy", 6.5},
          {"sample_count_entropy_max", 6.9},
          {"budget_asked", {{"full_training_samples", 1000.0}}},
          {"budget_spent", {{"backward_fraction_of_full", 0.3}}},
          {"device", "CPU"},
          {"history", json::array({{{"epoch", 1}, {"test_accuracy", accuracy / 2}, {"counters", {{"samples_backward", 100}}}},
                                   {{"epoch", 2}, {"test_accuracy", accuracy}, {"counters", {{"samples_backward", 300}}}}})}};
}

// The resolved config bts would write: the point's config with a default filled in.
json resolved(const Point& p) {
  json c = p.config;
  c["batch_size"] = 128;
  return c;
}

}  // namespace

TEST_SUITE("sweep") {

TEST_CASE("grid expansion: count, order, merged patches, stable unique names") {
  const std::vector<Point> pts = expand({small_grid()});
  REQUIRE(pts.size() == 2 * 3 * 2);
  // Row-major: the last axis (seed) varies fastest.
  CHECK(pts[0].name == "unif-sgd-B0.2-s0");
  CHECK(pts[1].name == "unif-sgd-B0.2-s1");
  CHECK(pts[2].name == "unif-sgd-B0.3-s0");
  CHECK(pts[11].name == "p-sgd-B0.5-s1");
  // Base kept, patches merged (nested sections too).
  CHECK(pts[11].config.at("epochs") == 4);
  CHECK(pts[11].config.at("model").at("width") == 0.5);
  CHECK(pts[11].config.at("method") == "p-sgd");
  CHECK(pts[11].config.at("budget") == 0.5);
  CHECK(pts[11].config.at("seed") == 1);
  CHECK(pts[11].labels.at("budget") == "B0.5");
  std::set<std::string> names;
  for (const auto& p : pts) names.insert(p.name);
  CHECK(names.size() == pts.size());
  // Stable: the same grid gives the same names in the same order.
  const std::vector<Point> again = expand({small_grid()});
  for (size_t i = 0; i < pts.size(); ++i) CHECK(again[i].name == pts[i].name);

  // A nested patch merges into an existing section instead of replacing it.
  Grid g;
  g.base = {{"lr", {{"initial", 0.05}}}};
  g.axes = {schedule_axis({"step"}), augment_axis({"mixup"})};
  const std::vector<Point> s = expand({g});
  REQUIRE(s.size() == 1);
  CHECK(s[0].config.at("lr").at("initial") == 0.05);
  CHECK(s[0].config.at("lr").at("schedule") == "step");
  CHECK(s[0].config.at("augment").at("mixup_alpha") == 0.3);
}

TEST_CASE("grid expansion: overlapping blocks are merged, conflicting names and bad labels refused") {
  Grid a = small_grid(), b = small_grid();
  CHECK(expand({a, b}).size() == 12);  // identical points appear once
  b.base["epochs"] = 5;                // same names, other configs
  CHECK_THROWS_WITH_AS(expand({a, b}), doctest::Contains("used by two different configs"), bts::Error);
  Grid bad;
  bad.axes = {Axis{"method", {{"unif sgd", {{"method", "unif-sgd"}}}}}};
  CHECK_THROWS_WITH_AS(expand({bad}), doctest::Contains("outside letters"), bts::Error);
  Grid empty;
  empty.axes = {Axis{"method", {}}};
  CHECK_THROWS_AS(expand({empty}), bts::Error);
  CHECK(budget_label(0.05) == "B0.05");
  CHECK(budget_label(1.0) == "B1");
}

TEST_CASE("shards: every point in exactly one shard, p % n == i, for several n") {
  const std::vector<Point> pts = expand({small_grid()});
  for (int n : {1, 2, 3, 5, 12, 13}) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      const auto mine = select_shard(pts, Shard{i, n});
      for (const auto& p : mine) ++seen[p.name];
      for (size_t k = 0; k < pts.size(); ++k)
        if (static_cast<int>(k % n) == i)
          CHECK(std::find_if(mine.begin(), mine.end(), [&](const Point& p) { return p.name == pts[k].name; }) !=
                mine.end());
    }
    CHECK(seen.size() == pts.size());
    for (const auto& [name, count] : seen) CHECK(count == 1);
  }
  const Shard s = parse_shard("2/5");
  CHECK(s.index == 2);
  CHECK(s.count == 5);
  for (const char* bad : {"5/5", "-1/3", "1", "1/0", "a/b", "1/2x"})
    CHECK_THROWS_WITH_AS(parse_shard(bad), doctest::Contains("--shard"), bts::Error);
}

TEST_CASE("runner decisions on hand-made run directories") {
  TempDir tmp("state");
  const Point p = expand({small_grid()})[0];
  const fs::path dir = tmp.path / p.name;
  const json want = run_config(p, dir);
  CHECK(inspect_run(dir, want).action == RunAction::Start);  // nothing there
  fs::create_directories(dir);
  write(dir / "log.txt", "failed before its first checkpoint\n");
  CHECK(inspect_run(dir, want).action == RunAction::Start);  // empty-ish: start again
  write(dir / "checkpoint.bin", "x");
  CHECK(inspect_run(dir, want).action == RunAction::Conflict);  // a checkpoint bts could not resume
  write(dir / "config.json", resolved(p).dump());
  CHECK(inspect_run(dir, want).action == RunAction::Resume);
  json interrupted = completed_result(resolved(p), 0.5, 1);
  interrupted["status"] = "interrupted";
  write(dir / "result.json", interrupted.dump());
  CHECK(inspect_run(dir, want).action == RunAction::Resume);
  write(dir / "result.json", completed_result(resolved(p), 0.5, 1).dump());
  CHECK(inspect_run(dir, want).action == RunAction::Skip);
  // A run of another config (e.g. another scale) is neither skipped nor resumed.
  json other = resolved(p);
  other["epochs"] = 200;
  write(dir / "result.json", completed_result(other, 0.5, 1).dump());
  const RunInspection c = inspect_run(dir, want);
  CHECK(c.action == RunAction::Conflict);
  CHECK(c.why.find("epochs") != std::string::npos);
  // Where the data, the run and the device are does not matter.
  json moved = resolved(p);
  moved["data_dir"] = "/elsewhere";
  moved["device"] = "cuda";
  write(dir / "result.json", completed_result(moved, 0.5, 1).dump());
  CHECK(inspect_run(dir, want).action == RunAction::Skip);
  // Numbers compare by value (1 and 1.0).
  CHECK(config_covers(json{{"budget", 1.0}}, json{{"budget", 1}}));
  CHECK_FALSE(config_covers(json{{"budget", 0.3}}, json{{"budget", 0.30001}}));
  CHECK(bts_arguments(dir, true) == std::vector<std::string>{"train", "--resume", "--run-dir", dir.string(), "--quiet"});
  CHECK(bts_arguments(dir, false)[1] == "--config");
}

TEST_CASE("aggregation: mean, sample std, missing and failed runs, layout, CSV") {
  TempDir tmp("agg");
  const std::vector<Point> pts = expand({small_grid()});
  // unif-sgd B0.3: seeds 0 and 1 completed (80%, 90%); p-sgd B0.3: seed 0 completed, seed 1 failed (no result);
  // p-sgd B0.5 s1: a completed run of another config (must not count).
  for (const Point& p : pts) {
    const fs::path d = tmp.path / p.name;
    if (p.name == "unif-sgd-B0.3-s0") write(d / "result.json", completed_result(resolved(p), 0.80, 60).dump());
    if (p.name == "unif-sgd-B0.3-s1") write(d / "result.json", completed_result(resolved(p), 0.90, 180).dump());
    if (p.name == "p-sgd-B0.3-s0") write(d / "result.json", completed_result(resolved(p), 0.70, 120).dump());
    if (p.name == "p-sgd-B0.3-s1") write(d / "log.txt", "error\n");
    if (p.name == "p-sgd-B0.5-s1") {
      json c = resolved(p);
      c["epochs"] = 9;
      write(d / "result.json", completed_result(c, 0.99, 1).dump());
    }
  }
  const std::vector<RunRecord> runs = load_runs(pts, tmp.path);
  int completed = 0;
  for (const auto& r : runs) completed += r.completed();
  CHECK(completed == 3);

  std::vector<Column> cols = {{"B 0.3", {{"budget", "B0.3"}}, {"table2", "cifar10", "standard", "linear", "", "0.3"}},
                              {"B 0.5", {{"budget", "B0.5"}}, {"table2", "cifar10", "standard", "linear", "", "0.5"}}};
  TableSpec spec{"t", "Test table", "", {"B 0.3", "B 0.5"}, {}};
  spec.rows.push_back(section_row("Linear"));
  spec.rows.push_back(method_row("unif-SGD", "unif-sgd", cols));
  spec.rows.push_back(method_row("p-SGD", "p-sgd", cols));
  RowSpec time{"time", {}, false};
  time.cells.push_back(make_cell({{"method", "unif-sgd"}, {"budget", "B0.3"}}, Metric::Minutes, std::nullopt));
  CellSpec speed = make_cell({{"method", "p-sgd"}, {"budget", "B0.3"}}, Metric::Speedup, std::nullopt);
  speed.reference = {{"method", "unif-sgd"}, {"budget", "B0.3"}};
  time.cells.push_back(speed);
  spec.rows.push_back(time);
  const TableResult t = evaluate(spec, runs);

  const Stat unif = t.cells[1][0]->ours;
  CHECK(unif.n == 2);
  CHECK(unif.expected == 2);
  CHECK(unif.mean == doctest::Approx(85.0));
  CHECK(unif.std == doctest::Approx(std::sqrt(50.0)));  // sample std: ((5^2 + 5^2) / (2 - 1))^0.5
  const Stat p03 = t.cells[2][0]->ours;
  CHECK(p03.n == 1);
  CHECK(p03.expected == 2);
  CHECK(p03.mean == doctest::Approx(70.0));
  CHECK(std::isnan(p03.std));
  CHECK(t.cells[2][1]->ours.n == 0);  // the other-config run does not count
  CHECK(t.cells[3][0]->ours.mean == doctest::Approx(2.0));             // (60 + 180) / 2 s in minutes
  CHECK(t.cells[3][1]->ours.mean == doctest::Approx(100.0 * (1 - 2.0 / 2.0)));  // p-sgd 120 s vs unif 120 s mean
  // Paper numbers beside ours: Table 2, CIFAR-10, linear, unif-SGD at 0.3 is 93.66 +- 0.16.
  REQUIRE(t.cells[1][0]->paper);
  CHECK(t.cells[1][0]->paper->mean == doctest::Approx(93.66));

  CHECK(format_stat(unif, Metric::Accuracy) == "85.00 ± 7.07");
  CHECK(format_stat(p03, Metric::Accuracy) == "70.00 (1/2)");
  CHECK(format_stat(t.cells[2][1]->ours, Metric::Accuracy) == "— (0/2)");
  const std::string md = to_markdown(t);
  CHECK(md.find("| unif-SGD | 85.00 ± 7.07 | 93.66 ± 0.16 |") != std::string::npos);
  CHECK(md.find("| **Linear** |") != std::string::npos);
  CHECK(md.find("5 of the 8 runs behind this table are missing or failed") != std::string::npos);
  CHECK(md.find("`p-sgd-B0.3-s1`") != std::string::npos);
  const std::string csv = to_csv({t});
  CHECK(csv.find("t,unif-SGD,B 0.3,accuracy,2,2,85,7.0710678,93.66,0.16") != std::string::npos);
  const std::string rc = runs_csv(runs);
  CHECK(rc.find("p-sgd-B0.5-s1,B0.5,p-sgd,s1,conflict") != std::string::npos);
  CHECK(rc.find("unif-sgd-B0.3-s1,B0.3,unif-sgd,s1,completed,0.9,") != std::string::npos);

  // Learning curves: seeds averaged point by point, x = backward samples / full training.
  const CurvePlot c = learning_curves(runs, {{"budget", "B0.3"}}, "method", "t");
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[0].label == "unif-sgd (mean of 2)");
  REQUIRE(c.series[0].xy.size() == 2);
  CHECK(c.series[0].xy[1].first == doctest::Approx(0.3));
  CHECK(c.series[0].xy[1].second == doctest::Approx(85.0));
  // "" selects points that lack the axis.
  Point plain{"x", json::object(), {{"method", "p-sgd"}}}, variant{"y", json::object(), {{"method", "p-sgd"}, {"variant", "noeps"}}};
  CHECK(matches(plain, {{"method", "p-sgd"}, {"variant", ""}}));
  CHECK_FALSE(matches(variant, {{"method", "p-sgd"}, {"variant", ""}}));
  CHECK(matches(variant, {{"variant", "noeps"}}));
  CHECK_FALSE(matches(plain, {{"variant", "noeps"}}));
  const auto b = bars(runs, {{"u", {{"method", "unif-sgd"}, {"budget", "B0.3"}}}}, Metric::Entropy);
  CHECK(b[0].mean == doctest::Approx(6.5));
  CHECK(b[0].std == doctest::Approx(0.0));
}

TEST_CASE("figures: gnuplot scripts with inline data, CSV always, SVG when gnuplot is there") {
  TempDir tmp("fig");
  CurvePlot plot{"curves \"quoted\"", "x", "y", {{"unif-SGD", {{0.1, 50}, {0.3, 60}}, {}}, {"p-SGD", {{0.3, 61}}, {}}}};
  const std::string gp = curves_script(plot, tmp.path / "c.svg");
  CHECK(gp.find("$s0 << EOD\n0.1 50\n0.3 60\nEOD") != std::string::npos);
  CHECK(gp.find("title \"unif-SGD\"") != std::string::npos);
  CHECK(gp.find("set title \"curves \\\"quoted\\\"\"") != std::string::npos);
  const FigureFiles c = write_curves(tmp.path / "c", plot);
  std::ifstream csv(c.csv);
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  CHECK(header == "series,x,y");
  CHECK(first == "unif-SGD,0.1,50");
  BarPanel panel{"acc", "%", {{"Random", 80, 1}, {"Core-set", 78, NAN}}, std::make_pair(90.0, std::string("full"))};
  const std::string bgp = bars_script("t", {panel}, tmp.path / "b.svg");
  CHECK(bgp.find("set multiplot layout 1,1") != std::string::npos);
  CHECK(bgp.find("1 \"Core-set\" 78 0") != std::string::npos);  // no std: no error bar
  CHECK(bgp.find("90 with lines dt 2") != std::string::npos);
  const FigureFiles b = write_bars(tmp.path / "b", "t", {panel});
  CHECK(fs::exists(b.gp));
  CHECK(fs::exists(b.csv));
  if (b.rendered) CHECK(fs::file_size(b.svg) > 0);
  else CHECK(b.note.find("gnuplot") != std::string::npos);
}

TEST_CASE("budget figures: accuracy against budget per method, mean +- std over seeds, one per other-axes group") {
  TempDir tmp("budgetfig");
  Grid g;
  g.axes = {method_axis({"unif-sgd", "p-sgd"}), budget_axis({0.2, 0.5}), seed_axis(2)};
  std::vector<RunRecord> runs;
  for (const Point& p : expand({g})) {
    const double acc = (p.labels.at("budget") == "B0.2" ? 0.6 : 0.8) + (p.labels.at("seed") == "s1" ? 0.02 : 0.0);
    runs.push_back({p, "completed", completed_result(p.config, acc, 10)});
  }
  const auto lines = write_budget_figures("table2", runs, tmp.path);
  REQUIRE(lines.size() == 1);
  std::ifstream csv(tmp.path / "table2-budget.csv");
  std::string header, line;
  std::getline(csv, header);
  CHECK(header == "series,x,y,err");
  std::vector<std::string> rows;
  while (std::getline(csv, line)) rows.push_back(line);
  REQUIRE(rows.size() == 4);
  // p-SGD (sorted by method name first) at B 0.2: mean of 60 and 62, std sqrt(2).
  CHECK(rows[0].rfind("p-SGD,0.2,61,1.414213", 0) == 0);
  CHECK(rows[3].rfind("unif-SGD,0.5,81,", 0) == 0);
  const std::string gp = curves_script(CurvePlot{"t", "x", "y", {{"a", {{0.2, 61}}, {1.4}}}}, tmp.path / "x.svg");
  CHECK(gp.find("0.2 61 1.4") != std::string::npos);
  CHECK(gp.find("using 1:2:3 with yerrorlines") != std::string::npos);
  // One budget only: nothing to draw.
  std::vector<RunRecord> one;
  for (const RunRecord& r : runs)
    if (r.point.labels.at("budget") == "B0.5") one.push_back(r);
  CHECK(write_budget_figures("table2", one, tmp.path / "one").empty());
}

TEST_CASE("run curves: from metrics.jsonl (a torn last line ignored), with N for the backward fraction") {
  TempDir tmp("runcurves");
  const fs::path d = tmp.path / "run-a";
  write(d / "config.json", R"({"method": "sb", "train_subset": 1000})");
  write(d / "metrics.jsonl",
        "{\"epoch\": 1, \"train_loss\": 2.0, \"train_accuracy\": 0.3, \"lr\": 0.1, \"counters\": "
        "{\"samples_backward\": 400}, \"test_accuracy\": 0.35}\n"
        "{\"epoch\": 2, \"train_loss\": 1.0, \"train_accuracy\": 0.6, \"lr\": 0.01, \"counters\": "
        "{\"samples_backward\": 700}}\n"
        "{\"epoch\": 3, \"train_lo");
  const RunCurves r = read_run_curves(d);
  CHECK(r.label == "run-a");
  CHECK(r.method == "sb");
  CHECK(r.train_size == 1000);
  REQUIRE(r.epochs.size() == 2);
  const std::vector<CurvePanel> panels = run_curve_panels({r});
  REQUIRE(panels.size() == 4);
  CHECK(panels[0].log_y);
  CHECK(panels[0].plot.series[0].xy == std::vector<std::pair<double, double>>{{1, 2.0}, {2, 1.0}});
  REQUIRE(panels[1].plot.series.size() == 2);  // training and test accuracy
  CHECK(panels[1].plot.series[1].xy == std::vector<std::pair<double, double>>{{1, 35.0}});
  CHECK(panels[3].plot.series[0].xy == std::vector<std::pair<double, double>>{{1, 0.4}, {2, 0.3}});
  const std::string gp = curve_panels_script("t", panels, tmp.path / "c.svg");
  CHECK(gp.find("set multiplot layout 4,1") != std::string::npos);
  CHECK(gp.find("set logscale y") != std::string::npos);
  const FigureFiles f = plot_runs({r, r}, tmp.path / "two");
  CHECK(fs::exists(f.csv));
  if (f.rendered) CHECK(fs::file_size(f.svg) > 1000);
  else CHECK(f.note.find("gnuplot") != std::string::npos);
  CHECK_THROWS_WITH_AS(read_run_curves(tmp.path / "nothing"), doctest::Contains("holds no run"), bts::Error);
  // An unreadable line before the last is not a torn write: the file is refused, by line.
  write(d / "metrics.jsonl", "{\"epoch\": 1, \"train_loss\": 2.0}\ngarbage\n{\"epoch\": 2, \"train_loss\": 1.0}\n");
  CHECK_THROWS_WITH_AS(read_run_curves(d), doctest::Contains("metrics.jsonl' line 2 is not a JSON object"), bts::Error);
}

TEST_CASE("Slurm script: array over the shards, the command, resumable") {
  SlurmOptions o;
  o.job_name = "table2";
  o.tasks = 8;
  o.time = "12:00:00";
  o.partition = "gpu";
  o.jobs_per_task = 3;
  const std::string s = slurm_script("/opt/bts/table2 --scale full --runs-root /scratch/r", o);
  CHECK(s.rfind("#!/bin/bash\n", 0) == 0);
  CHECK(s.find("#SBATCH --array=0-7\n") != std::string::npos);
  CHECK(s.find("#SBATCH --time=12:00:00\n") != std::string::npos);
  CHECK(s.find("#SBATCH --partition=gpu\n") != std::string::npos);
  CHECK(s.find("#SBATCH --gpus-per-task=1\n") != std::string::npos);
  CHECK(s.find("exec /opt/bts/table2 --scale full --runs-root /scratch/r --jobs 3 --shard \"${SLURM_ARRAY_TASK_ID}/8\"") !=
        std::string::npos);
  CHECK(s.find("--aggregate-only") != std::string::npos);
  // Four GPUs per task: the task places one run per GPU Slurm gives it.
  o.gpus_per_task = 4;
  o.jobs_per_task = 1;
  const std::string g = slurm_script("/opt/bts/table2 --scale full", o);
  CHECK(g.find("#SBATCH --gpus-per-task=4\n") != std::string::npos);
  CHECK(g.find("--jobs 1 --jobs-per-gpu 1 --shard") != std::string::npos);
  // Values that would break out of their #SBATCH line (a newline starts a shell command the job runs) are refused.
  o.time = "1:00\nrm -rf /";
  CHECK_THROWS_WITH_AS(slurm_script("/opt/bts/table2", o), doctest::Contains("--slurm-time"), bts::Error);
  o.time = "1:00";
  o.partition = "gpu #x";
  CHECK_THROWS_WITH_AS(slurm_script("/opt/bts/table2", o), doctest::Contains("--slurm-partition"), bts::Error);
  o.partition = "";
  CHECK(slurm_script("/opt/bts/table2", o).find("--partition") == std::string::npos);
  // The command also goes into a comment line: a line break in a quoted argument would end the comment.
  CHECK_THROWS_WITH_AS(slurm_script("/opt/bts/table2 --runs-root 'r\nid #'", o), doctest::Contains("line break"),
                       bts::Error);
  CHECK(shell_quote("plain/path-1.0") == "plain/path-1.0");
  CHECK(shell_quote("it's here") == "'it'\\''s here'");
}

TEST_CASE("the paper's numbers: transcribed tables and lookups") {
  std::map<std::string, int> per_table;
  for (const auto& e : paper_entries()) ++per_table[e.table];
  CHECK(per_table["table1"] == 30);   // 5 methods x 2 data sets x (accuracy, time, speed-up)
  CHECK(per_table["table2"] == 76);   // 4 full-training + 6 methods x 2 schedules x 2 data sets x 3 budgets
  CHECK(per_table["table3"] == 80);   // 4 augmentations x 2 data sets x (1 + 3 methods x 3 budgets)
  CHECK(per_table["table4"] == 28);   // 2 augmentations x (2 + 3 methods x (3 + 1) budgets)
  CHECK(per_table["table5"] == 24);
  CHECK(per_table["table6"] == 6);
  auto v = paper_value({"table2", "cifar100", "standard", "step", "sb", "0.3", "accuracy"});
  REQUIRE(v);
  CHECK(v->mean == 72.25);
  CHECK(*v->std == 0.68);
  v = paper_value({"table3", "cifar100", "ricap", "linear", "unif-sgd", "0.3", "accuracy"});
  REQUIRE(v);
  CHECK(v->mean == 76.65);
  v = paper_value({"table1", "cifar10", "standard", "step", "c-sgd", "0.7", "speedup"});
  REQUIRE(v);
  CHECK(v->mean == 29.08);
  CHECK_FALSE(v->std);
  v = paper_value({"table6", "cifar100", "ricap", "linear", "sb", "0.3", "minutes"});  // schedule "*" matches
  REQUIRE(v);
  CHECK(v->mean == 95);
  CHECK(paper_value({"table4", "svhn", "ricap", "linear", "sb", "0.5", "accuracy"})->mean == 97.45);
  CHECK(paper_value({"table5", "cifar10", "ricap", "linear", "sb", "0.05", "accuracy"})->mean == 44.93);
  CHECK_FALSE(paper_value({"table2", "cifar10", "standard", "step", "sb", "0.4", "accuracy"}));
  CHECK_FALSE(paper_value({"table4", "miniimagenet", "standard", "linear", "sb", "0.2", "accuracy"}));
}

TEST_CASE("sweep through a fake bts: runs, skips, failures, resume") {
  TempDir tmp("fake");
  // A stand-in for bts: writes a completed result.json with the config it was given, fails for p-sgd, and on
  // --resume copies config.json over.
  const fs::path fake = tmp.path / "fake_bts.sh";
  write(fake,
        "#!/bin/sh\n"
        "# args: train (--config F | --resume) --run-dir D --quiet, or check --configs F\n"
        "if [ \"$1\" = check ]; then exit 0; fi\n"
        "if [ \"$2\" = --resume ]; then d=$4; cfg=$(cat \"$d/config.json\"); echo resumed >> \"$d/resumed\"\n"
        "else d=$5; cfg=$(cat \"$3\"); fi\n"
        "case \"$cfg\" in *p-sgd*) echo 'bts: error: p-sgd is broken' >&2; exit 1;; esac\n"
        "echo \"{\\\"status\\\": \\\"completed\\\", \\\"final_test_accuracy\\\": 0.5, \\\"config\\\": $cfg}\" > \"$d/result.json\"\n");
  ::chmod(fake.c_str(), 0755);
  Grid g;
  g.axes = {method_axis({"unif-sgd", "p-sgd"}), seed_axis(2)};
  const std::vector<Point> pts = expand({g});
  const fs::path root = tmp.path / "runs";
  // One unif-sgd run was interrupted earlier: it has a checkpoint and its config.
  const fs::path interrupted = root / "unif-sgd-s1";
  write(interrupted / "checkpoint.bin", "x");
  write(interrupted / "config.json", run_config(pts[1], interrupted).dump());

  std::FILE* log = std::tmpfile();
  RunnerOptions o;
  o.bts = fake.string();
  o.jobs = 2;
  o.log = log;
  SweepSummary s = run_sweep(pts, root, o);
  CHECK(s.points == 4);
  CHECK(s.skipped == 0);
  CHECK(s.started == 3);
  CHECK(s.resumed == 1);
  CHECK(s.succeeded == 2);
  REQUIRE(s.failures.size() == 2);
  CHECK(s.failures[0].what == "exit status 1");
  CHECK(s.failures[0].last_lines.find("p-sgd is broken") != std::string::npos);
  CHECK(fs::exists(interrupted / "resumed"));
  CHECK(fs::exists(root / "unif-sgd-s0" / "point.json"));
  CHECK(fs::exists(root / "unif-sgd-s0" / "stdout.txt"));
  // Second sweep: the completed runs are skipped, the failed ones tried again.
  s = run_sweep(pts, root, o);
  CHECK(s.skipped == 2);
  CHECK(s.started == 2);
  CHECK(s.failures.size() == 2);
  std::fclose(log);
}

TEST_CASE("GPU placement: each run pinned to one GPU through CUDA_VISIBLE_DEVICES, never two on a GPU at once") {
  TempDir tmp("gpus");
  // A stand-in for bts that records the device it was handed and takes a lock directory per GPU while it "runs":
  // mkdir fails if another run holds that GPU, which it records as a clash.
  const fs::path fake = tmp.path / "fake_bts.sh";
  const fs::path locks = tmp.path / "locks";
  fs::create_directories(locks);
  write(fake,
        "#!/bin/sh\n"
        "if [ \"$1\" = check ]; then exit 0; fi\n"
        "d=$5; echo \"$CUDA_VISIBLE_DEVICES\" > \"$d/device\"\n"
        "if mkdir \"" + locks.string() + "/gpu$CUDA_VISIBLE_DEVICES\" 2>/dev/null; then\n"
        "  sleep 0.3; rmdir \"" + locks.string() + "/gpu$CUDA_VISIBLE_DEVICES\"\n"
        "else echo clash > \"$d/clash\"; fi\n"
        "echo \"{\\\"status\\\": \\\"completed\\\", \\\"final_test_accuracy\\\": 0.5, \\\"config\\\": $(cat \"$3\")}\" > \"$d/result.json\"\n");
  ::chmod(fake.c_str(), 0755);
  Grid g;
  g.axes = {method_axis({"unif-sgd", "p-sgd", "sb"}), seed_axis(2)};
  const std::vector<Point> pts = expand({g});
  std::FILE* log = std::tmpfile();
  RunnerOptions o;
  o.bts = fake.string();
  o.jobs = 1;
  o.log = log;
  o.gpus = {0, 1};
  o.jobs_per_gpu = 1;
  // This process sees GPUs "4,5" (as under Slurm): GPU 0 and 1 of those are the children's 4 and 5.
  const char* saved = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string saved_value = saved ? saved : "";
  ::setenv("CUDA_VISIBLE_DEVICES", "4,5", 1);
  const SweepSummary s = run_sweep(pts, tmp.path / "runs", o);
  if (saved) ::setenv("CUDA_VISIBLE_DEVICES", saved_value.c_str(), 1);
  else ::unsetenv("CUDA_VISIBLE_DEVICES");
  std::fclose(log);
  CHECK(s.succeeded == 6);
  std::map<std::string, int> per_device;
  for (const Point& p : pts) {
    const fs::path d = tmp.path / "runs" / p.name;
    std::ifstream f(d / "device");
    std::string dev;
    f >> dev;
    INFO(p.name << " got '" << dev << "'");
    CHECK((dev == "4" || dev == "5"));
    ++per_device[dev];
    CHECK_FALSE(fs::exists(d / "clash"));
  }
  CHECK(per_device["4"] >= 1);
  CHECK(per_device["5"] >= 1);
  CHECK(pinned_visible_devices(3, nullptr) == "3");
  CHECK(pinned_visible_devices(1, "GPU-aa,GPU-bb") == "GPU-bb");
  CHECK_THROWS_WITH_AS(pinned_visible_devices(2, "0,1"), doctest::Contains("not among the 2"), bts::Error);
  CHECK(parse_gpu_list("0,1,3") == std::vector<int>{0, 1, 3});
  CHECK(parse_gpu_list("").empty());
  CHECK_THROWS_WITH_AS(parse_gpu_list("0,,1"), doctest::Contains("expected GPU indices"), bts::Error);
  CHECK_THROWS_WITH_AS(parse_gpu_list("a"), doctest::Contains("expected GPU indices"), bts::Error);
}

TEST_CASE("sweep preflight: a failing `bts check` is one error, and nothing is spawned") {
  TempDir tmp("preflight");
  const fs::path fake = tmp.path / "fake_bts.sh";
  write(fake,
        "#!/bin/sh\n"
        "if [ \"$1\" = check ]; then echo 'bts: check: unif-sgd-s0: no data here' >&2; exit 1; fi\n"
        "touch \"$5.spawned\"; exit 0\n");
  ::chmod(fake.c_str(), 0755);
  Grid g;
  g.axes = {method_axis({"unif-sgd"}), seed_axis(2)};
  const fs::path root = tmp.path / "runs";
  std::FILE* log = std::tmpfile();
  RunnerOptions o;
  o.bts = fake.string();
  o.jobs = 2;
  o.log = log;
  CHECK_THROWS_WITH_AS(run_sweep(expand({g}), root, o), doctest::Contains("nothing was started"), bts::Error);
  CHECK_THROWS_WITH_AS(run_sweep(expand({g}), root, o), doctest::Contains("unif-sgd-s0: no data here"), bts::Error);
  for (const auto& e : fs::directory_iterator(root)) CHECK_MESSAGE(e.path().filename().string()[0] == '.', e.path());
  std::fclose(log);
}

}  // TEST_SUITE
