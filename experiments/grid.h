// An experiment's grid: the runs one paper table or figure needs. A grid is a base config and a list of axes;
// each axis is a list of (label, JSON patch) values, and a point is one choice per axis: the base with every
// chosen patch merged in (RFC 7386 merge patch, in axis order), named by its labels joined with '-'. That name
// is the point's run-directory name, so it must be stable (it is how a rerun finds finished work) and unique.
// An experiment is a list of grids (blocks such as "full SGD" and "methods x budgets"); expand() concatenates
// their points in a fixed order, which is also the order shards are cut from.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bts::experiments {

struct AxisValue {
  std::string label;      // part of the run name: letters, digits and . _ + = only
  nlohmann::json patch;   // merged into the config (an object)
};

struct Axis {
  std::string name;       // "dataset", "method", "budget", "schedule", "augment", "seed", ...
  std::vector<AxisValue> values;
};

struct Grid {
  nlohmann::json base = nlohmann::json::object();
  std::vector<Axis> axes;
};

struct Point {
  std::string name;                            // run-directory name
  nlohmann::json config;                       // base + patches (no run_dir)
  std::map<std::string, std::string> labels;   // axis name -> chosen label
};

// The axis that aggregation averages over.
inline constexpr const char* kSeedAxis = "seed";

// All points of all grids, grid by grid, each grid in row-major order (the last axis varies fastest). Two
// points with the same name must have the same config (the later one is dropped: blocks may overlap, e.g. two
// tables sharing the full-training row); otherwise, and for bad labels or empty axes, throws bts::Error.
std::vector<Point> expand(const std::vector<Grid>& grids);

// Shards: point p (its index in expand's order) belongs to shard i of n iff p % n == i.
struct Shard {
  int index = 0;
  int count = 1;
};
Shard parse_shard(const std::string& text);  // "i/n", 0 <= i < n; throws bts::Error naming the text
std::vector<Point> select_shard(const std::vector<Point>& points, Shard shard);

// A seed axis with n values s0..s(n-1) (patch {"seed": k}).
Axis seed_axis(int n);

// The config keys where `config` differs from `base` ("key: base -> config", dotted keys), for --dry-run.
std::vector<std::string> config_diff(const nlohmann::json& base, const nlohmann::json& config);

}  // namespace bts::experiments
