// What an experiment app defines (its grid, tables and figures at a given scale) and the vocabulary every app
// shares: one axis helper per paper concept, with the same labels in every app, so a run directory name means
// the same thing wherever it appears (and apps may share a --runs-root to reuse each other's runs).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/aggregate.h"
#include "experiments/grid.h"

namespace bts::experiments {

// Full: the paper's grid on its data sets (ResNet-18 width 1, T = 200, batch 128, all data, 3 seeds).
// Quick: Fashion-MNIST on the CPU, reduced width, data and epochs, 2 seeds, a reduced grid where needed; for
// checking the pipeline end to end in minutes, not for comparing numbers with the paper.
struct Scale {
  bool quick = false;
  int seeds = 3;
  std::string data_root;        // --data-dir: a data set X is read from <root>/X when it exists, else <root>
  nlohmann::json base;          // config every point starts from (epochs, width, subsets, device, ...)
  const char* name() const { return quick ? "quick" : "full"; }
  // The data sets to run: the paper's at full scale, Fashion-MNIST at quick scale.
  std::vector<std::string> datasets(const std::vector<std::string>& paper) const;
  // The paper data set whose numbers stand beside a run data set's (Fashion-MNIST: the first paper data set).
  std::string paper_dataset(const std::string& dataset, const std::vector<std::string>& paper) const;
};

// Quick scale's Fashion-MNIST settings, in one place (EXPERIMENTS.md quotes them).
struct QuickSettings {
  static constexpr double width = 0.0625;
  static constexpr int train_subset = 512;
  static constexpr int test_subset = 256;
  static constexpr int epochs = 4;
  static constexpr int batch_size = 16;  // more steps from few samples; budget 0.05 still fills a batch
  static constexpr int seeds = 2;
};

struct Experiment {
  std::string name;   // app and file name: table1 .. table6, figure1
  std::string title;  // the paper's caption, shortened
  std::vector<std::string> paper_datasets;
  std::function<std::vector<Grid>(const Scale&)> grids;
  std::function<std::vector<TableSpec>(const Scale&)> tables;
  // Writes figures under `out` (stem <name>-...); returns one line per figure for the report.
  std::function<std::vector<std::string>(const Scale&, const std::vector<RunRecord>&, const std::filesystem::path& out)>
      figures;
  // Printed under the tables.
  std::string notes;
};

// The shared axes. Labels: data set and method names as in the config; budgets "B0.3"; schedules "step" /
// "linear"; augmentations "standard", "randaugment", "mixup", "ricap" (the paper's settings, Tables 3-5).
Axis dataset_axis(const Scale& scale, const std::vector<std::string>& paper);
Axis method_axis(const std::vector<std::string>& methods);
Axis budget_axis(const std::vector<double>& budgets);
Axis schedule_axis(const std::vector<std::string>& schedules);
Axis augment_axis(const std::vector<std::string>& augments);
std::string budget_label(double b);          // 0.3 -> "B0.3", 1 -> "B1"
std::string budget_text(double b);           // 0.3 -> "0.3" (as the paper writes it)
nlohmann::json augment_patch(const std::string& augment);

// Learning curves (test accuracy against the fraction of full training spent), one figure per spec.
struct CurveSpec {
  std::string stem;         // file stem under the runs root: <app>-curves-...
  std::string title;
  Where where;              // which runs
  std::string series_axis;  // one curve per label of this axis
};
// Writes the figures; one report line each ("`x.svg`: title", or why it was not rendered).
std::vector<std::string> write_curve_figures(const std::vector<CurveSpec>& specs, const std::vector<RunRecord>& runs,
                                             const std::filesystem::path& out);
// Accuracy against budget, one figure per combination of the other axes (data set, schedule, augmentation, ...)
// that has runs at two or more budgets: one line per method, mean +- std over seeds (stem <app>-budget-...).
std::vector<std::string> write_budget_figures(const std::string& app, const std::vector<RunRecord>& runs,
                                              const std::filesystem::path& out);
// The report line for one written figure.
std::string figure_line(const FigureFiles& f, const std::string& title);

// Human names for table rows.
std::string method_title(const std::string& method);    // "unif-SGD", "p-SGD", "SB", ...
std::string dataset_title(const std::string& dataset);  // "CIFAR-10", "Fashion-MNIST", ...
std::string augment_title(const std::string& augment);  // "RandAugment (N = 2, M = 4)", ...

}  // namespace bts::experiments
