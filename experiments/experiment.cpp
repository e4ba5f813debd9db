#include "experiments/experiment.h"

#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "kernels/common/check.h"

namespace bts::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::string> Scale::datasets(const std::vector<std::string>& paper) const {
  if (quick) return {"fashion-mnist"};
  return paper;
}

std::string Scale::paper_dataset(const std::string& dataset, const std::vector<std::string>& paper) const {
  if (dataset == "fashion-mnist" && !paper.empty()) return paper.front();
  return dataset;
}

Axis dataset_axis(const Scale& scale, const std::vector<std::string>& paper) {
  Axis a{"dataset", {}};
  for (const std::string& d : scale.datasets(paper)) {
    json patch = {{"dataset", d}};
    if (!scale.data_root.empty()) {
      const fs::path own = fs::path(scale.data_root) / d;
      patch["data_dir"] = fs::is_directory(own) ? own.string() : scale.data_root;
    }
    a.values.push_back({d, patch});
  }
  return a;
}

Axis method_axis(const std::vector<std::string>& methods) {
  Axis a{"method", {}};
  for (const std::string& m : methods) a.values.push_back({m, {{"method", m}}});
  return a;
}

std::string budget_text(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", b);
  return buf;
}

std::string budget_label(double b) { return "B" + budget_text(b); }

Axis budget_axis(const std::vector<double>& budgets) {
  Axis a{"budget", {}};
  for (double b : budgets) a.values.push_back({budget_label(b), {{"budget", b}}});
  return a;
}

Axis schedule_axis(const std::vector<std::string>& schedules) {
  Axis a{"schedule", {}};
  for (const std::string& s : schedules) a.values.push_back({s, {{"lr", {{"schedule", s}}}}});
  return a;
}

json augment_patch(const std::string& augment) {
  // The paper's settings (Table 3's caption and Section 4.5).
  if (augment == "standard") return json::object();
  if (augment == "randaugment") return {{"augment", {{"randaugment_n", 2}, {"randaugment_m", 4}}}};
  if (augment == "mixup") return {{"augment", {{"mixup_alpha", 0.3}}}};
  if (augment == "ricap") return {{"augment", {{"ricap_beta", 0.3}}}};
  BTS_FAIL("unknown augmentation '" << augment << "'; known: standard, randaugment, mixup, ricap");
}

Axis augment_axis(const std::vector<std::string>& augments) {
  Axis a{"augment", {}};
  for (const std::string& g : augments) a.values.push_back({g, augment_patch(g)});
  return a;
}

std::string method_title(const std::string& m) {
  static const std::map<std::string, std::string> names = {
      {"sgd", "SGD"},         {"scan-sgd", "scan-SGD"}, {"unif-sgd", "unif-SGD"},   {"p-sgd", "p-SGD"},
      {"c-sgd", "c-SGD"},     {"sb", "SB"},             {"osgd", "OSGD"},           {"core-set", "Core-set"},
      {"random-subset", "Random"}};
  auto it = names.find(m);
  return it == names.end() ? m : it->second;
}

std::string dataset_title(const std::string& d) {
  static const std::map<std::string, std::string> names = {{"cifar10", "CIFAR-10"},
                                                           {"cifar100", "CIFAR-100"},
                                                           {"svhn", "SVHN"},
                                                           {"miniimagenet", "mini-ImageNet"},
                                                           {"fashion-mnist", "Fashion-MNIST"}};
  auto it = names.find(d);
  return it == names.end() ? d : it->second;
}

std::string augment_title(const std::string& a) {
  if (a == "standard") return "Standard data augmentation";
  if (a == "randaugment") return "RandAugment data augmentation (N = 2, M = 4)";
  if (a == "mixup") return "mixup data augmentation (alpha = 0.3)";
  if (a == "ricap") return "RICAP data augmentation (beta = 0.3)";
  return a;
}

std::string figure_line(const FigureFiles& f, const std::string& title) {
  if (f.rendered) return "`" + f.svg.filename().string() + "`: " + title + " (data: `" + f.csv.filename().string() + "`)";
  return "`" + f.gp.filename().string() + "`: " + title + " -- not rendered: " + f.note;
}

std::vector<std::string> write_curve_figures(const std::vector<CurveSpec>& specs, const std::vector<RunRecord>& runs,
                                             const fs::path& out) {
  std::vector<std::string> lines;
  for (const CurveSpec& c : specs) {
    auto rename = [&](const std::string& label) {
      if (c.series_axis == "method") return method_title(label);
      if (c.series_axis == "dataset") return dataset_title(label);
      return label;
    };
    const FigureFiles f = write_curves(out / c.stem, learning_curves(runs, c.where, c.series_axis, c.title, rename));
    lines.push_back(figure_line(f, c.title));
  }
  return lines;
}

std::vector<std::string> write_budget_figures(const std::string& app, const std::vector<RunRecord>& runs,
                                              const fs::path& out) {
  // group (the other axes' labels) -> method -> budget -> accuracies over seeds
  std::map<std::map<std::string, std::string>, std::map<std::string, std::map<double, std::vector<double>>>> groups;
  for (const RunRecord& r : runs) {
    const auto& l = r.point.labels;
    if (!r.completed() || !l.count("budget") || !l.count("method")) continue;
    const std::string& b = l.at("budget");
    if (b.size() < 2 || b[0] != 'B') continue;
    const std::optional<double> acc = metric_value(r.result, Metric::Accuracy);
    if (!acc) continue;
    std::map<std::string, std::string> key;
    for (const auto& [axis, label] : l)
      if (axis != "budget" && axis != "method" && axis != kSeedAxis) key[axis] = label;
    groups[key][l.at("method")][std::stod(b.substr(1))].push_back(*acc);
  }
  std::vector<std::string> lines;
  for (const auto& [key, methods] : groups) {
    std::set<double> budgets;
    for (const auto& m : methods)
      for (const auto& b : m.second) budgets.insert(b.first);
    if (budgets.size() < 2) continue;  // nothing to draw against
    std::string stem = app + "-budget", what;
    for (const auto& [axis, label] : key) {
      stem += "-" + label;
      what += (what.empty() ? "" : ", ") + (axis == "dataset" ? dataset_title(label) : label);
    }
    CurvePlot plot{app + ": test accuracy against budget" + (what.empty() ? "" : " (" + what + ")"), "budget B",
                   "test accuracy (%)", {}};
    for (const auto& [method, by_budget] : methods) {
      Series s{method_title(method), {}, {}};
      for (const auto& [budget, values] : by_budget) {
        const Stat st = summarize(values, static_cast<int>(values.size()));
        s.xy.emplace_back(budget, st.mean);
        s.err.push_back(st.std);
      }
      plot.series.push_back(std::move(s));
    }
    lines.push_back(figure_line(write_curves(out / stem, plot), plot.title + ", mean ± std over seeds"));
  }
  return lines;
}

}  // namespace bts::experiments
