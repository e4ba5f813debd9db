#include "experiments/figures.h"

#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/file_write.h"
#include "kernels/common/check.h"
#include "experiments/process.h"

namespace bts::experiments {

namespace fs = std::filesystem;

namespace {

// A gnuplot double-quoted string (labels are shown as typed: the terminal runs noenhanced).
std::string gq(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "NaN";
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}


void render(FigureFiles& files) {
  const std::string gnuplot = find_in_path("gnuplot");
  if (gnuplot.empty()) {
    files.note = "gnuplot not found in PATH (Debian: gnuplot-nox); figure skipped, data in " + files.csv.string();
    return;
  }
  const fs::path log = files.gp.string() + ".log";
  fs::remove(log);
  fs::remove(files.svg);  // a stale figure must not pass for a new one
  const int st = wait_process(spawn_process({gnuplot, files.gp.string()}, log.string()));
  files.rendered = WIFEXITED(st) && WEXITSTATUS(st) == 0 && fs::exists(files.svg);
  if (!files.rendered) files.note = "gnuplot failed (" + describe_wait_status(st) + "), see " + log.string();
  else fs::remove(log);
}

const char* kHeader = "set terminal svg size 900,%d dynamic noenhanced font 'sans,12' background rgb 'white'\n";

std::string header(int height, const fs::path& svg) {
  char buf[160];
  std::snprintf(buf, sizeof buf, kHeader, height);
  return std::string(buf) + "set output " + gq(svg.string()) + "\nset grid ytics\nset key outside right top\n";
}

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {
// One plot's datablocks (named $<prefix><i>) and its plot command; `empty_note` when it has no series.
void plot_commands(std::ostringstream& gp, const CurvePlot& plot, const std::string& prefix, bool xlabel,
                   const char* empty_note) {
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const Series& s = plot.series[i];
    gp << "$" << prefix << i << " << EOD\n";
    for (size_t k = 0; k < s.xy.size(); ++k) {
      gp << num(s.xy[k].first) << " " << num(s.xy[k].second);
      if (!s.err.empty()) gp << " " << num(k < s.err.size() && std::isfinite(s.err[k]) ? s.err[k] : 0.0);
      gp << "\n";
    }
    gp << "EOD\n";
  }
  gp << "set title " << gq(plot.title) << "\nset xlabel " << gq(xlabel ? plot.xlabel : "") << "\nset ylabel "
     << gq(plot.ylabel) << "\n";
  if (plot.series.empty()) {
    gp << "set label 1 " << gq(empty_note) << " at graph 0.5, graph 0.5 center\nplot [0:1] [0:1] NaN notitle\n"
       << "unset label 1\n";
    return;
  }
  gp << "plot ";
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const bool bars = !plot.series[i].err.empty();
    gp << (i ? ", \\\n     " : "") << "$" << prefix << i
       << (bars ? " using 1:2:3 with yerrorlines" : " using 1:2 with linespoints") << " pt 7 ps 0.5 title "
       << gq(plot.series[i].label);
  }
  gp << "\n";
}
}  // namespace

std::string curves_script(const CurvePlot& plot, const fs::path& svg) {
  std::ostringstream gp;
  gp << header(560, svg);
  plot_commands(gp, plot, "s", true, "no completed runs yet");
  return gp.str();
}

std::string curve_panels_script(const std::string& title, const std::vector<CurvePanel>& panels, const fs::path& svg) {
  std::ostringstream gp;
  const size_t n = std::max<size_t>(1, panels.size());
  gp << header(260 * static_cast<int>(n) + 60, svg);
  // A fixed left margin lines the panels' x axes up whatever their tick labels' widths.
  gp << "set lmargin 12\nset rmargin 28\nset multiplot layout " << n << ",1 title " << gq(title) << "\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    gp << (panels[p].log_y ? "set logscale y\nset format y \"%g\"\n" : "unset logscale y\nset format y \"%g\"\n");
    plot_commands(gp, panels[p].plot, "p" + std::to_string(p) + "s", p + 1 == panels.size(), "no data yet");
  }
  gp << "unset multiplot\n";
  return gp.str();
}

