#include "experiments/report.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace bts::experiments {

using nlohmann::json;

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Decimals shown: accuracies as the paper (2); times to about three significant digits, so a quick run's
// seconds and a full run's hours both read well.
int digits(Metric m, double value) {
  switch (m) {
    case Metric::Entropy:
    case Metric::EntropyMax:
    case Metric::BackwardFraction: return 3;
    case Metric::Minutes:
    case Metric::TrainMinutes: return std::fabs(value) < 1 ? 3 : std::fabs(value) < 10 ? 2 : 1;
    default: return 2;
  }
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream os;
  os.precision(8);
  os << v;
  return os.str();
}

}  // namespace

std::string format_stat(const Stat& s, Metric m) {
  if (s.n == 0 || !std::isfinite(s.mean)) return s.expected > 0 ? "— (0/" + std::to_string(s.expected) + ")" : "—";
  const int d = digits(m, s.mean);
  std::string out = fixed(s.mean, d);
  if (m == Metric::Speedup) out += "%";
  if (std::isfinite(s.std)) out += " ± " + fixed(s.std, d);
  if (s.n < s.expected) out += " (" + std::to_string(s.n) + "/" + std::to_string(s.expected) + ")";
  return out;
}

std::string format_paper(const PaperEntry& e, Metric m) {
  std::string out = m == Metric::Minutes || m == Metric::TrainMinutes ? fixed(e.mean, 0) : fixed(e.mean, 2);
  if (m == Metric::Speedup) out += "%";
  if (e.std) out += " ± " + fixed(*e.std, 2);
  return out;
}

std::string to_markdown(const TableResult& t) {
  const TableSpec& s = t.spec;
  std::ostringstream md;
  md << "### " << s.title << "\n\n";
  md << "| |";
  for (const auto& c : s.columns) md << " " << c << " |" << (s.show_paper ? " " + s.paper_label + " |" : "");
  md << "\n| --- |";
  for (size_t i = 0; i < s.columns.size(); ++i) md << " --- |" << (s.show_paper ? " --- |" : "");
  md << "\n";
  for (size_t r = 0; r < s.rows.size(); ++r) {
    const RowSpec& row = s.rows[r];
    if (row.section) {
      md << "| **" << row.label << "** |";
      for (size_t i = 0; i < s.columns.size(); ++i) md << " |" << (s.show_paper ? " |" : "");
      md << "\n";
      continue;
    }
    md << "| " << row.label << " |";
    for (size_t i = 0; i < s.columns.size(); ++i) {
      const auto* c = i < t.cells[r].size() && t.cells[r][i] ? &*t.cells[r][i] : nullptr;
      md << " " << (c ? format_stat(c->ours, c->metric) : "") << " |";
      if (s.show_paper) md << " " << (c && c->paper ? format_paper(*c->paper, c->metric) : "") << " |";
    }
    md << "\n";
  }
  md << "\n";
  if (!s.note.empty()) md << s.note << "\n\n";
  if (!t.lacking.empty()) {
    md << t.lacking.size() << " of the " << t.used << " runs behind this table are missing or failed:";
    for (size_t i = 0; i < t.lacking.size() && i < 12; ++i) md << (i ? ", " : " ") << "`" << t.lacking[i] << "`";
    if (t.lacking.size() > 12) md << ", ...";
    md << ".\n\n";
  }
  return md.str();
}

std::string to_csv(const std::vector<TableResult>& tables) {
  std::ostringstream csv;
  csv << "table,row,column,metric,n,expected,mean,std,paper_mean,paper_std\n";
  for (const TableResult& t : tables)
    for (size_t r = 0; r < t.spec.rows.size(); ++r) {
      if (t.spec.rows[r].section) continue;
      for (size_t i = 0; i < t.cells[r].size(); ++i) {
        if (!t.cells[r][i]) continue;
        const CellResult& c = *t.cells[r][i];
        csv << csv_field(t.spec.id) << "," << csv_field(t.spec.rows[r].label) << ","
            << csv_field(i < t.spec.columns.size() ? t.spec.columns[i] : "") << "," << metric_name(c.metric) << ","
            << c.ours.n << "," << c.ours.expected << "," << num(c.ours.mean) << "," << num(c.ours.std) << ","
            << (c.paper ? num(c.paper->mean) : "") << "," << (c.paper && c.paper->std ? num(*c.paper->std) : "")
            << "\n";
      }
    }
  return csv.str();
}

std::string runs_csv(const std::vector<RunRecord>& runs) {
  std::set<std::string> axes;
  for (const RunRecord& r : runs)
    for (const auto& [a, l] : r.point.labels) axes.insert(a);
  std::ostringstream csv;
  csv << "name";
  for (const auto& a : axes) csv << "," << csv_field(a);
  csv << ",status,final_test_accuracy,best_test_accuracy,wall_clock_seconds,sample_count_entropy,"
         "sample_count_entropy_max,backward_fraction_of_full,samples_backward,samples_scored,device\n";
  for (const RunRecord& r : runs) {
    csv << csv_field(r.point.name);
    for (const auto& a : axes) {
      auto it = r.point.labels.find(a);
      csv << "," << (it == r.point.labels.end() ? "" : csv_field(it->second));
    }
    csv << "," << r.status;
    const json& j = r.result;
    auto field = [&](const json& o, const char* k) {
      return o.is_object() && o.contains(k) && o.at(k).is_number() ? num(o.at(k).get<double>()) : std::string();
    };
    const json spent = j.is_object() && j.contains("budget_spent") ? j.at("budget_spent") : json();
    csv << "," << field(j, "final_test_accuracy") << "," << field(j, "best_test_accuracy") << ","
        << field(j, "wall_clock_seconds") << "," << field(j, "sample_count_entropy") << ","
        << field(j, "sample_count_entropy_max") << "," << field(spent, "backward_fraction_of_full") << ","
        << field(spent, "samples_backward") << "," << field(spent, "samples_scored") << ","
        << csv_field(j.is_object() ? j.value("device", "") : "") << "\n";
  }
  return csv.str();
}

}  // namespace bts::experiments
