// A run's picture: training loss, training and test accuracy, LR, and the samples that went backward per epoch
// (the budget as SB and p-SGD spend it), per epoch, from the run directory's metrics.jsonl, so it works while a run
// is still going. `bts train` draws curves.svg beside result.json when a run finishes; `bts plot` draws one or
// several runs on shared axes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/figures.h"

namespace bts::experiments {

struct RunCurves {
  std::string label;             // the legend: the run directory's name
  nlohmann::json epochs;         // metrics.jsonl's complete lines, in order
  int64_t train_size = 0;        // N, for the backward fraction; 0 when the run directory does not say
  std::string method;            // from its config
};

// Reads <dir>/metrics.jsonl (a torn last line, as a running or killed run may leave, is ignored), and N and the
// method from result.json or config.json. Throws naming the directory when it holds no run.
RunCurves read_run_curves(const std::filesystem::path& dir);

// The panels: training loss (log scale), accuracy (%: training, and test where evaluated), LR (log scale), and
// samples backward per epoch as a fraction of N (or as a count when N is unknown).
std::vector<CurvePanel> run_curve_panels(const std::vector<RunCurves>& runs);

// Writes <stem>.{csv,gp,svg} for these runs.
FigureFiles plot_runs(const std::vector<RunCurves>& runs, const std::filesystem::path& stem);

}  // namespace bts::experiments
