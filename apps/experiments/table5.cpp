// Table 5 of the paper (appendix A): extreme budgets 0.05 and 0.1 on CIFAR-10/100, standard augmentation and
// RICAP (beta = 0.3), unif-SGD, p-SGD and SB. Schedule not named in the paper; linear here, as in Table 3.
#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"cifar10", "cifar100"};
const std::vector<std::string> kAugments = {"standard", "ricap"};
const std::vector<std::string> kMethods = {"unif-sgd", "p-sgd", "sb"};
const std::vector<double> kBudgets = {0.05, 0.1};

std::vector<Grid> grids(const Scale& s) {
  return {Grid{s.base,
               {dataset_axis(s, kDatasets), augment_axis(kAugments), schedule_axis({"linear"}), method_axis(kMethods),
                budget_axis(kBudgets), seed_axis(s.seeds)}}};
}

std::vector<TableSpec> tables(const Scale& s) {
  std::vector<Column> cols;
  for (const auto& d : s.datasets(kDatasets))
    for (double b : kBudgets)
      cols.push_back({dataset_title(d) + " " + budget_text(b),
                      {{"dataset", d}, {"budget", budget_label(b)}},
                      {"table5", s.paper_dataset(d, kDatasets), "", "linear", "", budget_text(b)}});
  TableSpec t{"table5", "Table 5: test accuracy (%) under extreme budgets",
              "The paper does not state this table's LR schedule; these runs use the linear one.", {}, {}};
  for (const auto& c : cols) t.columns.push_back(c.title);
  for (const auto& a : kAugments) {
    t.rows.push_back(section_row(augment_title(a)));
    std::vector<Column> ac = cols;
    for (auto& c : ac) {
      c.where["augment"] = a;
      c.paper.augment = a;
    }
    for (const auto& m : kMethods) t.rows.push_back(method_row(method_title(m), m, ac));
  }
  return {t};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<CurveSpec> specs;
  for (const auto& d : s.datasets(kDatasets))
    for (double b : kBudgets)
      specs.push_back({"table5-curves-" + d + "-standard-" + budget_label(b),
                       dataset_title(d) + ", standard augmentation, B = " + budget_text(b) +
                           ": test accuracy during training",
                       {{"dataset", d}, {"augment", "standard"}, {"budget", budget_label(b)}}, "method"});
  return write_curve_figures(specs, runs, out);
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table5", "Table 5: extreme budgets (0.05, 0.1) on CIFAR-10/100", kDatasets, grids, tables, figures, ""};
  return run_app(e, argc, argv);
}
