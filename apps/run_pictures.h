// `bts`'s pictures of runs (experiments/run_curves.h): curves.svg beside a finished run's result.json, and
// `bts plot` for one or several runs (finished or still going).
#pragma once
#include <string>
#include <vector>

namespace bts {

// Draws <run_dir>/curves.{svg,gp,csv}; returns the line to print (where it went, or why there is no SVG: gnuplot
// missing, with the data files written anyway). Never throws: a picture must not fail a finished run.
std::string draw_run_curves(const std::string& run_dir);

// `bts plot --run-dir D [--run-dir E ...] [--out STEM]`: one figure of all the runs on shared axes; the default
// STEM is <D>/curves for one run, ./curves-<n>-runs for several. Returns the exit status.
int plot_command(const std::vector<std::string>& run_dirs, const std::string& out_stem);

}  // namespace bts
