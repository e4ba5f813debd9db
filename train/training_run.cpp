#include "train/training_run.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/backend.h"
#include "engine/device.h"
#include "engine/steady_state.h"
#include "kernels/common/check.h"
#include "kernels/common/mixing.h"
#include "train/signals.h"

namespace bts {

using nlohmann::json;

namespace {

TrainConfig with_crop_padding(TrainConfig c) {
  if (!c.crop_flip) c.pad = 0;  // no random crop: no padding either
  return c;
}

std::vector<int32_t> checked_coreset(std::vector<int32_t> subset, int64_t n, double budget) {
  BTS_CHECK(subset.empty() ||
                static_cast<int64_t>(subset.size()) == static_cast<int64_t>(std::floor(static_cast<double>(n) * budget + 1e-9)),
            "core-set: the selection run trained on another data set size");
  return subset;
}

std::unique_ptr<ResNet18> make_model(const TrainConfig& cfg, const DeviceDataset& train, Device dev) {
  auto model = std::make_unique<ResNet18>(ResNet18Config{cfg.width, train.classes(), train.channels()});
  model->finalize(DType::F32, dev, cfg.seed);
  if (cfg.precision == "bf16") model->set_compute_dtype(DType::BF16);
  return model;
}

std::unique_ptr<SelectiveBackprop> make_selective_backprop(const TrainConfig& cfg, int64_t n, int targets,
                                                           const DeviceDataset& train, Device dev, Layout layout) {
  if (cfg.method != "sb") return nullptr;
  const double beta = cfg.sb_beta >= 0 ? cfg.sb_beta : 1.0 / cfg.budget - 1.0;  // kept fraction about B
  return std::make_unique<SelectiveBackprop>(
      SelectiveBackpropOptions{beta, cfg.sb_history, cfg.sb_prime_epochs, cfg.seed, cfg.sb_staleness, n, targets},
      cfg.batch_size, Shape{train.channels(), train.height(), train.width()}, dev, layout);
}

Tensor filled(const Shape& shape, double value, Device dev) {
  Tensor host = Tensor::empty(shape, DType::F32);
  host.fill(value);
  return host.to(dev);
}

}  // namespace

StepBuffers::StepBuffers(int64_t n, int64_t b, const DeviceDataset& train, Device dev, Layout layout)
    : order(Tensor::empty({n}, DType::I32, dev)),
      counts(Tensor::zeros({n}, DType::I32, dev)),
      stats(Tensor::zeros({2}, DType::F64, dev)),
      images(Tensor::empty({b, train.channels(), train.height(), train.width()}, DType::F32, dev, layout)),
      labels(Tensor::empty({b}, DType::I32, dev)),
      label_weights(filled({b, 1}, 1.0, dev)),
      sample_weights(filled({b}, 1.0 / static_cast<double>(b), dev)),
      partial_weights(Tensor::empty({b}, DType::F32, dev)),
      step_indices(Tensor::zeros({b}, DType::I32, dev)) {}

TrainingRun::TrainingRun(const TrainConfig& cfg, const json& cfg_json, const TrainOptions& opt, const RunLog& log,
                         Device device, CoresetSelection coreset)
    : cfg_(with_crop_padding(cfg)),
      cfg_json_(cfg_json),
      opt_(opt),
      log_(log),
      dir_(cfg.run_dir),
      ckpt_path_(dir_ / "checkpoint.bin"),
      dev_(device),
      coreset_info_(std::move(coreset.info)),
      data_(load_run_data(cfg_, device, opt.data)),
      n_(data_.train.size()),
      b_(cfg_.batch_size),
      model_(make_model(cfg_, data_.train, device)),
      sgd_(std::make_unique<Sgd>(model_->params(), SgdOptions{cfg_.momentum, cfg_.weight_decay, cfg_.nesterov})),
      sampler_(make_sampler(cfg_.method,
                            SamplerContext{n_, b_, cfg_.epochs, cfg_.budget, cfg_.seed, device,
                                           ImportanceOptions{cfg_.importance_eps, cfg_.importance_averaging,
                                                             cfg_.warmup_epochs}},
                            checked_coreset(std::move(coreset.subset), n_, cfg_.budget))),
      schedule_(parse_lr_schedule(cfg_.lr_schedule)),
      budget_(Budget::of(cfg_, *sampler_, n_)),
      mixer_(MixingOptions{cfg_.mixup_alpha, cfg_.ricap_beta,
                           cfg_.cutout < 0 ? kernels::default_cutout_size(cfg_.dataset) : cfg_.cutout, cfg_.seed},
             b_, data_.train.channels(), data_.train.height(), data_.train.width(), device,
             model_->input_layout(device, data_.train.channels())),
      sb_(make_selective_backprop(cfg_, n_, mixer_.targets(), data_.train, device,
                                  model_->input_layout(device, data_.train.channels()))),
      forgetting_(cfg_.record_forgetting ? std::make_unique<ForgettingTracker>(n_, device) : nullptr),
      buf_(n_, b_, data_.train, device, model_->input_layout(device, data_.train.channels())),
      evaluator_(data_.test, kEvalBatch),
      timer_(device),
      tape_(device),
      step_tape_(device),
      score_tape_(device),
      recorded_step_(device, cfg_.step_graph, step_tape_.arena(), RecordedStep::kPhase, "the training step"),
      recorded_scoring_(device, cfg_.step_graph && cfg_.method == "sb", score_tape_.arena(), "",
                        "selective backprop's scoring forward") {
  progress_.last_lr = cfg_.lr_initial;
  if (opt_.resume)
    restore();
  else
    start_fresh();
}

// A run killed after writing an epoch's metrics line but before its checkpoint resumes from the previous
// checkpoint: the lines past the checkpoint's epoch (and a torn last line) go, so the file never repeats an epoch.
void TrainingRun::rewind_metrics() const {
  const std::filesystem::path path = dir_ / "metrics.jsonl";
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    const json m = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (m.is_object() && m.contains("epoch") && m["epoch"].is_number_integer() &&
        m["epoch"].get<int64_t>() <= start_epoch_)
      kept += line + "\n";
  }
  in.close();
  write_text_atomic(path, kept);
}

