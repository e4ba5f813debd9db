// Table 4 of the paper: SVHN (budgets 0.2, 0.3, 0.5) and mini-ImageNet (budget 0.3), standard augmentation and
// RICAP (beta = 0.3): full training (SGD, B = 1), unif-SGD, p-SGD and SB. The paper does not name the LR schedule
// here; we use the linear one, as in Table 3. Quick scale: Fashion-MNIST (beside SVHN's numbers), budget 0.3.
#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"svhn", "miniimagenet"};
const std::vector<std::string> kAugments = {"standard", "ricap"};
const std::vector<std::string> kMethods = {"unif-sgd", "p-sgd", "sb"};

std::vector<double> budgets(const Scale& s, const std::string& paper_dataset) {
  if (s.quick || paper_dataset == "miniimagenet") return {0.3};
  return {0.2, 0.3, 0.5};
}

std::vector<Grid> grids(const Scale& s) {
  std::vector<Grid> g;
  const Axis aug = augment_axis(kAugments), sched = schedule_axis({"linear"});
  for (const auto& d : s.datasets(kDatasets)) {
    const Axis data = dataset_axis(s, {d});
    g.push_back(Grid{s.base, {data, aug, sched, method_axis({"sgd"}), budget_axis({1.0}), seed_axis(s.seeds)}});
    g.push_back(Grid{s.base, {data, aug, sched, method_axis(kMethods),
                              budget_axis(budgets(s, s.paper_dataset(d, kDatasets))), seed_axis(s.seeds)}});
  }
  return g;
}

std::vector<TableSpec> tables(const Scale& s) {
  std::vector<Column> cols;
  std::vector<bool> middle;
  for (const auto& d : s.datasets(kDatasets)) {
    const auto bs = budgets(s, s.paper_dataset(d, kDatasets));
    for (size_t k = 0; k < bs.size(); ++k) {
      cols.push_back({dataset_title(d) + " " + budget_text(bs[k]),
                      {{"dataset", d}, {"budget", budget_label(bs[k])}},
                      {"table4", s.paper_dataset(d, kDatasets), "", "linear", "", budget_text(bs[k])}});
      middle.push_back(bs.size() == 1 || k == 1);
    }
  }
  TableSpec t{"table4", "Table 4: SVHN and mini-ImageNet, test accuracy (%)",
              "SGD is the full training (B = 1). The paper does not state this table's LR schedule; these runs use "
              "the linear one.",
              {}, {}};
  for (const auto& c : cols) t.columns.push_back(c.title);
  for (const auto& a : kAugments) {
    t.rows.push_back(section_row(augment_title(a)));
    std::vector<Column> ac = cols;
    for (auto& c : ac) {
      c.where["augment"] = a;
      c.paper.augment = a;
    }
    t.rows.push_back(full_training_row("SGD (B = 1)", ac, [&](size_t i) { return middle[i]; }));
    for (const auto& m : kMethods) t.rows.push_back(method_row(method_title(m), m, ac));
  }
  return {t};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<CurveSpec> specs;
  for (const auto& d : s.datasets(kDatasets))
    for (const auto& a : kAugments)
      specs.push_back({"table4-curves-" + d + "-" + a + "-B0.3",
                       dataset_title(d) + ", " + a + " augmentation, B = 0.3: test accuracy during training",
                       {{"dataset", d}, {"augment", a}, {"budget", "B0.3"}}, "method"});
  return write_curve_figures(specs, runs, out);
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table4", "Table 4: budgeted importance sampling and RICAP on SVHN and mini-ImageNet", kDatasets,
               grids, tables, figures, ""};
  return run_app(e, argc, argv);
}
