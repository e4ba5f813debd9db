#include "experiments/run_curves.h"

#include <fstream>
#include <string>
#include <vector>

#include "kernels/common/check.h"

namespace bts::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
json read_json_file(const fs::path& p) {
  std::ifstream f(p);
  if (!f) return json();
  return json::parse(f, nullptr, /*allow_exceptions=*/false);
}

double number(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}
}  // namespace

RunCurves read_run_curves(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  BTS_CHECK(in.good() || fs::exists(dir / "config.json"),
            "'" << dir.string() << "' holds no run (no metrics.jsonl or config.json)");
  RunCurves r;
  r.label = fs::absolute(dir).lexically_normal().filename().string();
  if (r.label.empty()) r.label = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  r.epochs = json::array();
  // Only the last line can be torn (a run writing it, or killed while it did); any other unreadable line means the
  // file is not a run's metrics, and is said so rather than drawn as fewer epochs.
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    const json m = json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    BTS_CHECK(m.is_object() || i + 1 == lines.size(),
              "'" << (dir / "metrics.jsonl").string() << "' line " << i + 1 << " is not a JSON object");
    if (m.is_object() && m.contains("epoch")) r.epochs.push_back(m);
  }
  const json result = read_json_file(dir / "result.json");
  const json config = read_json_file(dir / "config.json");
  if (result.is_object() && result.contains("budget_asked"))
    r.train_size = result["budget_asked"].value("train_size", int64_t{0});
  else if (config.is_object() && config.value("train_subset", int64_t{0}) > 0)
    r.train_size = config.value("train_subset", int64_t{0});
  if (config.is_object()) r.method = config.value("method", std::string());
  return r;
}

std::vector<CurvePanel> run_curve_panels(const std::vector<RunCurves>& runs) {
  const bool several = runs.size() > 1;
  bool all_n = true;
  for (const RunCurves& r : runs) all_n = all_n && r.train_size > 0;
  CurvePlot loss{"training loss", "epoch", "loss", {}}, acc{"accuracy", "epoch", "accuracy (%)", {}},
      lr{"learning rate (at each epoch's last step)", "epoch", "LR", {}},
      back{all_n ? "samples backward per epoch, as a fraction of N" : "samples backward per epoch", "epoch",
           all_n ? "fraction of N" : "samples", {}};
  for (const RunCurves& r : runs) {
    const std::string prefix = several ? r.label + ": " : "";
    Series l{several ? r.label : "training loss", {}, {}}, tr{prefix + "training", {}, {}},
        te{prefix + "test", {}, {}}, rate{several ? r.label : "LR", {}, {}},
        b{several ? r.label : (r.method.empty() ? "backward" : r.method), {}, {}};
    double last_backward = 0;
    for (const json& m : r.epochs) {
      const double e = number(m, "epoch");
      if (!std::isfinite(e)) continue;
      const double loss_v = number(m, "train_loss"), tr_v = number(m, "train_accuracy"),
                   te_v = number(m, "test_accuracy"), lr_v = number(m, "lr");
      if (std::isfinite(loss_v) && loss_v > 0) l.xy.emplace_back(e, loss_v);
      if (std::isfinite(tr_v)) tr.xy.emplace_back(e, 100 * tr_v);
      if (std::isfinite(te_v)) te.xy.emplace_back(e, 100 * te_v);
      if (std::isfinite(lr_v) && lr_v > 0) rate.xy.emplace_back(e, lr_v);
      if (m.contains("counters") && m["counters"].is_object()) {
        const double spent = number(m["counters"], "samples_backward");
        if (std::isfinite(spent)) {
          const double d = spent - last_backward;
          b.xy.emplace_back(e, all_n ? d / static_cast<double>(r.train_size) : d);
          last_backward = spent;
        }
      }
    }
    loss.series.push_back(std::move(l));
    acc.series.push_back(std::move(tr));
    if (!te.xy.empty()) acc.series.push_back(std::move(te));
    lr.series.push_back(std::move(rate));
    back.series.push_back(std::move(b));
  }
  return {{loss, true}, {acc, false}, {lr, true}, {back, false}};
}

FigureFiles plot_runs(const std::vector<RunCurves>& runs, const fs::path& stem) {
  std::string title = runs.size() == 1 ? runs[0].label : std::to_string(runs.size()) + " runs";
  if (runs.size() == 1 && !runs[0].method.empty()) title += " (" + runs[0].method + ")";
  return write_curve_panels(stem, title, run_curve_panels(runs));
}

}  // namespace bts::experiments
