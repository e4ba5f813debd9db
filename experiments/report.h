// Rendering aggregated tables: Markdown laid out like the paper's (our number, then the paper's), CSV of every
// cell, and CSV of every run.
#pragma once
#include <string>
#include <vector>

#include "experiments/aggregate.h"

namespace bts::experiments {

std::string format_stat(const Stat& s, Metric m);
std::string format_paper(const PaperEntry& e, Metric m);
std::string to_markdown(const TableResult& t);
// Long format: table,row,column,metric,n,expected,mean,std,paper_mean,paper_std
std::string to_csv(const std::vector<TableResult>& tables);
// One line per run: name, every axis label, status, the main result fields.
std::string runs_csv(const std::vector<RunRecord>& runs);

}  // namespace bts::experiments
