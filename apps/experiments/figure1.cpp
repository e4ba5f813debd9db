// Figure 1 of the paper: data variability, at budget 0.3 on CIFAR-10 (left) and CIFAR-100 (right).
// Top: test accuracy of a fixed core-set (the N B most forgotten samples of a full training, Toneva et al.), a
// fixed random subset and unif-SGD (a new uniform subset every epoch), against full training (dashed line).
// Bottom: entropy of the per-sample presentation counts for p-SGD variants: step LR without eps and averaging;
// linear LR without eps and averaging; without eps; p-SGD; p-SGD + RICAP. The paper gives this figure as bars
// only, so there are no paper numbers beside ours.
#include <cmath>

#include "experiments/app.h"
#include "experiments/tables.h"

using namespace bts::experiments;
using nlohmann::json;

namespace {

const std::vector<std::string> kDatasets = {"cifar10", "cifar100"};
const std::vector<std::string> kSubsetMethods = {"random-subset", "core-set", "unif-sgd"};

struct Variant {
  std::string label;   // run-name label ("variant" axis)
  std::string title;   // the paper's legend
  std::string schedule, augment;
  json importance;
};

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"noeps-noavg", "p-SGD, SLR, no eps, no average", "step", "standard", {{"eps", false}, {"averaging", false}}},
      {"noeps-noavg", "p-SGD, no eps, no average", "linear", "standard", {{"eps", false}, {"averaging", false}}},
      {"noeps", "p-SGD, no eps", "linear", "standard", {{"eps", false}}},
      {"", "p-SGD", "linear", "standard", json::object()},
      {"", "p-SGD + RICAP", "linear", "ricap", json::object()},
  };
  return v;
}

std::vector<Grid> grids(const Scale& s) {
  const Axis data = dataset_axis(s, kDatasets), seeds = seed_axis(s.seeds);
  std::vector<Grid> g = {
      Grid{s.base, {data, augment_axis({"standard"}), schedule_axis({"linear"}), method_axis({"sgd"}),
                    budget_axis({1.0}), seeds}},
      Grid{s.base, {data, augment_axis({"standard"}), schedule_axis({"linear"}), method_axis(kSubsetMethods),
                    budget_axis({0.3}), seeds}}};
  for (const Variant& v : variants()) {
    Grid grid{s.base, {data, augment_axis({v.augment}), schedule_axis({v.schedule}), method_axis({"p-sgd"}),
                       budget_axis({0.3})}};
    // Plain p-SGD keeps the name it has in the other tables (no variant label).
    if (!v.importance.empty()) grid.axes.push_back(Axis{"variant", {{v.label, {{"importance", v.importance}}}}});
    grid.axes.push_back(seeds);
    g.push_back(std::move(grid));
  }
  return g;
}

// A variant's runs. Plain p-SGD's have no variant label: the cells must then exclude the labelled variants, which
// share its data set, augmentation, schedule and method; matching on budget and augmentation alone would take them
// in, so plain p-SGD is told apart by the "variant" label being absent.
Where variant_where(const std::string& d, const Variant& v) {
  return {{"dataset", d}, {"augment", v.augment}, {"schedule", v.schedule}, {"method", "p-sgd"},
          {"variant", v.importance.empty() ? std::string() : v.label}};
}

Where subset_where(const std::string& d, const std::string& m) {
  return {{"dataset", d}, {"augment", "standard"}, {"schedule", "linear"}, {"method", m}};
}

std::vector<TableSpec> tables(const Scale& s) {
  TableSpec top{"figure1-top", "Figure 1 (top): test accuracy (%) at B = 0.3, linear LR", "", {}, {}};
  TableSpec bottom{"figure1-bottom", "Figure 1 (bottom): entropy (nats) of the sample counts at B = 0.3",
                   "The maximum is ln N (every sample presented equally often).", {}, {}};
  top.show_paper = bottom.show_paper = false;
  for (const auto& d : s.datasets(kDatasets)) {
    top.columns.push_back(dataset_title(d));
    bottom.columns.push_back(dataset_title(d));
  }
  for (const auto& m : kSubsetMethods) {
    RowSpec r{method_title(m), {}, false};
    for (const auto& d : s.datasets(kDatasets)) r.cells.push_back(make_cell(subset_where(d, m), Metric::Accuracy, {}));
    top.rows.push_back(r);
  }
  RowSpec full{"SGD (B = 1)", {}, false};
  for (const auto& d : s.datasets(kDatasets))
    full.cells.push_back(make_cell(subset_where(d, "sgd"), Metric::Accuracy, {}));
  top.rows.push_back(full);
  for (const Variant& v : variants()) {
    RowSpec r{v.title, {}, false};
    for (const auto& d : s.datasets(kDatasets)) r.cells.push_back(make_cell(variant_where(d, v), Metric::Entropy, {}));
    bottom.rows.push_back(r);
  }
  RowSpec unif{"unif-SGD (for reference)", {}, false};
  RowSpec max{"maximum, ln N", {}, false};
  for (const auto& d : s.datasets(kDatasets)) {
    unif.cells.push_back(make_cell(subset_where(d, "unif-sgd"), Metric::Entropy, {}));
    max.cells.push_back(make_cell(subset_where(d, "unif-sgd"), Metric::EntropyMax, {}));
  }
  bottom.rows.push_back(unif);
  bottom.rows.push_back(max);
  return {top, bottom};
}

std::vector<std::string> figures(const Scale& s, const std::vector<RunRecord>& runs, const std::filesystem::path& out) {
  std::vector<std::string> lines;
  for (const auto& d : s.datasets(kDatasets)) {
    std::vector<std::pair<std::string, Where>> top, bottom;
    for (const auto& m : kSubsetMethods) top.push_back({method_title(m), subset_where(d, m)});
    for (const Variant& v : variants()) bottom.push_back({v.title, variant_where(d, v)});
    BarPanel acc{"Test accuracy at B = 0.3", "test accuracy (%)", bars(runs, top, Metric::Accuracy), std::nullopt};
    const auto full = bars(runs, {{"full", subset_where(d, "sgd")}}, Metric::Accuracy);
    if (std::isfinite(full.front().mean)) acc.reference = std::make_pair(full.front().mean, std::string("full training (SGD)"));
    BarPanel ent{"Entropy of the sample counts at B = 0.3", "H(c) (nats)", bars(runs, bottom, Metric::Entropy),
                 std::nullopt};
    const auto hmax = bars(runs, {{"max", subset_where(d, "unif-sgd")}}, Metric::EntropyMax);
    if (std::isfinite(hmax.front().mean)) ent.reference = std::make_pair(hmax.front().mean, std::string("ln N"));
    const std::string title = "Figure 1: data variability, " + dataset_title(d);
    lines.push_back(figure_line(write_bars(out / ("figure1-" + d), title, {acc, ent}), title));
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  Experiment e{"figure1", "Figure 1: core-set vs random subset vs unif-SGD, and the entropy of p-SGD's sample counts",
               kDatasets, grids, tables, figures,
               "Core-set runs first train their selection run (full SGD recording forgetting events) in "
               "`<run>-selection` beside the run; its cost is reported in the run's result.json (`core_set`)."};
  return run_app(e, argc, argv);
}
