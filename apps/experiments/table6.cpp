// Table 6 of the paper (appendix B): wall-clock time (minutes) on CIFAR-100 at budget 0.3 for unif-SGD, p-SGD and
// SB, with standard augmentation and with RICAP. Our time excludes the test-set evaluations (the paper does not
// say whether its times include them); the test accuracy is shown too.
#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;

namespace {

const std::vector<std::string> kDatasets = {"cifar100"};
const std::vector<std::string> kAugments = {"standard", "ricap"};
const std::vector<std::string> kMethods = {"unif-sgd", "p-sgd", "sb"};

std::vector<Grid> grids(const Scale& s) {
  return {Grid{s.base,
               {dataset_axis(s, kDatasets), augment_axis(kAugments), schedule_axis({"linear"}), method_axis(kMethods),
                budget_axis({0.3}), seed_axis(s.seeds)}}};
}

std::vector<TableSpec> tables(const Scale& s) {
  const std::string d = s.datasets(kDatasets).front();
  TableSpec minutes{"table6", "Table 6: training wall-clock time (minutes) on " + dataset_title(d) + " at B = 0.3",
                    "Wall clock of each run without its test-set evaluations; the paper's times are on a GTX 1080 Ti.",
                    {}, {}};
  TableSpec accuracy{"table6-accuracy", "Table 6 (companion): test accuracy (%) of the same runs", "", {}, {}};
  accuracy.show_paper = false;
  for (const auto& m : kMethods) {
    minutes.columns.push_back(method_title(m));
    accuracy.columns.push_back(method_title(m));
  }
  for (const auto& a : kAugments) {
    RowSpec tm{a == "standard" ? "Standard data augmentation" : "RICAP", {}, false};
    RowSpec ta = tm;
    for (const auto& m : kMethods) {
      const Where where = {{"dataset", d}, {"augment", a}, {"method", m}};
      tm.cells.push_back(make_cell(where, Metric::TrainMinutes,
                                   PaperQuery{"table6", s.paper_dataset(d, kDatasets), a, "linear", m, "0.3", "minutes"}));
      ta.cells.push_back(make_cell(where, Metric::Accuracy, std::nullopt));
    }
    minutes.rows.push_back(tm);
    accuracy.rows.push_back(ta);
  }
  return {minutes, accuracy};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  const std::string d = s.datasets(kDatasets).front();
  std::vector<BarPanel> panels;
  for (const auto& a : kAugments) {
    std::vector<std::pair<std::string, Where>> which;
    for (const auto& m : kMethods) which.push_back({method_title(m), {{"dataset", d}, {"augment", a}, {"method", m}}});
    panels.push_back({a == "standard" ? "Standard data augmentation" : "RICAP", "minutes (training only)",
                      bars(runs, which, Metric::TrainMinutes), std::nullopt});
  }
  const std::string title = dataset_title(d) + ", B = 0.3: wall-clock time";
  return {figure_line(write_bars(out / "table6-time", title, panels), title)};
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"table6", "Table 6: wall-clock time on CIFAR-100 at B = 0.3", kDatasets, grids, tables, figures, ""};
  return run_app(e, argc, argv);
}
