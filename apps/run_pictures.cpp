#include "apps/run_pictures.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "experiments/run_curves.h"

namespace bts {

namespace fs = std::filesystem;

namespace {
// N from the config's data set when the run directory does not state it (a run in progress on a full data set).
experiments::RunCurves curves_of(const std::string& dir) {
  experiments::RunCurves r = experiments::read_run_curves(dir);
  if (r.train_size == 0) {
    std::ifstream f(fs::path(dir) / "config.json");
    const nlohmann::json c = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    if (c.is_object() && c.contains("dataset")) {
      try {
        r.train_size = dataset_info(c["dataset"].get<std::string>()).train_count;
      } catch (const std::exception&) {
      }
    }
  }
  return r;
}

std::string describe(const experiments::FigureFiles& f) {
  if (f.rendered) return "wrote " + f.svg.string();
  return "wrote " + f.gp.string() + " and " + f.csv.string() + "; no SVG: " + f.note +
         " (render it with: gnuplot " + f.gp.string() + ")";
}
}  // namespace

std::string draw_run_curves(const std::string& run_dir) {
  try {
    return "curves: " + describe(experiments::plot_runs({curves_of(run_dir)}, fs::path(run_dir) / "curves"));
  } catch (const std::exception& e) {
    return std::string("curves: not drawn: ") + e.what();
  }
}

int plot_command(const std::vector<std::string>& run_dirs, const std::string& out_stem) {
  std::vector<experiments::RunCurves> runs;
  for (const std::string& d : run_dirs) runs.push_back(curves_of(d));
  const std::string stem = !out_stem.empty()      ? out_stem
                           : run_dirs.size() == 1 ? (fs::path(run_dirs[0]) / "curves").string()
                                                  : "curves-" + std::to_string(run_dirs.size()) + "-runs";
  const experiments::FigureFiles f = experiments::plot_runs(runs, stem);
  std::printf("bts plot: %s\n", describe(f).c_str());
  return 0;
}

}  // namespace bts
