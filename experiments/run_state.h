// What the sweep runner does with one point's run directory. It trusts what `bts train` leaves behind:
// result.json with "status": "completed" is finished work; checkpoint.bin is an interrupted run to resume;
// anything else (nothing, or a run that failed before its first checkpoint) starts afresh. A directory holding a
// different config (another scale, a changed grid) is never skipped or resumed silently: it is reported.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace bts::experiments {

enum class RunAction { Skip, Resume, Start, Conflict };

struct RunInspection {
  RunAction action = RunAction::Start;
  std::string why;  // for Conflict: the first differing key; otherwise a short description
};

// `wanted` is the point's config (as given to bts train, partial: defaults left out). The run's resolved
// config (config.json, or result.json's "config") must hold every leaf of `wanted` with an equal value;
// run_dir, data_dir and device are not compared (moving the data or the run to a GPU changes no result's meaning).
RunInspection inspect_run(const std::filesystem::path& dir, const nlohmann::json& wanted);

// True when every leaf of `wanted` (except run_dir, data_dir, device) is present and equal in `resolved` (numbers by value);
// otherwise false with the first difference in *why.
bool config_covers(const nlohmann::json& resolved, const nlohmann::json& wanted, std::string* why = nullptr);

const char* to_string(RunAction a);

}  // namespace bts::experiments
