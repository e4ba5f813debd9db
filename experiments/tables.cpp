#include "experiments/tables.h"

#include "experiments/experiment.h"

namespace bts::experiments {

Where merged(Where base, const Where& extra) {
  for (const auto& [k, v] : extra) base[k] = v;
  return base;
}

CellSpec make_cell(const Where& where, Metric metric, const std::optional<PaperQuery>& q) {
  CellSpec c;
  c.where = where;
  c.metric = metric;
  if (q) {
    if (auto e = paper_value(*q)) c.paper = *e;
  }
  return c;
}

namespace {
const char* paper_metric(Metric m) {
  switch (m) {
    case Metric::Minutes:
    case Metric::TrainMinutes: return "minutes";
    case Metric::Speedup: return "speedup";
    default: return "accuracy";
  }
}
}  // namespace

RowSpec method_row(const std::string& title, const std::string& method, const std::vector<Column>& columns,
                   Metric metric, const std::function<bool(size_t)>& keep) {
  RowSpec row{title, {}, false};
  for (size_t i = 0; i < columns.size(); ++i) {
    if (keep && !keep(i)) {
      row.cells.emplace_back();
      continue;
    }
    PaperQuery q = columns[i].paper;
    q.method = method;
    q.metric = paper_metric(metric);
    row.cells.push_back(make_cell(merged(columns[i].where, {{"method", method}}), metric, q));
  }
  return row;
}

RowSpec full_training_row(const std::string& title, const std::vector<Column>& columns,
                          const std::function<bool(size_t)>& keep, Metric metric) {
  RowSpec row{title, {}, false};
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!keep(i)) {
      row.cells.emplace_back();
      continue;
    }
    PaperQuery q = columns[i].paper;
    q.method = "sgd";
    q.budget = "1";
    q.metric = paper_metric(metric);
    row.cells.push_back(
        make_cell(merged(columns[i].where, {{"method", "sgd"}, {"budget", budget_label(1.0)}}), metric, q));
  }
  return row;
}

RowSpec section_row(const std::string& title) { return RowSpec{title, {}, true}; }

}  // namespace bts::experiments
