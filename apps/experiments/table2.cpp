// Table 2 of the paper: test accuracy of scan-SGD, unif-SGD, p-SGD, c-SGD, SB and OSGD at budgets 0.2, 0.3 and
// 0.5 with the step-wise (SLR) and the linear (LLR) budget-aware LR schedule, on CIFAR-10 and CIFAR-100, beside
// full training (SGD) with each schedule. Quick scale: Fashion-MNIST, budget 0.3 only.
#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"cifar10", "cifar100"};
const std::vector<std::string> kMethods = {"scan-sgd", "unif-sgd", "p-sgd", "c-sgd", "sb", "osgd"};

std::vector<double> budgets(const Scale& s) {
  if (s.quick) return {0.3};
  return {0.2, 0.3, 0.5};
}

std::vector<Grid> grids(const Scale& s) {
  const Axis data = dataset_axis(s, kDatasets), aug = augment_axis({"standard"}),
             sched = schedule_axis({"step", "linear"});
  return {Grid{s.base, {data, aug, sched, method_axis({"sgd"}), budget_axis({1.0}), seed_axis(s.seeds)}},
          Grid{s.base, {data, aug, sched, method_axis(kMethods), budget_axis(budgets(s)), seed_axis(s.seeds)}}};
}

std::vector<TableSpec> tables(const Scale& s) {
  std::vector<Column> cols;
  for (const auto& d : s.datasets(kDatasets))
    for (double b : budgets(s))
      cols.push_back({dataset_title(d) + " " + budget_text(b),
                      {{"dataset", d}, {"budget", budget_label(b)}},
                      {"table2", s.paper_dataset(d, kDatasets), "standard", "", "", budget_text(b)}});
  // The full-training rows stand in the middle budget's column, as the paper centres them.
  auto middle = [&](size_t i) { return budgets(s).size() == 1 || i % budgets(s).size() == 1; };
  TableSpec t{"table2", "Table 2: test accuracy (%) with a step-wise and a linear LR decay under different budgets",
              "Note that SB does additional forward passes (scoring) that the budget does not count.", {}, {}};
  for (const auto& c : cols) t.columns.push_back(c.title);
  for (const std::string sched : {"step", "linear"}) {
    std::vector<Column> sc = cols;
    for (auto& c : sc) {
      c.where["schedule"] = sched;
      c.paper.schedule = sched;
    }
    t.rows.push_back(full_training_row(std::string("SGD - ") + (sched == "step" ? "SLR" : "LLR") + " (B = 1)", sc, middle));
  }
  for (const std::string sched : {"step", "linear"}) {
    t.rows.push_back(section_row(sched == "step" ? "Step-wise decay of the learning rate (SLR)"
                                                 : "Linear decay of the learning rate (LLR)"));
    std::vector<Column> sc = cols;
    for (auto& c : sc) {
      c.where["schedule"] = sched;
      c.paper.schedule = sched;
    }
    for (const auto& m : kMethods) t.rows.push_back(method_row(method_title(m), m, sc));
  }
  return {t};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<CurveSpec> specs;
  for (const auto& d : s.datasets(kDatasets))
    for (const std::string sched : {"step", "linear"})
      specs.push_back({"table2-curves-" + d + "-" + sched + "-B0.3",
                       dataset_title(d) + ", " + sched + " LR, B = 0.3: test accuracy during training",
                       {{"dataset", d}, {"schedule", sched}, {"budget", "B0.3"}},
                       "method"});
  return write_curve_figures(specs, runs, out);
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table2", "Table 2: budgeted training with step-wise and linear LR decay", kDatasets, grids, tables,
               figures, ""};
  return run_app(e, argc, argv);
}
