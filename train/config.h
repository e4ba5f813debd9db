// One experiment, as a JSON config. Every field is validated: unknown keys and bad values are rejected with a
// message naming the key, the value and what is allowed. to_json gives the resolved config (defaults filled in),
// which the run directory keeps.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace bts {

// Upper bounds that keep the budget's counts (B*T*N samples, epochs * iterations) far inside int64 for any data
// set, and selective backprop's history (scanned once per scored sample) to a size that still runs.
constexpr int64_t kMaxEpochs = 1000000;
constexpr int64_t kMaxSbHistory = int64_t(1) << 20;

struct TrainConfig {
  std::string dataset = "fashion-mnist";
  std::string data_dir;                 // empty: the data set's default location (fashion-mnist only)
  std::string method = "unif-sgd";      // sgd, scan-sgd, unif-sgd, p-sgd, c-sgd, sb, osgd, core-set, random-subset
  double budget = 1.0;                  // B in (0, 1]
  int64_t epochs = 200;                 // T of the full training (1..kMaxEpochs)
  int64_t batch_size = 128;
  double width = 1.0;                   // ResNet-18 width multiplier
  std::string lr_schedule = "linear";   // step, linear, constant
  double lr_initial = 0.1;
  double lr_final = 1e-6;               // linear schedule's last value
  double momentum = 0.9;
  double weight_decay = 1e-4;
  bool nesterov = false;
  bool importance_eps = true;           // p-SGD/c-SGD: add eps = mean importance
  bool importance_averaging = true;     // p-SGD/c-SGD: running mean of p (false: last value)
  int64_t warmup_epochs = 0;            // p-SGD/c-SGD: first W epochs uniform
  bool crop_flip = true;                // the standard augmentation (flip follows the data set)
  int pad = 4;
  int randaugment_n = 0;                // RandAugment ops per image (0: off; the paper uses N = 2)
  int randaugment_m = 4;                // RandAugment magnitude in [0, 30]
  double mixup_alpha = 0;               // mixup Beta(alpha, alpha) (0: off; the paper uses 0.3)
  double ricap_beta = 0;                // RICAP Beta(beta, beta) (0: off; the paper uses 0.3)
  int cutout = 0;                       // cutout hole side in pixels (0: off; -1: the data set's default)
  // Selective backprop (METHODS.md): P = (fraction of the loss history below L)^beta.
  double sb_beta = -1;                  // -1: 1/B - 1 (kept fraction ~ B)
  int64_t sb_history = 1024;            // R (batch_size..kMaxSbHistory)
  int64_t sb_prime_epochs = 0;          // first epochs backprop every scored sample
  int64_t sb_staleness = 0;             // reuse a cached loss for up to S epochs (0: always re-score)
  bool sb_exact_budget = true;          // stop when B*T*N backward samples are spent
  // Core-set: the N*B most forgotten samples of a full selection run (forgetting events, Toneva et al.).
  std::string coreset_selection_run;    // run folder of the selection run (empty: <run_dir>-selection)
  bool record_forgetting = false;       // write forgetting.bin (per-sample forgetting events) for any run
  uint64_t seed = 0;
  std::string device = "auto";          // auto, cpu, cuda, cuda:N
  // Arithmetic of the model: fp32 (exact fp32, the paper's runs bit-reproducible on one GPU), tf32 (fp32 tensors,
  // TF32 tensor cores for convolutions and GEMMs on the GPU; fp32 on the CPU), bf16 (mixed precision: bf16
  // activations and weight copies, fp32 master weights, momentum, BatchNorm statistics and loss).
  std::string precision = "tf32";
  // How cuDNN's convolution algorithms are chosen on the GPU: heuristic (cuDNN's heuristics, the same choice every
  // run) or measured (each algorithm timed once per shape in the first steps; the fastest deterministic one kept,
  // and recorded in the run's conv_algorithms.txt so a resumed run uses the same). No effect on the CPU.
  std::string conv_algorithms = "heuristic";
  // Record the full-batch training step once and replay it (engine/step_graph.h): on the GPU a CUDA graph, one
  // launch per step instead of ~250; on the CPU the step runs again under the steady-state guard. Results are the
  // same bit for bit either way; false runs every step eagerly, with the per-phase times (forward, backward, ...)
  // that a replayed step reports as one phase.
  bool step_graph = true;
  // fp32/tf32 activations channels last (NHWC) on the GPU, as bf16's always are: cuDNN's tensor-core convolutions
  // prefer NHWC, but our f32 kernels were tuned in NCHW; off until a measurement says otherwise (bench --precision
  // tf32-nhwc). No effect on the CPU.
  bool f32_channels_last = false;
  // Training-mode BatchNorm (+ReLU) of channels-last activations: "own" (kernels/cuda/batchnorm.h) or "cudnn"
  // (cuDNN's fused persistent NHWC kernels, kernels/cuda/cudnn_batchnorm.h), to compare (bench --precision
  // bf16-cudnn-bn). GPU only: "cudnn" is refused on the CPU.
  std::string batchnorm = "own";
  int64_t train_subset = 0;             // 0: the whole training set; k: a fixed random subset of k samples
  int64_t test_subset = 0;              // 0: the whole test set
  int64_t eval_every = 1;               // epochs
  int64_t checkpoint_every = 1;         // epochs
  double progress_seconds = 10;         // progress line period
  std::string run_dir;                  // empty: default_run_dir (the augmentations on are in the name)
};

TrainConfig config_from_json(const nlohmann::json& j);
nlohmann::json config_to_json(const TrainConfig& c);
// Reads a JSON file a user wrote (a config, `bts check`'s list): errors name the file, and a key given twice in one
// object is refused (the JSON library keeps the last one silently, so `"budget": 0.5, ..., "budget": 0.7` ran 0.7).
nlohmann::json read_json_file(const std::string& path);
// The same checks on JSON text; `name` says where it came from in the messages.
nlohmann::json parse_json_text(const std::string& text, const std::string& name);
// Applies "dotted.key=value" (value parsed as JSON, else taken as a string) on top of a JSON config.
void apply_override(nlohmann::json& j, const std::string& assignment);
std::string default_run_dir(const TrainConfig& c);

}  // namespace bts
