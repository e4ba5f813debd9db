#include "train/config.h"

#include <cmath>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include "engine/device.h"
#include "kernels/common/check.h"
#include "train/strategies/sampler.h"

namespace bts {

namespace {

using nlohmann::json;

// A value for an error message: scalars as JSON; objects and arrays by type and size only (printing them would
// recurse through whatever nesting the input has, and a deeply nested file would overflow the stack).
std::string describe_value(const json& v) {
  if (v.is_structured()) return std::string("an ") + v.type_name() + " of " + std::to_string(v.size()) + " entries";
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Whether a whole JSON number is within T's range (v.get<T>() would wrap otherwise).
template <typename T>
bool fits(const json& v) {
  using L = std::numeric_limits<T>;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(L::max());
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    if (x < 0) return std::is_signed_v<T> && x >= static_cast<int64_t>(L::min());
    return static_cast<uint64_t>(x) <= static_cast<uint64_t>(L::max());
  }
  const double d = v.get<double>();  // whole, below 9.2e18 in magnitude (checked by the caller)
  return d >= static_cast<double>(L::min()) && d <= static_cast<double>(L::max());
}

// Reads an object's keys with type and range checks, and rejects keys nobody asked for.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    BTS_CHECK(j.is_object(), (where_.empty() ? std::string("the config") : where_) << " must be a JSON object, got "
                                                                                  << describe_value(j));
  }
  template <typename T, typename Check>
  void read(const char* key, T& out, Check ok, const char* allowed) {
    seen_.insert(key);
    if (!j_.contains(key)) return;
    const json& v = j_.at(key);
    T value{};
    try {
      if constexpr (std::is_same_v<T, bool>) {
        BTS_CHECK(v.is_boolean(), "");
      } else if constexpr (std::is_integral_v<T>) {
        // A whole number that fits the type: no wrap-around of -5 into an unsigned seed, no 1e300 into int64.
        const bool whole = v.is_number_integer() ||
                           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
                            std::abs(v.get<double>()) < 9.2e18);
        BTS_CHECK(whole, "");
        if constexpr (std::is_unsigned_v<T>)
          BTS_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0) ||
                        (v.is_number_float() && v.get<double>() >= 0),
                    "");
        // ... and no wrap-around of 4294967296 into a 32-bit pad of 0.
        BTS_CHECK(fits<T>(v), "");
      } else if constexpr (std::is_floating_point_v<T>) {
        BTS_CHECK(v.is_number(), "");
      } else {
        BTS_CHECK(v.is_string(), "");
      }
      value = v.get<T>();
    } catch (const std::exception&) {
      BTS_FAIL("config key '" << name(key) << "' has value " << describe_value(v) << "; allowed: " << allowed);
    }
    BTS_CHECK(ok(value), "config key '" << name(key) << "' has value " << describe_value(v) << "; allowed: " << allowed);
    out = value;
  }
  void section(const char* key) {
    seen_.insert(key);
    if (j_.contains(key)) BTS_CHECK(j_.at(key).is_object(), "config key '" << name(key) << "' must be an object");
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      BTS_CHECK(seen_.count(it.key()), "unknown config key '" << name(it.key().c_str()) << "'");
  }
  const json& raw() const { return j_; }

 private:
  std::string name(const char* key) const { return where_.empty() ? key : where_ + "." + key; }
  const json& j_;
  std::string where_;
  std::set<std::string> seen_;
};

auto any = [](const auto&) { return true; };
template <typename T> auto at_least(T lo) { return [lo](T v) { return v >= lo; }; }
template <typename T> auto in_range(T lo, T hi) { return [lo, hi](T v) { return v >= lo && v <= hi; }; }
auto one_of(std::set<std::string> s) { return [s](const std::string& v) { return s.count(v) > 0; }; }

}  // namespace

