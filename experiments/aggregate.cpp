#include "experiments/aggregate.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "kernels/common/check.h"
#include "experiments/run_state.h"

namespace bts::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<RunRecord> load_runs(const std::vector<Point>& points, const fs::path& runs_root) {
  std::vector<RunRecord> out;
  for (const Point& p : points) {
    RunRecord r{p, "missing", json()};
    const fs::path dir = runs_root / p.name;
    std::ifstream f(dir / "result.json");
    if (f) {
      try {
        r.result = json::parse(f);
        r.status = r.result.value("status", "incomplete");
      } catch (const std::exception&) {
        r.status = "incomplete";
      }
    } else if (fs::exists(dir)) {
      r.status = "incomplete";
    }
    // A result from another config (another scale, an edited grid) is not this point's result.
    if (r.completed() && !(r.result.contains("config") && config_covers(r.result.at("config"), p.config)))
      r.status = "conflict";
    if (!r.completed()) r.result = json();
    out.push_back(std::move(r));
  }
  return out;
}

bool matches(const Point& p, const Where& where) {
  for (const auto& [axis, label] : where) {
    auto it = p.labels.find(axis);
    if (label.empty()) {
      if (it != p.labels.end()) return false;  // "" asks for points without this axis
    } else if (it == p.labels.end() || it->second != label) {
      return false;
    }
  }
  return true;
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::Accuracy: return "accuracy";
    case Metric::BestAccuracy: return "best_accuracy";
    case Metric::Minutes: return "minutes";
    case Metric::TrainMinutes: return "train_minutes";
    case Metric::Entropy: return "entropy";
    case Metric::EntropyMax: return "entropy_max";
    case Metric::BackwardFraction: return "backward_fraction";
    case Metric::Speedup: return "speedup";
  }
  return "?";
}

std::optional<double> metric_value(const json& r, Metric m) {
  auto get = [&](const char* k) -> std::optional<double> {
    if (!r.is_object() || !r.contains(k) || !r.at(k).is_number()) return std::nullopt;
    return r.at(k).get<double>();
  };
  switch (m) {
    case Metric::Accuracy:
      if (auto v = get("final_test_accuracy")) return 100.0 * *v;
      return std::nullopt;
    case Metric::BestAccuracy:
      if (auto v = get("best_test_accuracy")) return 100.0 * *v;
      return std::nullopt;
    case Metric::Minutes:
      if (auto v = get("wall_clock_seconds")) return *v / 60.0;
      return std::nullopt;
    case Metric::TrainMinutes: {
      auto v = get("wall_clock_seconds");
      if (!v) return std::nullopt;
      double eval = 0;
      if (r.contains("phase_seconds") && r.at("phase_seconds").contains("evaluation"))
        eval = r.at("phase_seconds").at("evaluation").get<double>();
      return (*v - eval) / 60.0;
    }
    case Metric::Entropy: return get("sample_count_entropy");
    case Metric::EntropyMax: return get("sample_count_entropy_max");
    case Metric::BackwardFraction:
      if (r.is_object() && r.contains("budget_spent") && r.at("budget_spent").contains("backward_fraction_of_full"))
        return r.at("budget_spent").at("backward_fraction_of_full").get<double>();
      return std::nullopt;
    case Metric::Speedup: break;
  }
  return std::nullopt;
}

Stat summarize(const std::vector<double>& v, int expected) {
  Stat s;
  s.n = static_cast<int>(v.size());
  s.expected = expected;
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / s.n;
  if (s.n >= 2) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / (s.n - 1));
  }
  return s;
}

namespace {

Stat cell_stat(const std::vector<RunRecord>& runs, const Where& where, Metric m, std::set<std::string>& used,
               std::set<std::string>& lacking) {
  std::vector<double> v;
  int expected = 0;
  for (const RunRecord& r : runs) {
    if (!matches(r.point, where)) continue;
    ++expected;
    used.insert(r.point.name);
    std::optional<double> x;
    if (r.completed()) x = metric_value(r.result, m);
    if (x) v.push_back(*x);
    else lacking.insert(r.point.name);
  }
  return summarize(v, expected);
}

}  // namespace