void TrainingRun::start_fresh() {
  std::filesystem::remove(dir_ / kConvAlgorithmsFile);  // an earlier attempt's, never checkpointed
  write_text_atomic(dir_ / "config.json", cfg_json_.dump(2) + "\n");
  write_text_atomic((dir_ / "metrics.jsonl").string(), "");
}

void TrainingRun::log_header() const {
  const bool sb = sb_ != nullptr;
  log_("bts train: " + cfg_.dataset + " (" + std::to_string(n_) + " train / " + std::to_string(data_.test.size()) +
       " test), " + cfg_.method + " B=" + json(cfg_.budget).dump() + ", " + std::to_string(budget_.epochs) +
       " epochs x " + std::to_string(budget_.iterations_per_epoch) + (sb ? " scoring batches" : " iterations") +
       " of " + std::to_string(b_) + ", " + lr_schedule_name(schedule_) + " LR, " + model_->describe() + ", " +
       device_summary(probe_devices()) + (dev_ == Device::CPU ? " [running on the CPU]" : ""));
  if (cfg_.randaugment_n > 0)
    log_("RandAugment: N = " + std::to_string(cfg_.randaugment_n) + ", M = " + std::to_string(cfg_.randaugment_m));
  if (mixer_.active()) log_("batch augmentation: " + mixer_.describe());
  if (cfg_.batchnorm == "cudnn" && cfg_.precision != "bf16" && !cfg_.f32_channels_last)
    log_("note: batchnorm 'cudnn' takes channels-last activations only; this run's are NCHW (precision " +
         cfg_.precision + " without f32_channels_last), so its BatchNorms stay ours");
  if (sb)
    log_("selective backprop: beta " + json(sb_->options().beta).dump() + ", history " +
         std::to_string(cfg_.sb_history) + ", backward budget " + std::to_string(budget_.backward_samples) +
         " samples (" + std::to_string(budget_.schedule_iterations) + " training steps)" +
         (cfg_.sb_exact_budget ? ", stopping when spent" : ""));
}