namespace {

// The top-level keys (the sections are read by the functions below).
void read_top_level(Fields& f, TrainConfig& c) {
  f.read("dataset", c.dataset, one_of({"cifar10", "cifar100", "svhn", "miniimagenet", "fashion-mnist"}),
         "cifar10, cifar100, svhn, miniimagenet, fashion-mnist");
  f.read("data_dir", c.data_dir, any, "a folder");
  f.read("method", c.method, [](const std::string& m) { return is_sampler_name(m); }, sampler_names());
  f.read("budget", c.budget, [](double b) { return b > 0 && b <= 1; }, "a number in (0, 1]");
  f.read("epochs", c.epochs, in_range<int64_t>(1, kMaxEpochs),
         ("an integer in 1.." + std::to_string(kMaxEpochs)).c_str());
  f.read("batch_size", c.batch_size, at_least<int64_t>(2), "an integer >= 2");
  f.read("seed", c.seed, any, "a non-negative integer");
  f.read("device", c.device, [](const std::string& v) { return is_device_spec(v); }, "auto, cpu, cuda or cuda:N");
  f.read("precision", c.precision, one_of({"fp32", "tf32", "bf16"}), "fp32, tf32, bf16");
  f.read("conv_algorithms", c.conv_algorithms, one_of({"heuristic", "measured"}), "heuristic, measured");
  f.read("step_graph", c.step_graph, any, "true or false");
  f.read("f32_channels_last", c.f32_channels_last, any, "true or false");
  f.read("batchnorm", c.batchnorm, one_of({"own", "cudnn"}), "own, cudnn");
  // The key before `precision` existed (configs and checkpoints written then): true is tf32, false fp32.
  bool tf32 = true;
  f.read("tf32", tf32, any, "true or false");
  if (f.raw().contains("tf32")) {
    const std::string implied = tf32 ? "tf32" : "fp32";
    BTS_CHECK(!f.raw().contains("precision") || c.precision == implied,
              "config keys 'tf32' (" << (tf32 ? "true" : "false") << ") and 'precision' (\"" << c.precision
                                     << "\") disagree; 'tf32' is the old spelling of precision fp32/tf32: drop it");
    c.precision = implied;
  }
  f.read("train_subset", c.train_subset, at_least<int64_t>(0), "0 (all) or a sample count");
  f.read("test_subset", c.test_subset, at_least<int64_t>(0), "0 (all) or a sample count");
  f.read("eval_every", c.eval_every, at_least<int64_t>(1), "an integer >= 1 (epochs)");
  f.read("checkpoint_every", c.checkpoint_every, at_least<int64_t>(1), "an integer >= 1 (epochs)");
  f.read("progress_seconds", c.progress_seconds, [](double s) { return s > 0; }, "seconds > 0");
  f.read("run_dir", c.run_dir, any, "a folder");
  f.read("record_forgetting", c.record_forgetting, any, "true or false");
}

void read_model_and_optimizer(const json& j, TrainConfig& c) {
  if (j.contains("model")) {
    Fields m(j.at("model"), "model");
    m.read("width", c.width, [](double w) { return w > 0 && w <= 16; }, "a number in (0, 16]");
    m.finish();
  }
  if (j.contains("lr")) {
    Fields l(j.at("lr"), "lr");
    l.read("schedule", c.lr_schedule, one_of({"step", "linear", "constant"}), "step, linear, constant");
    l.read("initial", c.lr_initial, [](double v) { return v > 0; }, "a number > 0");
    l.read("final", c.lr_final, [](double v) { return v >= 0; }, "a number >= 0");
    l.finish();
  }
  if (j.contains("optimizer")) {
    Fields o(j.at("optimizer"), "optimizer");
    o.read("momentum", c.momentum, [](double v) { return v >= 0 && v < 1; }, "a number in [0, 1)");
    o.read("weight_decay", c.weight_decay, [](double v) { return v >= 0; }, "a number >= 0");
    o.read("nesterov", c.nesterov, any, "true or false");
    o.finish();
  }
}

void read_augmentation(const json& j, TrainConfig& c) {
  if (j.contains("augment")) {
    Fields a(j.at("augment"), "augment");
    a.read("crop_flip", c.crop_flip, any, "true or false");
    a.read("pad", c.pad, [](int p) { return p >= 0 && p <= 16; }, "an integer in [0, 16]");
    a.read("randaugment_n", c.randaugment_n, [](int n) { return n >= 0 && n <= 16; }, "an integer in [0, 16] (0: off)");
    a.read("randaugment_m", c.randaugment_m, [](int m) { return m >= 0 && m <= 30; }, "an integer in [0, 30]");
    a.read("mixup_alpha", c.mixup_alpha, [](double v) { return v >= 0; }, "a number >= 0 (0: off)");
    a.read("ricap_beta", c.ricap_beta, [](double v) { return v >= 0; }, "a number >= 0 (0: off)");
    a.read("cutout", c.cutout, [](int v) { return v >= -1 && v <= 256; },
           "0 (off), -1 (the data set's default side) or a side in pixels up to 256");
    a.finish();
  }
}

void read_strategy_options(const json& j, TrainConfig& c) {
  if (j.contains("importance")) {
    Fields im(j.at("importance"), "importance");
    im.read("eps", c.importance_eps, any, "true or false");
    im.read("averaging", c.importance_averaging, any, "true or false");
    im.read("warmup_epochs", c.warmup_epochs, at_least<int64_t>(0), "an integer >= 0");
    im.finish();
  }
  if (j.contains("sb")) {
    Fields sb(j.at("sb"), "sb");
    sb.read("beta", c.sb_beta, [](double v) { return v == -1 || v >= 0; }, "-1 (1/B - 1) or a number >= 0");
    sb.read("history", c.sb_history, in_range<int64_t>(1, kMaxSbHistory),
            ("an integer in 1.." + std::to_string(kMaxSbHistory)).c_str());
    sb.read("prime_epochs", c.sb_prime_epochs, at_least<int64_t>(0), "an integer >= 0");
    sb.read("staleness", c.sb_staleness, at_least<int64_t>(0), "an integer >= 0 (epochs)");
    sb.read("exact_budget", c.sb_exact_budget, any, "true or false");
    sb.finish();
  }
  if (j.contains("coreset")) {
    Fields cs(j.at("coreset"), "coreset");
    cs.read("selection_run", c.coreset_selection_run, any, "a run folder");
    cs.finish();
  }
}

// Settings that are valid alone but not together.
void check_combinations(const TrainConfig& c) {
  BTS_CHECK(c.method != "sb" || c.sb_history >= c.batch_size,
            "config: sb.history (" << c.sb_history << ") must hold at least one batch (" << c.batch_size << ")");
  BTS_CHECK(c.mixup_alpha == 0 || c.ricap_beta == 0,
            "config: augment.mixup_alpha and augment.ricap_beta are both set; the paper uses one at a time");
  BTS_CHECK(c.method != "sgd" || c.budget == 1.0,
            "config: method 'sgd' is full training and needs budget 1 (got " << c.budget
                                                                             << "); use scan-sgd or unif-sgd");
  BTS_CHECK(!c.nesterov || c.momentum > 0, "config: optimizer.nesterov needs optimizer.momentum > 0");
}

}  // namespace

