// Table 1 of the paper: budget-free training on CIFAR-10/100: SGD, p-SGD and c-SGD (70 of 200 warm-up epochs
// uniform; budgets 0.8 / 0.7 on CIFAR-10 and 0.9 on CIFAR-100, the ones that kept most accuracy), SB and OSGD
// (their papers' settings: SB beta = 3 scoring every sample every epoch; OSGD's adaptive q), step-wise LR.
// Accuracy, training time (wall clock without the test-set evaluations) and speed-up with respect to SGD.
#include <cmath>

#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"cifar10", "cifar100"};
const std::vector<std::string> kMethods = {"sgd", "p-sgd", "c-sgd", "sb", "osgd"};

double budget_for(const std::string& paper_dataset, const std::string& method) {
  if (method == "p-sgd") return paper_dataset == "cifar10" ? 0.8 : 0.9;
  if (method == "c-sgd") return paper_dataset == "cifar10" ? 0.7 : 0.9;
  return 1.0;
}

// The paper's 70 warm-up epochs of 200, scaled to this scale's T.
int64_t warmup(const Scale& s) { return std::llround(s.base.value("epochs", 200) * 70.0 / 200.0); }

// p-/c-SGD's warm-up and SB's beta are not the defaults: an extra axis puts them in the run name. SGD and OSGD
// have none, so their runs are named (and can be shared) as in the other tables.
std::vector<Axis> setting_axes(const Scale& s, const std::string& method) {
  if (method == "p-sgd" || method == "c-sgd")
    return {{"setting", {{"w" + std::to_string(warmup(s)), {{"importance", {{"warmup_epochs", warmup(s)}}}}}}}};
  if (method == "sb") return {{"setting", {{"beta3", {{"sb", {{"beta", 3.0}}}}}}}};
  return {};
}

std::vector<Grid> grids(const Scale& s) {
  std::vector<Grid> g;
  for (const auto& d : s.datasets(kDatasets))
    for (const auto& m : kMethods) {
      Grid grid{s.base, {dataset_axis(s, {d}), augment_axis({"standard"}), schedule_axis({"step"}), method_axis({m}),
                         budget_axis({budget_for(s.paper_dataset(d, kDatasets), m)})}};
      for (Axis& a : setting_axes(s, m)) grid.axes.push_back(std::move(a));
      grid.axes.push_back(seed_axis(s.seeds));
      g.push_back(std::move(grid));
    }
  return g;
}

std::vector<TableSpec> tables(const Scale& s) {
  TableSpec t{"table1",
              "Table 1: test accuracy (%), training time (min) and speed-up with respect to SGD, budget-free",
              "Time: wall clock of the run without its test-set evaluations. Speed-up: 1 - time / SGD's time, from "
              "the mean times. Budgets: p-SGD " +
                  budget_text(budget_for("cifar10", "p-sgd")) + " / c-SGD " + budget_text(budget_for("cifar10", "c-sgd")) +
                  " on CIFAR-10 (and Fashion-MNIST), 0.9 on CIFAR-100; uniform sampling during the first " +
                  std::to_string(warmup(s)) + " of " + std::to_string(s.base.value("epochs", 200)) +
                  " epochs (the paper: 70 of 200). SB: beta = 3.",
              {},
              {}};
  for (const auto& d : s.datasets(kDatasets))
    for (const char* what : {"accuracy", "time (min)", "speed-up"}) t.columns.push_back(dataset_title(d) + " " + what);
  for (const auto& m : kMethods) {
    RowSpec row{method_title(m), {}, false};
    for (const auto& d : s.datasets(kDatasets)) {
      const std::string pd = s.paper_dataset(d, kDatasets);
      const std::string b = budget_text(budget_for(pd, m));
      const Where where = {{"dataset", d}, {"method", m}};
      PaperQuery q{"table1", pd, "standard", "step", m, b, "accuracy"};
      row.cells.push_back(make_cell(where, Metric::Accuracy, q));
      q.metric = "minutes";
      row.cells.push_back(make_cell(where, Metric::TrainMinutes, q));
      q.metric = "speedup";
      CellSpec speed = make_cell(where, Metric::Speedup, q);
      speed.reference = {{"dataset", d}, {"method", "sgd"}};
      row.cells.push_back(speed);
    }
    t.rows.push_back(row);
  }
  return {t};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<CurveSpec> specs;
  for (const auto& d : s.datasets(kDatasets))
    specs.push_back({"table1-curves-" + d, dataset_title(d) + ", budget-free: test accuracy during training",
                     {{"dataset", d}}, "method"});
  return write_curve_figures(specs, runs, out);
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table1", "Table 1: budget-free training with importance sampling (accuracy, time, speed-up)",
               kDatasets, grids, tables, figures, ""};
  return run_app(e, argc, argv);
}
