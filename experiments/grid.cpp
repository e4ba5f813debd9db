#include "experiments/grid.h"

#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "kernels/common/check.h"

namespace bts::experiments {

using nlohmann::json;

namespace {

// Run names become folder names and shell words (Slurm scripts): keep them to a safe alphabet.
void check_label(const std::string& axis, const std::string& label) {
  BTS_CHECK(!label.empty(), "grid axis '" << axis << "' has an empty label");
  for (char c : label)
    BTS_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '=' || c == '-',
              "grid axis '" << axis << "': label '" << label
                            << "' has a character outside letters, digits and . _ + = -");
}

void expand_grid(const Grid& g, std::vector<Point>& out) {
  BTS_CHECK(g.base.is_object(), "grid base config must be a JSON object, got " << g.base.dump());
  std::set<std::string> names;
  for (const Axis& a : g.axes) {
    BTS_CHECK(!a.values.empty(), "grid axis '" << a.name << "' has no values");
    BTS_CHECK(names.insert(a.name).second, "grid has two axes named '" << a.name << "'");
    for (const AxisValue& v : a.values) {
      check_label(a.name, v.label);
      BTS_CHECK(v.patch.is_object(), "grid axis '" << a.name << "' value '" << v.label << "': patch must be an object");
    }
  }
  // Odometer over the axes, last axis fastest.
  std::vector<size_t> at(g.axes.size(), 0);
  while (true) {
    Point p;
    p.config = g.base;
    for (size_t k = 0; k < g.axes.size(); ++k) {
      const AxisValue& v = g.axes[k].values[at[k]];
      p.config.merge_patch(v.patch);
      p.labels[g.axes[k].name] = v.label;
      p.name += (k ? "-" : "") + v.label;
    }
    BTS_CHECK(!p.name.empty(), "a grid needs at least one axis (the run name is made of its labels)");
    out.push_back(std::move(p));
    size_t k = g.axes.size();
    while (k > 0) {
      --k;
      if (++at[k] < g.axes[k].values.size()) break;
      at[k] = 0;
      if (k == 0) return;
    }
  }
}

void diff_into(const json& a, const json& b, const std::string& prefix, std::vector<std::string>& out) {
  std::set<std::string> keys;
  if (a.is_object())
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
  if (b.is_object())
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
  for (const std::string& k : keys) {
    const json va = a.is_object() && a.contains(k) ? a.at(k) : json();
    const json vb = b.is_object() && b.contains(k) ? b.at(k) : json();
    const std::string name = prefix.empty() ? k : prefix + "." + k;
    if (va.is_object() || vb.is_object()) {
      diff_into(va, vb, name, out);
    } else if (va != vb) {
      out.push_back(name + ": " + (va.is_null() ? std::string("(unset)") : va.dump()) + " -> " +
                    (vb.is_null() ? std::string("(unset)") : vb.dump()));
    }
  }
}

}  // namespace

std::vector<Point> expand(const std::vector<Grid>& grids) {
  std::vector<Point> all;
  for (const Grid& g : grids) expand_grid(g, all);
  std::vector<Point> out;
  std::map<std::string, size_t> seen;
  for (Point& p : all) {
    auto it = seen.find(p.name);
    if (it == seen.end()) {
      seen.emplace(p.name, out.size());
      out.push_back(std::move(p));
      continue;
    }
    BTS_CHECK(out[it->second].config == p.config,
              "grid point name '" << p.name << "' is used by two different configs:\n  " << out[it->second].config.dump()
                                  << "\n  " << p.config.dump());
  }
  return out;
}

Shard parse_shard(const std::string& text) {
  Shard s;
  char slash = 0, extra = 0;
  std::istringstream is(text);
  const bool ok = static_cast<bool>(is >> s.index >> slash >> s.count) && slash == '/' && !(is >> extra);
  BTS_CHECK(ok && s.count >= 1 && s.index >= 0 && s.index < s.count,
            "--shard '" << text << "' is not i/n with 0 <= i < n (e.g. 0/4)");
  return s;
}

std::vector<Point> select_shard(const std::vector<Point>& points, Shard shard) {
  BTS_CHECK(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count,
            "shard " << shard.index << "/" << shard.count << " is not i/n with 0 <= i < n");
  std::vector<Point> out;
  for (size_t p = 0; p < points.size(); ++p)
    if (static_cast<int>(p % static_cast<size_t>(shard.count)) == shard.index) out.push_back(points[p]);
  return out;
}

Axis seed_axis(int n) {
  BTS_CHECK(n >= 1, "the number of seeds must be >= 1, got " << n);
  Axis a{kSeedAxis, {}};
  for (int k = 0; k < n; ++k) a.values.push_back({"s" + std::to_string(k), {{"seed", k}}});
  return a;
}

std::vector<std::string> config_diff(const json& base, const json& config) {
  std::vector<std::string> out;
  diff_into(base, config, "", out);
  return out;
}

}  // namespace bts::experiments
