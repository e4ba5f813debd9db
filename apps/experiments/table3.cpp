// Table 3 of the paper: data augmentation under a budget on CIFAR-10/100 (linear LR): standard, RandAugment
// (N = 2, M = 4), mixup (alpha = 0.3) and RICAP (beta = 0.3), each with full training (SGD, B = 1) and unif-SGD,
// p-SGD and SB at budgets 0.2, 0.3, 0.5. Quick scale: Fashion-MNIST, budget 0.3 only.
#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"cifar10", "cifar100"};
const std::vector<std::string> kAugments = {"standard", "randaugment", "mixup", "ricap"};
const std::vector<std::string> kMethods = {"unif-sgd", "p-sgd", "sb"};

std::vector<double> budgets(const Scale& s) {
  if (s.quick) return {0.3};
  return {0.2, 0.3, 0.5};
}

std::vector<Grid> grids(const Scale& s) {
  const Axis data = dataset_axis(s, kDatasets), aug = augment_axis(kAugments), sched = schedule_axis({"linear"});
  return {Grid{s.base, {data, aug, sched, method_axis({"sgd"}), budget_axis({1.0}), seed_axis(s.seeds)}},
          Grid{s.base, {data, aug, sched, method_axis(kMethods), budget_axis(budgets(s)), seed_axis(s.seeds)}}};
}

std::vector<TableSpec> tables(const Scale& s) {
  std::vector<Column> cols;
  for (const auto& d : s.datasets(kDatasets))
    for (double b : budgets(s))
      cols.push_back({dataset_title(d) + " " + budget_text(b),
                      {{"dataset", d}, {"budget", budget_label(b)}},
                      {"table3", s.paper_dataset(d, kDatasets), "", "linear", "", budget_text(b)}});
  auto middle = [&](size_t i) { return budgets(s).size() == 1 || i % budgets(s).size() == 1; };
  TableSpec t{"table3", "Table 3: data augmentation for budgeted importance sampling, test accuracy (%), linear LR",
              "SGD is the full training (B = 1).", {}, {}};
  for (const auto& c : cols) t.columns.push_back(c.title);
  for (const auto& a : kAugments) {
    t.rows.push_back(section_row(augment_title(a)));
    std::vector<Column> ac = cols;
    for (auto& c : ac) {
      c.where["augment"] = a;
      c.paper.augment = a;
    }
    t.rows.push_back(full_training_row("SGD (B = 1)", ac, middle));
    for (const auto& m : kMethods) t.rows.push_back(method_row(method_title(m), m, ac));
  }
  return {t};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<CurveSpec> specs;
  for (const auto& d : s.datasets(kDatasets))
    specs.push_back({"table3-curves-" + d + "-unif-sgd-B0.3",
                     dataset_title(d) + ", unif-SGD, B = 0.3: test accuracy by augmentation",
                     {{"dataset", d}, {"method", "unif-sgd"}, {"budget", "B0.3"}}, "augment"});
  return write_curve_figures(specs, runs, out);
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table3", "Table 3: data augmentation for budgeted importance sampling (CIFAR)", kDatasets, grids,
               tables, figures, ""};
  return run_app(e, argc, argv);
}