json TrainingRun::execute() {
  log_header();
  t0_ = std::chrono::steady_clock::now();
  next_progress_ = cfg_.progress_seconds;
  since_t_ = elapsed();
  for (int64_t epoch = start_epoch_; epoch < budget_.epochs && !progress_.budget_spent; ++epoch) {
    if (!run_epoch(epoch, epoch == start_epoch_ ? start_iter_ : 0)) return interrupted();
    finish_epoch(epoch);
  }
  return finish();
}

// The steady-state guard for one phase of epoch `epoch`: armed from the second epoch this process trains on (the
// first warms up: arenas find their peak, plans and algorithms are chosen), when the options ask for it. A run
// resumed mid-epoch warms up over the rest of that epoch and the whole next one (its first draw comes there).
// `what` and `index` (>= 0: "iteration 3") name the phase; the label is made only when the guard is armed, so an
// unchecked run's steps pay nothing for it.
std::unique_ptr<SteadyStateScope> TrainingRun::steady_state_scope(int64_t epoch, const char* what,
                                                                  int64_t index) const {
  const int64_t first_guarded = start_epoch_ + (start_iter_ > 0 ? 2 : 1);
  if (!opt_.check_steady_state || epoch < first_guarded) return nullptr;
  std::string label = "epoch " + std::to_string(epoch + 1) + "'s " + what;
  if (index >= 0) label += " " + std::to_string(index);
  return std::make_unique<SteadyStateScope>(label + " (" + cfg_.method + ")");
}

bool TrainingRun::run_epoch(int64_t epoch, int64_t first) {
  if (first == 0) {  // a resumed mid-epoch run has this epoch's order from the checkpoint
    const auto guard = steady_state_scope(epoch, "sampling");
    timer_.start("sampling");
    sampler_->begin_epoch(epoch, buf_.order);
    timer_.stop("sampling");
    buf_.stats.zero();
    progress_.epoch_trained = 0;
  }
  const int64_t ipe = budget_.iterations_per_epoch;
  for (int64_t it = first; it < ipe && !progress_.budget_spent; ++it) {
    const int64_t step = epoch * ipe + it;
    Tensor idx = Tensor::wrap(buf_.order.data<int32_t>() + it * b_, {b_}, DType::I32, dev_);
    {
      const auto guard = steady_state_scope(epoch, "iteration", it + 1);
      if (!sb_) {
        train_presented_batch(step, idx);
        // No method trains more steps than its budget buys (a whole-epoch method's last epoch may end early).
        if (progress_.counters.iterations >= budget_.step_cap) progress_.budget_spent = true;
      } else {
        // The run's last presentation: the step that empties the queue now (or its flush below) is the last one.
        last_presentation_ = epoch == budget_.epochs - 1 && it == ipe - 1;
        sb_scoring_step(epoch, step, idx);
        while (sb_->queued() >= b_ && !progress_.budget_spent) sb_train_queued(b_);
      }
    }
    images_since_ += b_;
    const bool stop_now = interrupt_signal() != 0 ||
                          (opt_.stop_after_steps > 0 && progress_.counters.iterations >= opt_.stop_after_steps);
    if (stop_now || elapsed() >= next_progress_) report_progress(epoch, step);
    if (stop_now) {
      save_checkpoint(epoch, it + 1);
      return false;
    }
  }
  // Selective backprop: the epoch's partial queue trains as a smaller batch.
  if (sb_ && !progress_.budget_spent && sb_->queued() > 0) {
    const auto guard = steady_state_scope(epoch, "partial batch");
    sb_train_queued(sb_->queued());
  }
  // The last step's tensors go; a first epoch's arenas fold to their peak here, before any guard. The step tape's
  // one block stays where a recorded step's graph expects it (folding moves nothing once folded).
  tape_.clear();
  step_tape_.clear();
  score_tape_.clear();
  return true;
}