std::string bars_script(const std::string& title, const std::vector<BarPanel>& panels, const fs::path& svg) {
  std::ostringstream gp;
  gp << header(360 * static_cast<int>(std::max<size_t>(1, panels.size())), svg);
  gp << "set style fill solid 0.6 border -1\nset boxwidth 0.6\nset xtics rotate by -25 nomirror\nset key below\n";
  gp << "set multiplot layout " << std::max<size_t>(1, panels.size()) << ",1 title " << gq(title) << "\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    const BarPanel& panel = panels[p];
    gp << "$p" << p << " << EOD\n";
    double lo = INFINITY, hi = -INFINITY;
    for (size_t b = 0; b < panel.bars.size(); ++b) {
      const Bar& bar = panel.bars[b];
      gp << b << " " << gq(bar.label) << " " << num(bar.mean) << " " << num(std::isfinite(bar.std) ? bar.std : 0)
         << "\n";
      if (std::isfinite(bar.mean)) {
        const double e = std::isfinite(bar.std) ? bar.std : 0;
        lo = std::min(lo, bar.mean - e);
        hi = std::max(hi, bar.mean + e);
      }
    }
    gp << "EOD\n";
    if (panel.reference) {
      lo = std::min(lo, panel.reference->first);
      hi = std::max(hi, panel.reference->first);
    }
    gp << "set title " << gq(panel.title) << "\nset ylabel " << gq(panel.ylabel) << "\n";
    // Like the paper's Figure 1: the y range hugs the values so differences of a point are visible.
    if (std::isfinite(lo) && std::isfinite(hi)) {
      const double pad = std::max(0.15 * (hi - lo), 1e-3 * std::max(1.0, std::fabs(hi)));
      gp << "set yrange [" << num(lo - pad) << ":" << num(hi + pad) << "]\n";
    } else {
      gp << "set yrange [0:1]\n";
    }
    gp << "set xrange [-0.6:" << num(static_cast<double>(panel.bars.size()) - 0.4) << "]\n";
    gp << "plot $p" << p << " using 1:3:xtic(2) with boxes notitle, \\\n     $p" << p
       << " using 1:3:4 with yerrorbars lc rgb 'black' pt 0 ps 0 notitle";
    if (panel.reference)
      gp << ", \\\n     " << num(panel.reference->first) << " with lines dt 2 lw 1.5 lc rgb 'black' title "
         << gq(panel.reference->second);
    gp << "\n";
  }
  gp << "unset multiplot\n";
  return gp.str();
}

FigureFiles write_curves(const fs::path& stem, const CurvePlot& plot) {
  FigureFiles f{stem.string() + ".csv", stem.string() + ".gp", stem.string() + ".svg", false, ""};
  std::ostringstream csv;
  bool with_err = false;
  for (const Series& s : plot.series) with_err = with_err || !s.err.empty();
  csv << (with_err ? "series,x,y,err\n" : "series,x,y\n");
  for (const Series& s : plot.series)
    for (size_t k = 0; k < s.xy.size(); ++k) {
      csv << csv_field(s.label) << "," << num(s.xy[k].first) << "," << num(s.xy[k].second);
      if (with_err) csv << "," << num(k < s.err.size() ? s.err[k] : NAN);
      csv << "\n";
    }
  write_text_file(f.csv, csv.str());
  write_text_file(f.gp, curves_script(plot, f.svg));
  render(f);
  return f;
}

FigureFiles write_curve_panels(const fs::path& stem, const std::string& title, const std::vector<CurvePanel>& panels) {
  FigureFiles f{stem.string() + ".csv", stem.string() + ".gp", stem.string() + ".svg", false, ""};
  std::ostringstream csv;
  csv << "panel,series,x,y\n";
  for (const CurvePanel& p : panels)
    for (const Series& s : p.plot.series)
      for (auto [x, y] : s.xy)
        csv << csv_field(p.plot.ylabel) << "," << csv_field(s.label) << "," << num(x) << "," << num(y) << "\n";
  write_text_file(f.csv, csv.str());
  write_text_file(f.gp, curve_panels_script(title, panels, f.svg));
  render(f);
  return f;
}

FigureFiles write_bars(const fs::path& stem, const std::string& title, const std::vector<BarPanel>& panels) {
  FigureFiles f{stem.string() + ".csv", stem.string() + ".gp", stem.string() + ".svg", false, ""};
  std::ostringstream csv;
  csv << "panel,bar,mean,std\n";
  for (const BarPanel& p : panels) {
    for (const Bar& b : p.bars)
      csv << csv_field(p.title) << "," << csv_field(b.label) << "," << num(b.mean) << "," << num(b.std) << "\n";
    if (p.reference)
      csv << csv_field(p.title) << "," << csv_field(p.reference->second) << "," << num(p.reference->first) << ",NaN\n";
  }
  write_text_file(f.csv, csv.str());
  write_text_file(f.gp, bars_script(title, panels, f.svg));
  render(f);
  return f;
}

std::string write_text_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  write_text_atomic(p.string(), text);
  return p.string();
}

}  // namespace bts::experiments
