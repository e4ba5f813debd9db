#include "train/trainer.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/backend.h"
#include "engine/device.h"
#include "engine/file_write.h"
#include "engine/tensor_file.h"
#include "kernels/common/check.h"
#include "train/coreset_selection.h"
#include "train/evaluation.h"
#include "train/preflight.h"
#include "train/run_data.h"
#include "train/run_lock.h"
#include "train/signals.h"
#include "train/training_run.h"

namespace bts {

using nlohmann::json;
namespace fs = std::filesystem;

double count_entropy(const std::vector<int32_t>& counts) {
  double total = 0;
  for (int32_t c : counts) total += c;
  if (total <= 0) return 0;
  double h = 0;
  for (int32_t c : counts)
    if (c > 0) {
      const double p = c / total;
      h -= p * std::log(p);
    }
  return h;
}

namespace {

// Set up and run, with the directory locked and checked; `started` becomes true when training begins.
// The run's convolution algorithm search, and on resume the choices the interrupted attempt recorded (so it
// convolves exactly as before). A fresh run starts from none (forgetting any an earlier run in this process had;
// a leftover file of an attempt that never checkpointed is not this run's).
void use_conv_algorithms(const TrainConfig& cfg, const fs::path& dir, Device dev, bool resume) {
  Backend& be = backend(dev);
  be.set_conv_algorithm_search(cfg.conv_algorithms == "measured");
  const fs::path file = dir / kConvAlgorithmsFile;
  std::string text;
  if (resume && fs::exists(file)) {
    std::ifstream in(file);
    BTS_CHECK(in, "cannot read " << file.string());
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  be.use_conv_algorithms(text, file.string());
}

json run_in_directory(const TrainConfig& cfg, const json& cfg_json, const TrainOptions& opt, const fs::path& dir,
                      bool& started) {
  const Device dev = choose_device(cfg.device);
  backend(dev).set_tf32(cfg.precision == "tf32");
  backend(dev).set_f32_channels_last(cfg.f32_channels_last);
  backend(dev).set_batchnorm_cudnn(cfg.batchnorm == "cudnn");
  use_conv_algorithms(cfg, dir, dev, opt.resume);
  const RunLog log(dir, opt.quiet, /*fresh=*/!opt.resume);
  CoresetSelection coreset;
  if (cfg.method == "core-set") {
    coreset = select_coreset(cfg, opt, log);
    if (coreset.interrupted) return coreset.result;
  }
  TrainingRun run(cfg, cfg_json, opt, log, dev, std::move(coreset));
  const InterruptScope interrupts;
  started = true;
  return run.execute();
}

// After a failure: a directory this call created, for a run that never began training (bad data folder, a device
// that does not answer), is removed, so a failed start leaves no litter; otherwise the error goes to the end of its
// log.txt, beside the run it ended.
void record_failure(const fs::path& dir, bool created, bool started, const std::string& what) {
  std::error_code ec;
  if (created && !started) {
    fs::remove_all(dir, ec);
    return;
  }
  try {
    append_text((dir / "log.txt").string(), "error: " + what + "\n");
  } catch (const std::exception&) {  // the error being reported matters more than the log line (a full disk)
  }
}

}  // namespace

json train(const TrainConfig& cfg_in, const TrainOptions& opt) {
  TrainConfig cfg = cfg_in;
  if (cfg.run_dir.empty()) cfg.run_dir = default_run_dir(cfg);
  const fs::path dir(cfg.run_dir);
  const json cfg_json = config_to_json(cfg);
  check_combination(cfg);
  const bool created = !fs::exists(dir);
  std::error_code made;
  fs::create_directories(dir, made);
  BTS_CHECK(!made && fs::is_directory(dir),
            "run_dir '" << dir.string() << "': cannot make it a folder ("
                        << (made ? made.message() : std::string("a file of that name exists")) << ")");
  const RunLock lock(dir);  // one writer per run directory, until this function returns
  remove_stale_temporaries(dir);
  if (!opt.resume) {
    // A finished run is never overwritten, even when its checkpoint is gone: result.json marks it done.
    BTS_CHECK(!fs::exists(dir / "result.json"), "run directory '" << cfg.run_dir
                                                                  << "' holds a finished run (result.json): choose "
                                                                     "another --run-dir or remove it");
    BTS_CHECK(!fs::exists(dir / "checkpoint.bin"), "run directory '" << cfg.run_dir
                                                                     << "' already holds a checkpoint: resume it "
                                                                        "(--resume) or choose another --run-dir");
  }
  bool started = false;
  try {
    return run_in_directory(cfg, cfg_json, opt, dir, started);
  } catch (const std::exception& e) {
    record_failure(dir, created, started, e.what());
    throw;
  }
}

json evaluate_run(const std::string& run_dir, const std::string& device) {
  const fs::path dir(run_dir);
  BTS_CHECK(fs::exists(dir / "checkpoint.bin"), "no checkpoint in '" << run_dir << "'");
  const std::string file = (dir / "checkpoint.bin").string();
  TensorMap ck = read_tensor_file(file);
  TrainConfig cfg;
  try {
    cfg = config_from_json(json::parse(tensor_to_text(tensor_entry(ck, file, "config_json"))));
  } catch (const json::exception& e) {
    BTS_FAIL("checkpoint '" << file << "': its config is not valid JSON: " << e.what());
  }
  const Device dev = choose_device(device);
  DataSplit data = load_dataset(cfg.dataset, cfg.data_dir);
  take_subset(data.test, cfg.test_subset);
  DeviceDataset test_ds(std::move(data.test), dev, 0);
  ResNet18 model({cfg.width, test_ds.classes(), test_ds.channels()});
  model.finalize(DType::F32, dev, cfg.seed);
  backend(dev).set_tf32(cfg.precision == "tf32");
  backend(dev).set_f32_channels_last(cfg.f32_channels_last);
  if (cfg.precision == "bf16") model.set_compute_dtype(DType::BF16);
  try {
    restore_entry(ck, "params", model.params().flat_data());
    restore_entry(ck, "buffers", model.buffers().flat_data());
  } catch (const std::exception& e) {
    BTS_FAIL("checkpoint '" << file << "': " << e.what());
  }
  EvalResult ev = evaluate(model, test_ds, kEvalBatch);
  return {{"run_dir", run_dir}, {"test_accuracy", ev.accuracy}, {"test_loss", ev.loss}, {"test_size", test_ds.size()}};
}

}  // namespace bts