void TrainingRun::report_progress(int64_t epoch, int64_t step) {
  merge_phases();  // waits for the device
  const std::vector<double> s = epoch_stats(epoch);
  const double seen = static_cast<double>(std::max<int64_t>(1, progress_.epoch_trained));
  const double now = elapsed(), rate = static_cast<double>(images_since_) / std::max(1e-9, now - since_t_);
  const int64_t remaining = budget_.epochs * budget_.iterations_per_epoch - step - 1;
  const double eta = static_cast<double>(remaining * b_) / std::max(rate, 1e-9);
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %lld/%lld  iter %lld/%lld  loss %.4f  acc %.2f%%  lr %.2e  %.0f img/s  elapsed %s  ETA %s",
                (long long)epoch + 1, (long long)budget_.epochs, (long long)progress_.counters.iterations,
                (long long)budget_.schedule_iterations, s[0] / seen, 100.0 * s[1] / seen, progress_.last_lr, rate,
                format_duration(now).c_str(), format_duration(eta).c_str());
  log_(line);
  next_progress_ = now + cfg_.progress_seconds;
  images_since_ = 0;
  since_t_ = now;
}

json TrainingRun::interrupted() {
  const int sig = interrupt_signal();
  log_(std::string("interrupted") + (sig ? " by signal " + std::to_string(sig) : "") +
       ": checkpoint written; continue with: bts train --resume --run-dir " + cfg_.run_dir);
  return {{"status", "interrupted"}, {"run_dir", cfg_.run_dir}};
}

double TrainingRun::lr_at(int64_t step) const {
  return learning_rate(schedule_, cfg_.lr_initial, cfg_.lr_final, budget_.schedule_position(step, progress_.counters),
                       budget_.schedule_iterations);
}

double TrainingRun::last_lr() const {
  return learning_rate(schedule_, cfg_.lr_initial, cfg_.lr_final, budget_.schedule_iterations - 1,
                       budget_.schedule_iterations);
}

double TrainingRun::elapsed() const {
  return progress_.elapsed_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void TrainingRun::merge_phases() {
  for (auto& [k, v] : timer_.collect()) progress_.phase_ms[k] += v;
}

std::string TrainingRun::kept_checkpoint() const {
  if (checkpoint_epoch_ < 0) return "no checkpoint was written before it";
  return "the last checkpoint, " + ckpt_path_.string() + ", holds the end of epoch " +
         std::to_string(checkpoint_epoch_) + " (checked finite when written)";
}

std::vector<double> TrainingRun::epoch_stats(int64_t epoch) const {
  const std::vector<double> s = buf_.stats.to_double_vector();
  BTS_CHECK(std::isfinite(s[0]), "training loss became " << s[0] << " in epoch " << epoch + 1 << " (iteration "
                                                         << progress_.counters.iterations
                                                         << "): the run diverged (try a lower lr.initial); "
                                                         << kept_checkpoint());
  return s;
}

// The loss alone does not reveal divergence: ReLU maps NaN to 0, so a model can carry non-finite weights while
// its loss stays finite. Checked at every epoch's end, before the checkpoint, so a checkpoint is always finite.
void TrainingRun::check_parameters_finite(int64_t epoch) const {
  int64_t bad = 0, total = 0;
  for (const Tensor* t : {&model_->params().flat_data(), &model_->buffers().flat_data()}) {
    const Tensor host = t->to(Device::CPU);
    const float* v = host.data<float>();
    for (int64_t i = 0; i < host.numel(); ++i) bad += !std::isfinite(v[i]);
    total += host.numel();
  }
  BTS_CHECK(bad == 0, "training diverged in epoch " << epoch + 1 << " (iteration " << progress_.counters.iterations
                                                    << "): " << bad << " of " << total
                                                    << " parameters and BatchNorm statistics are not finite (try a "
                                                       "lower lr.initial); "
                                                    << kept_checkpoint());
}

}  // namespace bts