TrainConfig config_from_json(const json& j) {
  TrainConfig c;
  Fields f(j, "");
  read_top_level(f, c);
  for (const char* sec : {"model", "lr", "optimizer", "augment", "importance", "sb", "coreset"})
    f.section(sec);  // read below
  f.finish();
  read_model_and_optimizer(j, c);
  read_augmentation(j, c);
  read_strategy_options(j, c);
  check_combinations(c);
  return c;
}

json config_to_json(const TrainConfig& c) {
  return json{{"dataset", c.dataset},
              {"data_dir", c.data_dir},
              {"method", c.method},
              {"budget", c.budget},
              {"epochs", c.epochs},
              {"batch_size", c.batch_size},
              {"model", {{"width", c.width}}},
              {"lr", {{"schedule", c.lr_schedule}, {"initial", c.lr_initial}, {"final", c.lr_final}}},
              {"optimizer", {{"momentum", c.momentum}, {"weight_decay", c.weight_decay}, {"nesterov", c.nesterov}}},
              {"augment",
               {{"crop_flip", c.crop_flip},
                {"pad", c.pad},
                {"randaugment_n", c.randaugment_n},
                {"randaugment_m", c.randaugment_m},
                {"mixup_alpha", c.mixup_alpha},
                {"ricap_beta", c.ricap_beta},
                {"cutout", c.cutout}}},
              {"importance",
               {{"eps", c.importance_eps}, {"averaging", c.importance_averaging}, {"warmup_epochs", c.warmup_epochs}}},
              {"sb",
               {{"beta", c.sb_beta},
                {"history", c.sb_history},
                {"prime_epochs", c.sb_prime_epochs},
                {"staleness", c.sb_staleness},
                {"exact_budget", c.sb_exact_budget}}},
              {"coreset", {{"selection_run", c.coreset_selection_run}}},
              {"record_forgetting", c.record_forgetting},
              {"seed", c.seed},
              {"device", c.device},
              {"precision", c.precision},
              {"conv_algorithms", c.conv_algorithms},
              {"step_graph", c.step_graph},
              {"f32_channels_last", c.f32_channels_last},
              {"batchnorm", c.batchnorm},
              {"train_subset", c.train_subset},
              {"test_subset", c.test_subset},
              {"eval_every", c.eval_every},
              {"checkpoint_every", c.checkpoint_every},
              {"progress_seconds", c.progress_seconds},
              {"run_dir", c.run_dir.empty() ? default_run_dir(c) : c.run_dir}};
}

