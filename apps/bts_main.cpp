// bts: the budgeted-training command.
//   bts                      the main job: budgeted training on Fashion-MNIST (B = 0.3, unif-SGD, ResNet-18,
//                            linear LR); full size on a GPU, scaled down on the CPU (it says so)
//   bts train --config f.json [options]   one experiment; flags override the config's fields
//   bts train --resume --run-dir D        continue an interrupted run
//   bts eval --run-dir D                  test accuracy of a run's checkpoint
//   bts info                              the build and the devices found
//   bts plot --run-dir D [--run-dir E]    curves of one or several runs (curves.svg)
//   bts data fetch cifar10|cifar100|svhn [--to D]   download a data set where --data-dir D finds it
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/run_pictures.h"
#include "data/fetch.h"
#include "engine/device.h"
#include "engine/file_write.h"
#include "kernels/common/check.h"
#include "train/preflight.h"
#include "train/trainer.h"

namespace {

using nlohmann::json;

json main_job_config() {
  const bool gpu = bts::probe_devices().cuda_devices > 0;
  json j = {{"dataset", "fashion-mnist"}, {"method", "unif-sgd"}, {"budget", 0.3}, {"lr", {{"schedule", "linear"}}}};
  if (gpu) {
    j["epochs"] = 30;
    j["run_dir"] = "runs/main-fashion-mnist-gpu";
  } else {
    // 2 CPU cores: reduced width, a fixed 12,000-sample training subset, 15 epochs, the full test set every 5
    // epochs: about 1 min 40 s on a quiet machine and 80.75% test accuracy (README).
    j["epochs"] = 15;
    j["model"] = {{"width", 0.125}};
    j["train_subset"] = 12000;
    j["test_subset"] = 0;
    j["eval_every"] = 5;
    j["run_dir"] = "runs/main-fashion-mnist-cpu";
  }
  return j;
}

}  // namespace

namespace {
// A run started by a sweep (experiments/process.cpp sets BTS_PARENT_PID) ends when the sweep dies: SIGTERM, which
// the trainer turns into a checkpoint and a clean exit, so a later sweep resumes it instead of racing it.
void die_with_sweep() {
  const char* parent = std::getenv("BTS_PARENT_PID");
  if (parent == nullptr || *parent == '\0') return;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (std::to_string(::getppid()) != parent) ::raise(SIGTERM);  // the parent died before the line above
}
}  // namespace

