// Building blocks for the apps' table layouts: a column is a set of points (its Where) plus the paper's
// coordinates for it; a row adds the method (or any other labels) to every column.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/aggregate.h"
#include "experiments/paper_numbers.h"

namespace bts::experiments {

struct Column {
  std::string title;
  Where where;
  PaperQuery paper;  // table, dataset, augment, schedule, budget (method and metric are filled per row)
};

// A cell selecting `where` with `metric`, with the paper's number for `q` when the paper has one.
CellSpec make_cell(const Where& where, Metric metric, const std::optional<PaperQuery>& q);

// One row: for each column, its points with `method` (and the column's budget); paper number looked up with
// the method. `keep(i)` says whether column i has this row (false: an empty cell, as in the paper).
RowSpec method_row(const std::string& title, const std::string& method, const std::vector<Column>& columns,
                   Metric metric = Metric::Accuracy, const std::function<bool(size_t)>& keep = nullptr);

// A full-training row (method sgd, budget 1) whose cells sit in the columns `keep` accepts.
RowSpec full_training_row(const std::string& title, const std::vector<Column>& columns,
                          const std::function<bool(size_t)>& keep, Metric metric = Metric::Accuracy);

RowSpec section_row(const std::string& title);

// A Where with `extra` merged over `base`.
Where merged(Where base, const Where& extra);

}  // namespace bts::experiments