namespace {

// Finds the first key given twice in one object of valid JSON text: a SAX pass that keeps one set of keys per open
// object and builds no document (linear in the text; the parser-callback route rescans arrays per element).
class DuplicateKeyFinder : public nlohmann::json_sax<json> {
 public:
  std::string twice;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!open_.back().insert(k).second) twice = k;
    return twice.empty();  // stop at the first
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  std::vector<std::set<std::string>> open_;
};

std::string duplicate_key(const std::string& text) {
  DuplicateKeyFinder finder;
  json::sax_parse(text, &finder);
  return finder.twice;
}

}  // namespace

json read_json_file(const std::string& path) {
  BTS_CHECK(!std::filesystem::is_directory(path), "'" << path << "' is a folder, not a JSON file");
  std::ifstream f(path, std::ios::binary);
  BTS_CHECK(f.good(), "cannot open '" << path << "'");
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    BTS_FAIL("cannot read '" << path << "': " << e.what());
  }
  BTS_CHECK(!f.bad(), "cannot read '" << path << "'");
  return parse_json_text(text, "'" + path + "'");
}

json parse_json_text(const std::string& text, const std::string& name) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    BTS_FAIL(name << " is not valid JSON: " << e.what());
  }
  const std::string twice = duplicate_key(text);
  BTS_CHECK(twice.empty(), name << ": key '" << twice << "' appears twice in one object");
  return j;
}

void apply_override(json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  BTS_CHECK(eq != std::string::npos && eq > 0, "override '" << assignment << "' is not key=value");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  // JSON is read as a config file is (a key twice refused); anything else, a bare word, is a string.
  const json value = json::accept(text) ? parse_json_text(text, "override '" + assignment + "'") : json(text);
  json* node = &j;
  std::stringstream ss(key);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (const std::string& p : parts)
    BTS_CHECK(!p.empty(), "override '" << assignment << "': the key has an empty part (expected a.b.c)");
  BTS_CHECK(!parts.empty() && key.back() != '.', "override '" << assignment << "': the key has an empty part");
  // The config itself must be an object (a config file holding a number or a list is refused here, by name,
  // rather than deep in the JSON library).
  BTS_CHECK(j.is_object() || j.is_null(), "override '" << assignment << "': the config is "
                                                       << (j.is_array() ? "a list" : "a single value")
                                                       << ", not an object of settings");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i])) (*node)[parts[i]] = json::object();
    node = &(*node)[parts[i]];
    BTS_CHECK(node->is_object(), "override '" << key << "': '" << parts[i] << "' is not a section");
  }
  (*node)[parts.back()] = value;
}

std::string default_run_dir(const TrainConfig& c) {
  std::ostringstream os;
  os << "runs/" << c.dataset << "-" << c.method << "-B" << c.budget << "-" << c.lr_schedule;
  if (c.randaugment_n > 0) os << "-ra" << c.randaugment_n << "m" << c.randaugment_m;
  if (c.mixup_alpha > 0) os << "-mixup" << c.mixup_alpha;
  if (c.ricap_beta > 0) os << "-ricap" << c.ricap_beta;
  if (c.cutout != 0) os << "-cutout" << (c.cutout < 0 ? std::string("default") : std::to_string(c.cutout));
  os << "-s" << c.seed;
  return os.str();
}

}  // namespace bts