int main(int argc, char** argv) {
  bts::fail_exit_on_lost_stdout();
  die_with_sweep();
  CLI::App app{"bts: budgeted training of ResNet-18 with importance sampling and data augmentation (C++/CUDA).\n"
               "Without a subcommand it runs the main job: Fashion-MNIST, B = 0.3, unif-SGD, linear LR."};
  app.require_subcommand(0, 1);

  auto* train = app.add_subcommand("train", "run one experiment from a JSON config (flags override its fields)");
  std::string config_path, run_dir, dataset, data_dir, method, schedule, device;
  std::vector<std::string> sets;
  // Numeric flags are kept as the text given and go through the same parser and checks as --set and the config
  // file (bts::apply_override, then config_from_json): a negative, NaN or out-of-range value is an error naming
  // the key, never silently replaced by a default.
  std::string budget, width, epochs, train_subset, seed;
  bool resume = false, quiet = false, check_steady_state = false;
  train->add_option("--config", config_path, "JSON config file (fields: docs/TRAINING.md)");
  train->add_option("--run-dir", run_dir,
                    "run directory (default runs/<dataset>-<method>-B<budget>-<lr>[-<augmentations>]-s<seed>)");
  train->add_option("--dataset", dataset, "cifar10, cifar100, svhn, miniimagenet, fashion-mnist");
  train->add_option("--data-dir", data_dir, "folder holding the data set's files");
  train->add_option("--method", method, "sgd, scan-sgd, unif-sgd, p-sgd, c-sgd, sb, osgd, core-set, random-subset");
  train->add_option("--budget", budget, "budget B in (0, 1]");
  train->add_option("--epochs", epochs, "T, the full training's epochs (200 in the paper)");
  train->add_option("--lr-schedule", schedule, "step, linear, constant");
  train->add_option("--width", width, "ResNet-18 width multiplier");
  train->add_option("--train-subset", train_subset, "train on a fixed random subset of this many samples (0: all)");
  train->add_option("--seed", seed, "random seed");
  train->add_option("--device", device, "auto, cpu, cuda or cuda:N (GPU N)");
  train->add_option("--set", sets, "override any config field: --set optimizer.weight_decay=5e-4 (repeatable)");
  train->add_flag("--resume", resume, "continue the run in --run-dir from its checkpoint");
  train->add_flag("--quiet", quiet, "no progress lines");
  train->add_flag("--check-steady-state", check_steady_state,
                  "fail at the first allocation or wait for the device in a step after the first epoch "
                  "(engine/steady_state.h; docs/PERFORMANCE.md)");

  auto* eval = app.add_subcommand("eval", "test accuracy of the checkpoint in a run directory");
  std::string eval_dir, eval_device = "auto";
  eval->add_option("--run-dir", eval_dir, "run directory")->required();
  eval->add_option("--device", eval_device, "auto, cpu, cuda");

  auto* info = app.add_subcommand("info", "print the build and the devices found");

  auto* plot = app.add_subcommand("plot", "draw runs' curves (loss, accuracy, LR, samples backward per epoch) on "
                                          "shared axes; works while a run is still going");
  std::vector<std::string> plot_dirs;
  std::string plot_out;
  plot->add_option("--run-dir", plot_dirs, "a run directory (repeatable)")->required();
  plot->add_option("--out", plot_out, "file stem: <stem>.svg/.gp/.csv (default <run-dir>/curves for one run, "
                                      "curves-<n>-runs for several)");

  auto* check = app.add_subcommand("check", "check configs as `bts train` would and read their data sets, training "
                                            "nothing (the sweep apps' preflight)");
  std::string check_path;
  check->add_option("--configs", check_path, "JSON file: an array of {\"name\": ..., \"config\": {...}}")->required();

  auto* data = app.add_subcommand("data", "data set utilities");
  data->require_subcommand(1);
  auto* fetch = data->add_subcommand(
      "fetch",
      "download a data set's official files (CIFAR-10/100 binary versions, SVHN format 2), check their published "
      "MD5, and unpack them where `bts train --data-dir <to>` finds them: <to>/cifar-10-batches-bin, "
      "<to>/cifar-100-binary, <to>/{train,test}_32x32.mat. An interrupted download is resumed by running the "
      "command again; nothing unverified is ever put in place (docs/DATA.md)");
  std::string fetch_name, fetch_to = "data", fetch_from;
  bool fetch_quiet = false;
  fetch->add_option("dataset", fetch_name, "cifar10, cifar100 or svhn")->required();
  fetch->add_option("--to", fetch_to, "folder to put the data set in (created if missing)")->capture_default_str();
  fetch->add_option("--from", fetch_from,
                    "base URL to fetch the files from instead of the official site (http, https or file://; the "
                    "files keep their names and checksums); default: the environment variable BTS_DATA_MIRROR, "
                    "else the official site");
  fetch->add_flag("--quiet", fetch_quiet, "no progress lines");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*info) {
      std::printf("bts 0.1.0, %s\n", bts::device_summary(bts::probe_devices()).c_str());
      return 0;
    }
    if (*fetch) {
      bts::FetchOptions fo;
      fo.mirror = fetch_from;
      if (fo.mirror.empty() && std::getenv("BTS_DATA_MIRROR") != nullptr) fo.mirror = std::getenv("BTS_DATA_MIRROR");
      if (!fetch_quiet)
        fo.log = [](const std::string& line) {
          std::printf("bts: data fetch: %s\n", line.c_str());
          std::fflush(stdout);  // one line per step of a download that takes minutes
        };
      const bts::FetchSpec spec = bts::official_fetch_spec(fetch_name);  // rejects unknown names, listing the valid
      if (!fo.mirror.empty() && fo.log) fo.log("fetching from the mirror " + fo.mirror);
      const std::string dir = bts::fetch_dataset(spec, fetch_to, fo);
      std::printf("bts: data fetch: %s is ready: bts train --dataset %s --data-dir %s\n", fetch_name.c_str(),
                  fetch_name.c_str(), dir.c_str());
      return 0;
    }
    if (*plot) return bts::plot_command(plot_dirs, plot_out);
    if (*check) {
      const json points = bts::read_json_file(check_path);
      // One line per distinct error, with the points it stops (a missing data set stops them all).
      std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
      for (const auto& e : bts::preflight(points)) {
        auto it = std::find_if(grouped.begin(), grouped.end(), [&](const auto& g) { return g.first == e.what; });
        if (it == grouped.end()) it = grouped.insert(grouped.end(), {e.what, {}});
        it->second.push_back(e.name);
      }
      size_t failing = 0;
      for (const auto& [what, names] : grouped) {
        failing += names.size();
        std::string list = names.front() + (names.size() > 1 ? " and " + std::to_string(names.size() - 1) + " more" : "");
        std::fprintf(stderr, "bts: check: %s: %s\n", list.c_str(), what.c_str());
      }
      std::printf("bts: check: %zu config(s), %zu would fail\n", points.size(), failing);
      return failing == 0 ? 0 : 1;
    }
    if (*eval) {
      std::printf("%s\n", bts::evaluate_run(eval_dir, eval_device).dump(2).c_str());
      return 0;
    }
    json j = json::object();
    bts::TrainOptions opt;
    if (*train) {
      if (resume && run_dir.empty()) throw bts::Error("--resume needs --run-dir");
      const std::string file = resume ? run_dir + "/config.json" : config_path;
      if (resume && !std::ifstream(file)) throw bts::Error("--resume: no config.json in '" + run_dir + "'");
      opt.resume = resume;
      if (!file.empty()) {
        j = bts::read_json_file(file);
        // A file holding null or a list is not a config (null read as "all defaults" before).
        if (!j.is_object())
          throw bts::Error("config file '" + file + "' must hold a JSON object of settings, not " + j.type_name());
      }
      auto set = [&](const char* key, const json& v) { bts::apply_override(j, std::string(key) + "=" + v.dump()); };
      if (!run_dir.empty()) set("run_dir", run_dir);
      if (!dataset.empty()) set("dataset", dataset);
      if (!data_dir.empty()) set("data_dir", data_dir);
      if (!method.empty()) set("method", method);
      auto set_number = [&](const char* key, const std::string& text) {
        if (!text.empty()) bts::apply_override(j, std::string(key) + "=" + text);
      };
      set_number("budget", budget);
      set_number("epochs", epochs);
      if (!schedule.empty()) set("lr.schedule", schedule);
      set_number("model.width", width);
      set_number("train_subset", train_subset);
      set_number("seed", seed);
      if (!device.empty()) set("device", device);
      for (const auto& s : sets) bts::apply_override(j, s);
      opt.quiet = quiet;
      opt.check_steady_state = check_steady_state;
    } else {
      j = main_job_config();
      std::printf("bts: main job (no subcommand; `bts --help` lists them)\n");
      if (bts::probe_devices().cuda_devices == 0)
        std::printf("bts: no GPU here, so the main job is scaled down for the CPU: ResNet-18 width 0.125, a fixed\n"
                    "     12,000-image training subset, T = 15 epochs (B = 0.3 of that), full 10,000-image test set.\n");
      // Running the main job again shows a finished run's result, or continues an interrupted one.
      const std::string dir = j["run_dir"].get<std::string>();
      std::ifstream done(dir + "/result.json");
      if (done) {
        const json r = json::parse(done, nullptr, /*allow_exceptions=*/false);
        if (r.is_object() && r.contains("final_test_accuracy") && r["final_test_accuracy"].is_number())
          std::printf("bts: the main job already ran: final test accuracy %.2f%%; results in %s (remove that folder "
                      "to run it again)\n",
                      100 * r["final_test_accuracy"].get<double>(), dir.c_str());
        else
          std::printf("bts: %s/result.json exists but is unreadable; remove the folder to run the main job again\n",
                      dir.c_str());
        return 0;
      }
      if (std::ifstream(dir + "/checkpoint.bin")) {
        std::printf("bts: continuing the interrupted main job in %s\n", dir.c_str());
        opt.resume = true;
      }
    }
    const json result = bts::train(bts::config_from_json(j), opt);
    if (result.value("status", "") == "completed") {
      const std::string line = bts::draw_run_curves(result.value("run_dir", std::string()));
      if (!opt.quiet) std::printf("bts: %s\n", line.c_str());
    }
    return result.value("status", "") == "interrupted" ? 130 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bts: error: %s\n", e.what());
    return 1;
  }
}