TableResult evaluate(const TableSpec& spec, const std::vector<RunRecord>& runs) {
  TableResult t;
  t.spec = spec;
  std::set<std::string> used, lacking;
  for (const RowSpec& row : spec.rows) {
    std::vector<std::optional<CellResult>> cells;
    for (const auto& cell : row.cells) {
      if (!cell) {
        cells.emplace_back();
        continue;
      }
      CellResult c;
      c.paper = cell->paper;
      c.metric = cell->metric;
      if (cell->metric == Metric::Speedup) {
        const Stat mine = cell_stat(runs, cell->where, Metric::TrainMinutes, used, lacking);
        const Stat ref = cell_stat(runs, cell->reference, Metric::TrainMinutes, used, lacking);
        c.ours.expected = mine.expected;
        c.ours.n = std::min(mine.n, ref.n);
        if (c.ours.n > 0 && ref.mean > 0) c.ours.mean = 100.0 * (1.0 - mine.mean / ref.mean);
      } else {
        c.ours = cell_stat(runs, cell->where, cell->metric, used, lacking);
      }
      cells.push_back(c);
    }
    t.cells.push_back(std::move(cells));
  }
  t.used = static_cast<int>(used.size());
  t.lacking.assign(lacking.begin(), lacking.end());
  return t;
}

CurvePlot learning_curves(const std::vector<RunRecord>& runs, const Where& where, const std::string& series_axis,
                          const std::string& title, const std::function<std::string(const std::string&)>& rename) {
  CurvePlot plot{title, "fraction of the full training's backward passes", "test accuracy (%)", {}};
  std::vector<std::string> order;  // series in grid order
  std::map<std::string, std::vector<std::vector<std::pair<double, double>>>> per_series;
  for (const RunRecord& r : runs) {
    if (!r.completed() || !matches(r.point, where)) continue;
    auto it = r.point.labels.find(series_axis);
    if (it == r.point.labels.end()) continue;
    const json& res = r.result;
    if (!res.contains("history") || !res.contains("budget_asked")) continue;
    const double full = res.at("budget_asked").value("full_training_samples", 0.0);
    if (full <= 0) continue;
    std::vector<std::pair<double, double>> curve;
    for (const json& h : res.at("history"))
      if (h.contains("test_accuracy") && h.contains("counters"))
        curve.emplace_back(h.at("counters").value("samples_backward", 0.0) / full,
                           100.0 * h.at("test_accuracy").get<double>());
    if (!per_series.count(it->second)) order.push_back(it->second);
    per_series[it->second].push_back(std::move(curve));
  }
  for (const std::string& label : order) {
    const auto& curves = per_series[label];
    // Seeds share the evaluation schedule; average point by point over the common prefix.
    size_t len = curves.front().size();
    for (const auto& c : curves) len = std::min(len, c.size());
    Series s{(rename ? rename(label) : label) + (curves.size() > 1 ? " (mean of " + std::to_string(curves.size()) + ")" : ""), {}, {}};
    for (size_t k = 0; k < len; ++k) {
      double x = 0, y = 0;
      for (const auto& c : curves) {
        x += c[k].first;
        y += c[k].second;
      }
      s.xy.emplace_back(x / curves.size(), y / curves.size());
    }
    plot.series.push_back(std::move(s));
  }
  return plot;
}

std::vector<Bar> bars(const std::vector<RunRecord>& runs, const std::vector<std::pair<std::string, Where>>& which,
                      Metric metric) {
  std::vector<Bar> out;
  std::set<std::string> used, lacking;
  for (const auto& [label, where] : which) {
    const Stat s = cell_stat(runs, where, metric, used, lacking);
    out.push_back({label + (s.n < s.expected ? " (" + std::to_string(s.n) + "/" + std::to_string(s.expected) + ")" : ""),
                   s.mean, s.std});
  }
  return out;
}

}  // namespace bts::experiments
