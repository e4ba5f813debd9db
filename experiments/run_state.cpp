#include "experiments/run_state.h"

#include <cmath>
#include <fstream>

namespace bts::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool read_json(const fs::path& p, json& out) {
  std::ifstream f(p);
  if (!f) return false;
  try {
    out = json::parse(f);
  } catch (const std::exception&) {
    return false;  // a torn or hand-edited file: treated as absent
  }
  return out.is_object();
}

bool equal_values(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  return a == b;
}

bool covers(const json& resolved, const json& wanted, const std::string& prefix, std::string* why) {
  for (auto it = wanted.begin(); it != wanted.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    // Where a run lives, where its data came from and which device ran it do not change what it is.
    if (key == "run_dir" || key == "data_dir" || key == "device") continue;
    if (!resolved.is_object() || !resolved.contains(it.key())) {
      if (why) *why = key + " is missing from the run's config";
      return false;
    }
    const json& r = resolved.at(it.key());
    if (it->is_object()) {
      if (!covers(r, *it, key, why)) return false;
    } else if (!equal_values(r, *it)) {
      if (why) *why = key + " is " + r.dump() + " in the run, " + it->dump() + " in the grid";
      return false;
    }
  }
  return true;
}

}  // namespace

bool config_covers(const json& resolved, const json& wanted, std::string* why) {
  return covers(resolved, wanted, "", why);
}

RunInspection inspect_run(const fs::path& dir, const json& wanted) {
  json result, config;
  const bool have_result = read_json(dir / "result.json", result);
  const bool have_config = read_json(dir / "config.json", config);
  const bool have_ckpt = fs::exists(dir / "checkpoint.bin");
  const bool completed = have_result && result.value("status", "") == "completed";
  if (!completed && !have_ckpt) return {RunAction::Start, have_config ? "no checkpoint: starting again" : "new"};
  const json& resolved = completed && result.contains("config") ? result.at("config") : config;
  std::string why;
  if (!resolved.is_object()) {
    // A checkpoint without its config.json cannot be resumed by bts (it reads the config from there).
    return {RunAction::Conflict, "checkpoint.bin without a readable config.json"};
  }
  if (!config_covers(resolved, wanted, &why)) return {RunAction::Conflict, why};
  if (completed) return {RunAction::Skip, "completed"};
  return {RunAction::Resume, "resuming from checkpoint.bin"};
}

const char* to_string(RunAction a) {
  switch (a) {
    case RunAction::Skip: return "skip";
    case RunAction::Resume: return "resume";
    case RunAction::Start: return "start";
    case RunAction::Conflict: return "conflict";
  }
  return "?";
}

}  // namespace bts::experiments
