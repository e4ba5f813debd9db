// Figures as gnuplot scripts with their data inline (a datablock per series), plus the same data as CSV.
// The .gp script is always written; when `gnuplot` is in PATH it is run to make the .svg, otherwise the
// figure is reported as skipped (the CSV and the script still hold everything).
#pragma once
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bts::experiments {

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> xy;
  std::vector<double> err;  // empty, or one error bar (+-) per point (NaN: none)
};

struct CurvePlot {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
};

struct Bar {
  std::string label;
  double mean = NAN;
  double std = NAN;  // NaN: no error bar
};

struct BarPanel {
  std::string title, ylabel;
  std::vector<Bar> bars;
  std::optional<std::pair<double, std::string>> reference;  // a dashed horizontal line and its legend
};

struct FigureFiles {
  std::filesystem::path csv, gp, svg;
  bool rendered = false;
  std::string note;  // why it was not rendered
};

// <stem>.csv (series,x,y, and err when a series has error bars), <stem>.gp, <stem>.svg.
FigureFiles write_curves(const std::filesystem::path& stem, const CurvePlot& plot);

// Several curve plots sharing the x axis, stacked (a run's loss, accuracy, LR, ...); a panel may use a log y axis.
struct CurvePanel {
  CurvePlot plot;  // its xlabel is used on the bottom panel only
  bool log_y = false;
};
// <stem>.csv (panel,series,x,y), <stem>.gp, <stem>.svg.
FigureFiles write_curve_panels(const std::filesystem::path& stem, const std::string& title,
                               const std::vector<CurvePanel>& panels);

// Panels stacked vertically; <stem>.csv (panel,bar,mean,std), <stem>.gp, <stem>.svg.
FigureFiles write_bars(const std::filesystem::path& stem, const std::string& title, const std::vector<BarPanel>& panels);

// The gnuplot script text (exposed for tests).
std::string curves_script(const CurvePlot& plot, const std::filesystem::path& svg);
std::string curve_panels_script(const std::string& title, const std::vector<CurvePanel>& panels,
                                const std::filesystem::path& svg);
std::string bars_script(const std::string& title, const std::vector<BarPanel>& panels, const std::filesystem::path& svg);

// A CSV field, quoted when it needs to be.
std::string csv_field(const std::string& s);

// Writes `text` to p through a temporary file and a rename (creating p's folder); returns p. Shared by the
// tables, figures and Slurm scripts.
std::string write_text_file(const std::filesystem::path& p, const std::string& text);

}  // namespace bts::experiments
