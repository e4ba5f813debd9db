// Aggregation: every point's result.json, grouped over the seed axis into mean +- sample std, cell by cell of a
// table laid out like the paper's (report.h renders it as Markdown and CSV), plus the series behind the figures.
// A cell knows how many of its runs it has, so missing or failed runs show up instead of vanishing.
#pragma once
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/figures.h"
#include "experiments/grid.h"
#include "experiments/paper_numbers.h"

namespace bts::experiments {

// One point and what its run directory holds.
struct RunRecord {
  Point point;
  std::string status;     // "completed"; "missing" (never started); "incomplete" (started, no result: failed or
                          // interrupted); "conflict" (a result of another config); or result.json's own status
  nlohmann::json result;  // result.json when completed
  bool completed() const { return status == "completed"; }
};

std::vector<RunRecord> load_runs(const std::vector<Point>& points, const std::filesystem::path& runs_root);

// Selects points by axis labels: every (axis, label) must match; a label "" selects points without that axis.
using Where = std::map<std::string, std::string>;
bool matches(const Point& p, const Where& where);

enum class Metric {
  Accuracy,          // final_test_accuracy, in %
  BestAccuracy,      // best_test_accuracy, in %
  Minutes,           // wall_clock_seconds / 60
  TrainMinutes,      // (wall_clock_seconds - phase_seconds.evaluation) / 60: training alone
  Entropy,           // sample_count_entropy (nats)
  EntropyMax,        // sample_count_entropy_max = ln N
  BackwardFraction,  // budget_spent.backward_fraction_of_full
  Speedup,           // 100 (1 - train minutes / those of the reference cell), from the means
};
const char* metric_name(Metric m);
std::optional<double> metric_value(const nlohmann::json& result, Metric m);  // any metric but Speedup

struct Stat {
  int n = 0;          // runs with a value
  int expected = 0;   // runs the cell selects
  double mean = NAN;
  double std = NAN;   // sample standard deviation (n - 1); NaN when n < 2
};
Stat summarize(const std::vector<double>& values, int expected);

struct CellSpec {
  Where where;
  Metric metric = Metric::Accuracy;
  std::optional<PaperEntry> paper;
  Where reference;  // Speedup only: the cell whose minutes are 0% speed-up
};

struct RowSpec {
  std::string label;
  std::vector<std::optional<CellSpec>> cells;  // nullopt: an empty cell (as in the paper)
  bool section = false;                        // a heading row spanning the table
};

struct TableSpec {
  std::string id;          // file-name stem and CSV key
  std::string title;
  std::string note;        // printed under the table
  std::vector<std::string> columns;
  std::vector<RowSpec> rows;
  std::string paper_label = "paper";  // header of the paper's columns
  bool show_paper = true;
};

struct CellResult {
  Stat ours;
  std::optional<PaperEntry> paper;
  Metric metric = Metric::Accuracy;
};

struct TableResult {
  TableSpec spec;
  std::vector<std::vector<std::optional<CellResult>>> cells;  // [row][column]
  std::vector<std::string> lacking;  // names of runs the table uses that are not completed
  int used = 0;                      // distinct runs the table uses
};

TableResult evaluate(const TableSpec& spec, const std::vector<RunRecord>& runs);

// Mean test accuracy (%) against the fraction of the full training's backward passes, one series per label of
// `series_axis` among the completed runs matching `where` (seeds averaged point by point); `rename` turns a label
// into the legend's text.
CurvePlot learning_curves(const std::vector<RunRecord>& runs, const Where& where, const std::string& series_axis,
                          const std::string& title,
                          const std::function<std::string(const std::string&)>& rename = nullptr);

// Bars of one metric, one bar per (label, where), mean +- std over seeds.
std::vector<Bar> bars(const std::vector<RunRecord>& runs, const std::vector<std::pair<std::string, Where>>& which,
                      Metric metric);

}  // namespace bts::experiments
