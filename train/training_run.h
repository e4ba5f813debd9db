// One budgeted training run as an object that owns its state, and a short sequence of named phases
// (docs/ARCHITECTURE.md):
//   set up (data, model, optimizer, strategy, buffers) or restore from checkpoint.bin
//   per epoch: the sampler's draw, then per presented batch: build it (crop/flip, RandAugment, cutout,
//     mixup/RICAP), then a training step, or for selective backprop a scoring step whose kept samples queue up
//     and train in full batches; progress lines; at the end of the epoch: statistics, evaluation, the metrics
//     line and a checkpoint
//   finish: sample counts, forgetting events, result.json
// Files: training_run.cpp (set-up and the loop), training_steps.cpp (the training and scoring steps),
// run_checkpoint.cpp (save/restore), run_result.cpp (epoch metrics and the final result).
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/phase_timer.h"
#include "engine/sgd.h"
#include "engine/steady_state.h"
#include "models/resnet18.h"
#include "train/batch_mixing.h"
#include "train/budget.h"
#include "train/config.h"
#include "train/coreset_selection.h"
#include "train/evaluation.h"
#include "train/lr_schedule.h"
#include "train/recorded_step.h"
#include "train/run_data.h"
#include "train/run_log.h"
#include "train/run_progress.h"
#include "train/strategies/coreset.h"
#include "train/strategies/sampler.h"
#include "train/strategies/selective_backprop.h"
#include "train/trainer.h"

namespace bts {

// Beside a run: the convolution algorithms it chose (GPU; kernels/common/conv_algo_record.h), read back on resume.
constexpr const char* kConvAlgorithmsFile = "conv_algorithms.txt";

// The device buffers a step reads and writes, allocated once per run; the batch's images in `layout` (the model's
// input layout, Model::input_layout).
struct StepBuffers {
  StepBuffers(int64_t train_size, int64_t batch, const DeviceDataset& train, Device device, Layout layout);
  Tensor order;            // I32 [N]: this epoch's presentation order
  Tensor counts;           // I32 [N]: presentations that went backward, per sample
  Tensor stats;            // F64 [2]: this epoch's training loss sum and correct count
  Tensor images, labels;   // the built batch: F32 [b, C, H, W] (NCHW or NHWC), I32 [b]
  Tensor label_weights;    // F32 [b, 1] of ones (one target per image)
  Tensor sample_weights;   // F32 [b] of 1/b (the batch mean)
  Tensor partial_weights;  // F32 [b]: 1/k for a batch of k < b (selective backprop's flushes)
  int64_t partial_k = 0;
  Tensor step_indices;     // I32 [b]: a recorded step's indices (the presented batch's, copied here before it)
};

// What one training step trains on: k images with labels [k] (or [k, M] with label_weights under mixing, and the
// mixer's source slots for the importance credit), and their data-set indices. Views of device buffers, held by
// value (a recorded step keeps its own).
struct StepInputs {
  Tensor images;
  Tensor labels;
  Tensor label_weights;  // undefined: one target per image, weight 1
  Tensor source_slot;    // undefined unless mixed
  Tensor indices;
  int64_t k;
  StepInputs views() const;  // the same tensors, as new views
};

class TrainingRun {
 public:
  // cfg has its run_dir resolved; cfg_json is the config as the run directory keeps it.
  TrainingRun(const TrainConfig& cfg, const nlohmann::json& cfg_json, const TrainOptions& opt, const RunLog& log,
              Device device, CoresetSelection coreset);
  // Runs (or continues) to the end; the result, or an "interrupted" one after a checkpoint.
  nlohmann::json execute();

 private:
  // Phases.
  void restore();
  void start_fresh();
  void log_header() const;
  bool run_epoch(int64_t epoch, int64_t first_iteration);  // false: interrupted (a checkpoint was written)
  void set_batch_step(int64_t step);  // the batch build's per-step arguments, to device memory
  void build_batch_work(const Tensor& idx, PhaseTimer* timer);        // the build's kernels (recordable)
  void add_build_key(RecordedStepKey& key) const;                     // what a recorded build holds
  void train_presented_batch(int64_t step, const Tensor& idx);
  // build_batch: the step's work starts with the batch build from in.indices (a presented batch)
  void train_step(const StepInputs& in, double lr, bool build_batch = false);
  void step_work(const StepInputs& in, Tape& tape, PhaseTimer* timer);  // the step's device work
  void sb_scoring_step(int64_t epoch, int64_t step, const Tensor& idx);
  Tensor score_batch(const Tensor& images, const Tensor& labels, const Tensor& label_weights, int64_t n, Tape& tape);
  Tensor score_rows(const Tensor& images, const Tensor& labels, const Tensor& label_weights, int64_t n,
                    const Tensor* build_from = nullptr);
  void sb_train_queued(int64_t k);
  void report_progress(int64_t epoch, int64_t step);
  void finish_epoch(int64_t epoch);
  void save_checkpoint(int64_t epoch, int64_t iteration);
  nlohmann::json interrupted();
  nlohmann::json finish();

  // Helpers.
  double lr_at(int64_t step) const;
  double last_lr() const;  // the schedule's value at its last iteration (lr.final for the linear schedule)
  double elapsed() const;
  std::unique_ptr<SteadyStateScope> steady_state_scope(int64_t epoch, const char* what, int64_t index = -1) const;
  void merge_phases();
  std::vector<double> epoch_stats(int64_t epoch) const;  // host copy of the stats, checked finite
  void check_parameters_finite(int64_t epoch) const;     // throws when the model diverged
  std::string kept_checkpoint() const;                   // what a divergence message says is kept
  void rewind_metrics() const;                           // metrics.jsonl back to the checkpoint's epoch
  nlohmann::json result_json(const std::vector<int32_t>& counts) const;

  TrainConfig cfg_;
  nlohmann::json cfg_json_;
  TrainOptions opt_;
  const RunLog& log_;
  std::filesystem::path dir_, ckpt_path_;
  Device dev_;
  nlohmann::json coreset_info_;
  RunData data_;
  int64_t n_, b_;
  std::unique_ptr<ResNet18> model_;
  std::unique_ptr<Sgd> sgd_;
  std::unique_ptr<Sampler> sampler_;
  LrSchedule schedule_;
  Budget budget_;
  BatchMixer mixer_;
  std::unique_ptr<SelectiveBackprop> sb_;
  std::unique_ptr<ForgettingTracker> forgetting_;
  StepBuffers buf_;
  Evaluator evaluator_;
  RunProgress progress_;
  int64_t start_epoch_ = 0, start_iter_ = 0;
  int64_t checkpoint_epoch_ = -1;  // the epoch the last checkpoint written or restored holds; -1: none
  PhaseTimer timer_;
  Tape tape_;        // eager work: selective backprop's partial batches and scoring with staleness
  Tape step_tape_;   // full-batch training steps only, so a recorded step's memory stays its own
  Tape score_tape_;  // selective backprop's full scoring forwards only, likewise
  RecordedStep recorded_step_, recorded_scoring_;
  std::map<RecordedStepKey, Tensor> scored_losses_;  // each recorded scoring forward's losses (in score_tape_)
  std::chrono::steady_clock::time_point t0_;
  double next_progress_ = 0, since_t_ = 0;
  int64_t images_since_ = 0;
  std::string conv_algorithms_written_;  // what conv_algorithms.txt holds now
  bool last_presentation_ = false;  // selective backprop: the last scoring batch of the last epoch is being trained
};

}  // namespace bts
