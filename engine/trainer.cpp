#include "engine/trainer.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/device_dataset.h"
#include "engine/batch_mixing.h"
#include "engine/device.h"
#include "engine/forgetting.h"
#include "engine/lr_schedule.h"
#include "engine/ops.h"
#include "engine/phase_timer.h"
#include "engine/sampler.h"
#include "engine/selective_backprop.h"
#include "engine/sgd.h"
#include "engine/tensor_file.h"
#include "kernels/common/mixing.h"
#include "kernels/cpu/sampling.h"
#include "models/resnet18.h"
#ifdef BTS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/sampling.h"
#endif

namespace bts {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) { g_signal = s; }

// Installs SIGINT/SIGTERM handlers for the duration of a run and restores the previous ones.
struct SignalScope {
  using Handler = void (*)(int);
  Handler old_int, old_term;
  SignalScope() {
    g_signal = 0;
    old_int = std::signal(SIGINT, on_signal);
    old_term = std::signal(SIGTERM, on_signal);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

Device pick_device(const std::string& want) {
  const DeviceStatus st = probe_devices();
  if (want == "cpu") return Device::CPU;
  if (want == "cuda") {
    BTS_CHECK(st.cuda_devices > 0, "device 'cuda' requested but " << device_summary(st));
    return Device::CUDA;
  }
  return st.cuda_devices > 0 ? Device::CUDA : Device::CPU;
}

void write_text_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    BTS_CHECK(f.good(), "cannot create " << tmp);
    f << text;
    f.flush();
    BTS_CHECK(f.good(), "write to " << tmp << " failed (disk full?)");
  }
  fs::rename(tmp, path);
}

Tensor text_tensor(const std::string& s) {
  Tensor t = Tensor::empty({static_cast<int64_t>(s.size())}, DType::U8);
  std::copy(s.begin(), s.end(), t.data<uint8_t>());
  return t;
}
std::string tensor_text(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data<uint8_t>()), static_cast<size_t>(t.numel()));
}

// A fixed random subset of k samples (the same for every run with the same k), for scaled-down CPU runs.
void take_subset(Dataset& ds, int64_t k) {
  const int64_t n = ds.size();
  if (k <= 0 || k >= n) return;
  std::vector<int32_t> order(static_cast<size_t>(n));
  kernels::cpu::random_order(/*seed=*/0x5u, /*epoch=*/0, n, order.data());
  const int64_t per = ds.images.numel() / n;
  Tensor images = Tensor::empty({k, ds.images.dim(1), ds.images.dim(2), ds.images.dim(3)}, DType::U8);
  Tensor labels = Tensor::empty({k}, DType::I32);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t src = order[static_cast<size_t>(i)];
    std::copy_n(ds.images.data<uint8_t>() + src * per, per, images.data<uint8_t>() + i * per);
    labels.data<int32_t>()[i] = ds.labels.data<int32_t>()[src];
  }
  ds.images = std::move(images);
  ds.labels = std::move(labels);
}

std::vector<double> host_doubles(const Tensor& t) { return t.to_double_vector(); }

struct Counters {
  int64_t iterations = 0, samples_forward = 0, samples_backward = 0, samples_scored = 0;
  json to_json() const {
    return {{"iterations", iterations},
            {"samples_forward", samples_forward},
            {"samples_backward", samples_backward},
            {"samples_scored", samples_scored}};
  }
  void from_json(const json& j) {
    iterations = j.at("iterations");
    samples_forward = j.at("samples_forward");
    samples_backward = j.at("samples_backward");
    samples_scored = j.at("samples_scored");
  }
};

void accumulate_stats(const Tensor& logits, const Tensor& loss, const Tensor& labels, int64_t M, Tensor& stats) {
  const int64_t N = logits.dim(0), K = logits.dim(1);
  if (logits.device() == Device::CPU) {
    kernels::cpu::accumulate_batch_stats(logits.data<float>(), loss.data<float>(), labels.data<int32_t>(), N, K, M,
                                         stats.data<double>());
    return;
  }
#ifdef BTS_WITH_CUDA
  kernels::cuda::accumulate_batch_stats(kernels::cuda::current_context().stream(), logits.data<float>(),
                                        loss.data<float>(), labels.data<int32_t>(), N, K, M, stats.data<double>());
#endif
}

// Presentation counts of the samples that went backward (weight > 0: all but OSGD's dropped losses).
void add_counts(const Tensor& idx, const Tensor& weights, Tensor& counts) {
  if (idx.device() == Device::CPU) {
    kernels::cpu::add_counts(idx.data<int32_t>(), idx.numel(), counts.data<int32_t>(), weights.data<float>());
    return;
  }
#ifdef BTS_WITH_CUDA
  kernels::cuda::add_counts(kernels::cuda::current_context().stream(), idx.data<int32_t>(), idx.numel(),
                            counts.data<int32_t>(), weights.data<float>());
#endif
}

StreamHandle stream_of(Device d) {
#ifdef BTS_WITH_CUDA
  if (d == Device::CUDA) return kernels::cuda::current_context().stream();
#endif
  (void)d;
  return nullptr;
}

struct EvalResult {
  double loss = 0, accuracy = 0;
};

EvalResult evaluate(Model& model, const DeviceDataset& test, int64_t batch) {
  const Device dev = test.device();
  Tape tape(dev);
  NoGradGuard no_grad(tape);
  model.set_training(false);
  Tensor stats = Tensor::zeros({2}, DType::F64, dev);
  const int64_t n = test.size();
  // Target weights made once (accuracy and mean loss come from the per-sample outputs, not the weighted total).
  Tensor ones = Tensor::empty({batch}, DType::F32);
  ones.fill(1.0);
  ones = ones.to(dev);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    tape.clear();
    Tensor idx = index_range(start, b, dev);
    Batch bt = test.batch(idx, BatchOptions{0, 0, false}, stream_of(dev));
    Targets tg;
    tg.labels = bt.labels.reshaped({b, 1});
    tg.label_weights = Tensor::wrap(ones.raw(), {b, 1}, DType::F32, dev);
    tg.sample_weights = Tensor::wrap(ones.raw(), {b}, DType::F32, dev);
    Var logits = model.forward(tape, tape.input(bt.images));
    CrossEntropyResult ce = cross_entropy(tape, logits, tg);
    accumulate_stats(logits.value(), *ce.loss_per_sample, tg.labels, 1, stats);
  }
  model.set_training(true);
  const std::vector<double> s = host_doubles(stats);
  return {s[0] / static_cast<double>(n), s[1] / static_cast<double>(n)};
}

std::string fmt_time(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

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

json train(const TrainConfig& cfg_in, const TrainOptions& opt) {
  TrainConfig cfg = cfg_in;
  if (cfg.run_dir.empty()) cfg.run_dir = default_run_dir(cfg);
  const fs::path dir(cfg.run_dir);
  const fs::path ckpt_path = dir / "checkpoint.bin";
  const json cfg_json = config_to_json(cfg);
  fs::create_directories(dir);
  if (!opt.resume)
    BTS_CHECK(!fs::exists(ckpt_path), "run directory '" << cfg.run_dir
                                                        << "' already holds a checkpoint: resume it (--resume) or "
                                                           "choose another --run-dir");

  BTS_CHECK(cfg.randaugment_n == 0 || cfg.crop_flip,
            "RandAugment runs before the standard crop/flip (as in the paper): it needs augment.crop_flip");
  const bool mixing = cfg.mixup_alpha > 0 || cfg.ricap_beta > 0;
  BTS_CHECK(!(mixing && (cfg.record_forgetting || cfg.method == "core-set")),
            "forgetting events (record_forgetting, core-set) need one label per image: turn mixup/RICAP off");
  const bool is_sb = cfg.method == "sb";
  const Device dev = pick_device(cfg.device);
#ifdef BTS_WITH_CUDA
  if (dev == Device::CUDA) kernels::cuda::current_context().set_allow_tf32(cfg.tf32);
#endif
  auto log = [&](const std::string& line) {
    if (!opt.quiet) std::printf("%s\n", line.c_str());
    std::ofstream(dir / "log.txt", std::ios::app) << line << "\n";
  };
  if (!opt.resume) std::ofstream(dir / "log.txt", std::ios::trunc);

  // Core-set: the N*B most forgotten samples of a full-training selection run (run first, or resumed, or reused
  // when it already completed); its cost is reported beside this run's.
  json coreset_info;
  std::vector<int32_t> coreset;
  if (cfg.method == "core-set") {
    TrainConfig sel = cfg;
    sel.method = "sgd";
    sel.budget = 1.0;
    sel.record_forgetting = true;
    sel.coreset_selection_run.clear();
    sel.run_dir = cfg.coreset_selection_run.empty() ? cfg.run_dir + "-selection" : cfg.coreset_selection_run;
    const fs::path sel_dir(sel.run_dir);
    json sel_result;
    if (fs::exists(sel_dir / "result.json") && fs::exists(sel_dir / "forgetting.bin")) {
      std::ifstream f(sel_dir / "result.json");
      sel_result = json::parse(f);
      // Its indices must mean the same samples: same data, subset, model and training length.
      const json want = config_to_json(sel), have = sel_result.at("config");
      for (const char* key : {"dataset", "data_dir", "train_subset", "epochs", "batch_size", "model", "seed"})
        BTS_CHECK(want.at(key) == have.at(key), "core-set: the selection run in " << sel.run_dir << " has " << key
                                                                                  << " = " << have.at(key).dump()
                                                                                  << ", this run needs "
                                                                                  << want.at(key).dump());
      log("core-set: reusing the selection run in " + sel.run_dir);
    } else {
      log("core-set: selection run (full SGD training recording forgetting events) in " + sel.run_dir);
      TrainOptions so = opt;
      so.resume = fs::exists(sel_dir / "checkpoint.bin");
      so.stop_after_steps = 0;
      sel_result = train(sel, so);
      if (sel_result.value("status", "") == "interrupted") {
        log("core-set: the selection run was interrupted; run the same command again to continue it");
        return sel_result;
      }
      BTS_CHECK(sel_result.value("status", "") == "completed",
                "core-set: the selection run in " << sel.run_dir << " did not complete; resume this run to go on");
    }
    const int64_t n_sel = sel_result.at("budget_asked").at("train_size");
    const int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(n_sel) * cfg.budget + 1e-9));
    std::vector<int32_t> presented;  // samples the selection run never showed cannot count as never learned
    if (fs::exists(sel_dir / "sample_counts.bin")) {
      const Tensor c = read_tensor_file((sel_dir / "sample_counts.bin").string()).at("counts").to(Device::CPU);
      presented.assign(c.data<int32_t>(), c.data<int32_t>() + c.numel());
    }
    coreset = most_forgotten((sel_dir / "forgetting.bin").string(), k, cfg.seed, presented);
    coreset_info = {{"selection_run", sel.run_dir},
                    {"selection_wall_clock_seconds", sel_result.at("wall_clock_seconds")},
                    {"selection_budget_spent", sel_result.at("budget_spent")},
                    {"selection_test_accuracy", sel_result.at("final_test_accuracy")},
                    {"subset_size", k}};
  }

  // Data: loaded once, uploaded once.
  DataSplit data = load_dataset(cfg.dataset, cfg.data_dir);
  take_subset(data.train, cfg.train_subset);
  take_subset(data.test, cfg.test_subset);
  if (!cfg.crop_flip) cfg.pad = 0;
  DeviceDataset train_ds(std::move(data.train), dev, cfg.pad);  // on the CPU it takes the host tensors over
  DeviceDataset test_ds(std::move(data.test), dev, 0);
  const int64_t N = train_ds.size(), b = cfg.batch_size;
  BTS_CHECK(coreset.empty() || static_cast<int64_t>(coreset.size()) ==
                                   static_cast<int64_t>(std::floor(static_cast<double>(N) * cfg.budget + 1e-9)),
            "core-set: the selection run trained on another data set size");

  ResNet18 model({cfg.width, train_ds.classes(), train_ds.channels()});
  model.finalize(DType::F32, dev, cfg.seed);
  Sgd sgd(model.params(), SgdOptions{cfg.momentum, cfg.weight_decay, cfg.nesterov});
  auto sampler = make_sampler(
      cfg.method,
      SamplerContext{N, b, cfg.epochs, cfg.budget, cfg.seed, dev,
                     ImportanceOptions{cfg.importance_eps, cfg.importance_averaging, cfg.warmup_epochs}},
      std::move(coreset));
  const LrSchedule schedule = parse_lr_schedule(cfg.lr_schedule);
  const int64_t epochs = sampler->epochs(), ipe = sampler->iterations_per_epoch();
  const double full = static_cast<double>(cfg.epochs) * static_cast<double>(N);
  // Selective backprop trains as many samples as the budget allows (B*T*N, exactly when sb.exact_budget); its LR
  // schedule runs over the training steps that budget buys. Every other method trains every presented batch.
  const int64_t sb_budget = static_cast<int64_t>(std::floor(cfg.budget * full + 1e-9));
  const int64_t total_iters = is_sb ? std::max<int64_t>(1, (sb_budget + b - 1) / b) : epochs * ipe;
  const int cutout = cfg.cutout < 0 ? kernels::default_cutout_size(cfg.dataset) : cfg.cutout;
  BatchMixer mixer(MixingOptions{cfg.mixup_alpha, cfg.ricap_beta, cutout, cfg.seed}, b, train_ds.channels(),
                   train_ds.height(), train_ds.width(), dev);
  std::unique_ptr<SelectiveBackprop> sb;
  if (is_sb) {
    const double beta = cfg.sb_beta >= 0 ? cfg.sb_beta : 1.0 / cfg.budget - 1.0;
    sb = std::make_unique<SelectiveBackprop>(
        SelectiveBackpropOptions{beta, cfg.sb_history, cfg.sb_prime_epochs, cfg.seed, cfg.sb_staleness, N,
                                 mixer.targets()},
        b, Shape{train_ds.channels(), train_ds.height(), train_ds.width()}, dev);
  }
  std::unique_ptr<ForgettingTracker> forgetting;
  if (cfg.record_forgetting) forgetting = std::make_unique<ForgettingTracker>(N, dev);

  Tensor order = Tensor::empty({N}, DType::I32, dev);
  Tensor counts = Tensor::zeros({N}, DType::I32, dev);
  Tensor stats = Tensor::zeros({2}, DType::F64, dev);  // this epoch's training loss sum and correct count
  Tensor images = Tensor::empty({b, train_ds.channels(), train_ds.height(), train_ds.width()}, DType::F32, dev);
  Tensor labels = Tensor::empty({b}, DType::I32, dev);
  Tensor label_weights = Tensor::empty({b, 1}, DType::F32);
  label_weights.fill(1.0);
  label_weights = label_weights.to(dev);
  Tensor sample_weights_init = Tensor::empty({b}, DType::F32);
  sample_weights_init.fill(1.0 / static_cast<double>(b));
  Tensor sample_weights = sample_weights_init.to(dev);
  Tensor partial_weights = Tensor::empty({b}, DType::F32, dev);  // 1/k for a batch of k < b (SB's flushes)
  int64_t partial_k = 0;

  Counters counters;
  int64_t start_epoch = 0, start_iter = 0, epoch_trained = 0;
  double best_acc = -1, last_acc = -1, elapsed_before = 0;
  bool budget_spent = false;
  double last_lr = cfg.lr_initial;  // the LR of the last training step (metrics, progress)
  int64_t sb_presented = 0;         // SB: samples presented for selection (scored or cached)
  json history = json::array();
  std::map<std::string, double> phase_ms;

  if (opt.resume) {
    TensorMap ck = read_tensor_file(ckpt_path.string());
    const json saved_cfg = json::parse(tensor_text(ck.at("config_json")));
    BTS_CHECK(saved_cfg == cfg_json, "the checkpoint in '" << cfg.run_dir << "' was made with another config:\n  saved: "
                                                           << saved_cfg.dump() << "\n  now:   " << cfg_json.dump());
    model.params().flat_data().copy_from(ck.at("params"));
    model.buffers().flat_data().copy_from(ck.at("buffers"));
    sgd.momentum_buffer().copy_from(ck.at("momentum"));
    counts.copy_from(ck.at("counts"));
    stats.copy_from(ck.at("stats"));
    if (ck.count("order")) order.copy_from(ck.at("order"));
    sampler->load(ck);
    if (sb) sb->load(ck);
    if (forgetting) forgetting->load(ck);
    const json st = json::parse(tensor_text(ck.at("state_json")));
    start_epoch = st.at("epoch");
    start_iter = st.at("iteration_in_epoch");
    epoch_trained = st.value("epoch_trained", start_iter * b);
    budget_spent = st.value("budget_spent", false);
    last_lr = st.value("last_lr", cfg.lr_initial);
    sb_presented = st.value("sb_presented", int64_t{0});
    counters.from_json(st.at("counters"));
    best_acc = st.at("best_test_accuracy");
    last_acc = st.at("last_test_accuracy");
    elapsed_before = st.at("elapsed_seconds");
    history = st.at("history");
    for (auto& [k, v] : st.at("phase_ms").items()) phase_ms[k] = v;
    sgd.set_steps(counters.iterations);
    log("resuming " + cfg.run_dir + " at epoch " + std::to_string(start_epoch + 1) + ", iteration " +
        std::to_string(start_iter));
  } else {
    write_text_atomic(dir / "config.json", cfg_json.dump(2) + "\n");
    std::ofstream(dir / "metrics.jsonl", std::ios::trunc);
  }

  log("bts train: " + cfg.dataset + " (" + std::to_string(N) + " train / " + std::to_string(test_ds.size()) +
      " test), " + cfg.method + " B=" + json(cfg.budget).dump() + ", " + std::to_string(epochs) + " epochs x " +
      std::to_string(ipe) + (is_sb ? " scoring batches" : " iterations") + " of " + std::to_string(b) + ", " +
      lr_schedule_name(schedule) + " LR, " + model.describe() + ", " + device_summary(probe_devices()) +
      (dev == Device::CPU ? " [running on the CPU]" : ""));
  if (cfg.randaugment_n > 0)
    log("RandAugment: N = " + std::to_string(cfg.randaugment_n) + ", M = " + std::to_string(cfg.randaugment_m));
  if (mixer.active()) log("batch augmentation: " + mixer.describe());
  if (sb)
    log("selective backprop: beta " + json(sb->options().beta).dump() + ", history " +
        std::to_string(cfg.sb_history) + ", backward budget " + std::to_string(sb_budget) + " samples (" +
        std::to_string(total_iters) + " training steps)" + (cfg.sb_exact_budget ? ", stopping when spent" : ""));

  auto save_checkpoint = [&](int64_t epoch, int64_t iter, double elapsed) {
    json st = {{"epoch", epoch},
               {"iteration_in_epoch", iter},
               {"epoch_trained", epoch_trained},
               {"budget_spent", budget_spent},
               {"last_lr", last_lr},
               {"sb_presented", sb_presented},
               {"counters", counters.to_json()},
               {"best_test_accuracy", best_acc},
               {"last_test_accuracy", last_acc},
               {"elapsed_seconds", elapsed},
               {"history", history},
               {"phase_ms", phase_ms}};
    TensorMap ck;
    ck.emplace("params", model.params().flat_data().view());
    ck.emplace("buffers", model.buffers().flat_data().view());
    ck.emplace("momentum", sgd.momentum_buffer().view());
    ck.emplace("counts", counts.view());
    ck.emplace("stats", stats.view());
    // Mid-epoch: the epoch's order, drawn from the sampler's state at the epoch's start (p-/c-SGD's statistics
    // have moved on since), so the resumed epoch continues the same draw.
    if (iter > 0) ck.emplace("order", order.view());
    ck.emplace("config_json", text_tensor(cfg_json.dump()));
    ck.emplace("state_json", text_tensor(st.dump()));
    sampler->save(ck);
    if (sb) sb->save(ck);
    if (forgetting) forgetting->save(ck);
    write_tensor_file(ckpt_path.string(), ck);
  };

  SignalScope signals;
  PhaseTimer timer(dev);
  Tape tape(dev);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto merge_phases = [&] {
    for (auto& [k, v] : timer.collect()) phase_ms[k] += v;
  };
  double next_progress = cfg.progress_seconds;
  int64_t images_since = 0;
  double since_t = elapsed();
  json result;
  result["status"] = "completed";

  // One training step on k images: train-mode forward, loss, statistics, the sampler's hook (importance
  // statistics, OSGD's top-q), backward, SGD step, presentation counts.
  // Without mixing blabels is [k] and each target has weight 1 (blabel_weights undefined); with mixup/RICAP
  // blabels and blabel_weights are [k, M], and source_slot (the mixer's, for the importance credit) may be given.
  auto train_batch = [&](const Tensor& bimages, const Tensor& blabels, const Tensor& blabel_weights,
                         const Tensor* source_slot, const Tensor& bidx, int64_t k, double lr) {
    const int64_t M = blabel_weights.defined() ? blabels.numel() / k : 1;
    Tensor* weights = &sample_weights;
    if (k != b) {
      if (partial_k != k) {
        partial_weights.fill(1.0 / static_cast<double>(k));
        partial_k = k;
      }
      weights = &partial_weights;
    }
    Tensor w = Tensor::wrap(weights->raw(), {k}, DType::F32, dev);
    timer.start("forward");
    tape.clear();
    model.zero_grad();
    Targets tg;
    tg.labels = Tensor::wrap(blabels.raw(), {k, M}, DType::I32, dev);
    tg.label_weights =
        Tensor::wrap(M > 1 ? blabel_weights.raw() : label_weights.raw(), {k, M}, DType::F32, dev);
    tg.sample_weights = w.view();
    Var logits = model.forward(tape, tape.input(bimages));
    CrossEntropyResult ce = cross_entropy(tape, logits, tg);
    // Under mixing the training accuracy counts the first target's label (mixup: the image's own).
    accumulate_stats(logits.value(), *ce.loss_per_sample, tg.labels, M, stats);
    timer.stop("forward");
    timer.start("strategy");  // the sampler's own per-batch work (importance statistics, OSGD's top-q)
    if (forgetting) forgetting->update(logits.value(), blabels, bidx);
    BatchView view{bidx, *ce.loss_per_sample, *ce.prob_per_target, w};
    if (M > 1) {
      view.label_weights = &blabel_weights;
      view.source_slot = source_slot;
    }
    sampler->after_forward(view);
    timer.stop("strategy");
    timer.start("backward");
    tape.backward(ce.total);
    timer.stop("backward");
    timer.start("optimizer");
    sgd.step(lr);
    last_lr = lr;
    add_counts(bidx, w, counts);
    timer.stop("optimizer");
    ++counters.iterations;
    counters.samples_forward += k;
    counters.samples_backward += sampler->backward_count(k);
    epoch_trained += k;
  };
  // SB's schedule position is the backward budget spent (its epoch-end flushes add partial steps, so counting
  // steps would run past the schedule's end); elsewhere it is the iteration.
  auto current_lr = [&] {
    const int64_t it = is_sb ? static_cast<int64_t>(static_cast<double>(counters.samples_backward) *
                                                    static_cast<double>(total_iters) /
                                                    static_cast<double>(std::max<int64_t>(1, sb_budget)))
                             : counters.iterations;
    return learning_rate(schedule, cfg.lr_initial, cfg.lr_final, std::min(it, total_iters - 1), total_iters);
  };
  // SB: trains k queued samples, or fewer when the budget runs out first (then the run ends).
  auto sb_train_queued = [&](int64_t k) {
    if (cfg.sb_exact_budget) {
      const int64_t left = sb_budget - counters.samples_backward;
      if (left <= k) {
        k = left;
        budget_spent = true;
      }
    }
    if (k > 0)
      train_batch(sb->images(k), sb->labels(k), mixer.targets() > 1 ? sb->label_weights(k) : Tensor(), nullptr,
                  sb->indices(k), k, current_lr());
    sb->pop(budget_spent ? sb->queued() : k);
  };

  for (int64_t epoch = start_epoch; epoch < epochs && !budget_spent; ++epoch) {
    const int64_t first = epoch == start_epoch ? start_iter : 0;
    if (first == 0) {  // a resumed mid-epoch run has this epoch's order from the checkpoint
      timer.start("sampling");
      sampler->begin_epoch(epoch, order);
      timer.stop("sampling");
    }
    if (first == 0) {
      stats.zero();
      epoch_trained = 0;
    }
    for (int64_t it = first; it < ipe && !budget_spent; ++it) {
      const int64_t step = epoch * ipe + it;
      Tensor idx = Tensor::wrap(order.data<int32_t>() + it * b, {b}, DType::I32, dev);
      timer.start("augmentation");
      train_ds.make_batch(idx,
                          BatchOptions{cfg.seed, static_cast<uint64_t>(step), cfg.crop_flip, cfg.randaugment_n,
                                       cfg.randaugment_m},
                          images, labels, stream_of(dev));
      if (mixer.active()) mixer.apply(static_cast<uint64_t>(step), images, labels);
      timer.stop("augmentation");
      if (!is_sb) {
        const double lr = learning_rate(schedule, cfg.lr_initial, cfg.lr_final, step, total_iters);
        if (mixer.targets() > 1)
          train_batch(mixer.images(), mixer.labels(), mixer.label_weights(), &mixer.source_slot(), idx, b, lr);
        else
          train_batch(images, labels, Tensor(), nullptr, idx, b, lr);
      } else {
        // Scoring forward: eval mode, no gradients, on the very tensors a later backward will use (under
        // mixup/RICAP the mixed images with their soft targets). With staleness, only the slots whose cached loss
        // is too old are scored (a smaller forward).
        timer.start("scoring");
        {
          const bool stale = cfg.sb_staleness > 0, mixed = mixer.targets() > 1;
          // What is scored and queued: the batch, or under mixup/RICAP the mixed batch with its [b, M] targets.
          const Tensor no_weights;
          const Tensor& batch_images = mixed ? mixer.images() : images;
          const Tensor& batch_labels = mixed ? mixer.labels() : labels;
          const Tensor& batch_weights = mixed ? mixer.label_weights() : no_weights;
          const int64_t n_score = stale ? sb->prepare_scoring(epoch, idx, images, labels) : b;
          tape.clear();
          NoGradGuard no_grad(tape);
          Tensor scored;
          if (n_score > 0) {
            model.set_training(false);
            const int64_t M = mixer.targets();
            Targets tg;
            tg.labels = stale ? sb->scoring_labels(n_score).reshaped({n_score, 1}) : batch_labels.reshaped({b, M});
            tg.label_weights = Tensor::wrap(mixed ? batch_weights.raw() : label_weights.raw(), {n_score, M},
                                            DType::F32, dev);
            tg.sample_weights = Tensor::wrap(sample_weights.raw(), {n_score}, DType::F32, dev);
            Var logits = model.forward(tape, tape.input(stale ? sb->scoring_images(n_score) : batch_images.view()));
            CrossEntropyResult ce = cross_entropy(tape, logits, tg);
            model.set_training(true);
            scored = ce.loss_per_sample->view();
            counters.samples_scored += n_score;
          }
          if (!scored.defined()) scored = Tensor::empty({0}, DType::F32, dev);  // every loss was fresh
          if (stale) sb->finish_scoring(epoch, idx, scored);
          sb->select(epoch, static_cast<uint64_t>(step), stale ? sb->batch_loss() : scored, batch_images, batch_labels,
                     idx, batch_weights);
          sb_presented += b;
        }
        timer.stop("scoring");
        while (sb->queued() >= b && !budget_spent) sb_train_queued(b);
      }
      images_since += b;

      const bool stop_now = g_signal != 0 || (opt.stop_after_steps > 0 && counters.iterations >= opt.stop_after_steps);
      if (stop_now || elapsed() >= next_progress) {
        merge_phases();  // waits for the device
        const std::vector<double> s = host_doubles(stats);
        const double seen = static_cast<double>(std::max<int64_t>(1, epoch_trained));
        BTS_CHECK(std::isfinite(s[0]), "training loss became " << s[0] << " in epoch " << epoch + 1 << " (iteration "
                                                               << counters.iterations << "); the last good checkpoint "
                                                               << "is kept in " << ckpt_path.string());
        const double now = elapsed(), rate = images_since / std::max(1e-9, now - since_t);
        const double eta = static_cast<double>((epochs * ipe - step - 1) * b) / std::max(rate, 1e-9);
        char line[256];
        std::snprintf(line, sizeof line,
                      "epoch %lld/%lld  iter %lld/%lld  loss %.4f  acc %.2f%%  lr %.2e  %.0f img/s  elapsed %s  ETA %s",
                      (long long)epoch + 1, (long long)epochs, (long long)counters.iterations, (long long)total_iters,
                      s[0] / seen, 100.0 * s[1] / seen, last_lr, rate, fmt_time(now).c_str(),
                      fmt_time(eta).c_str());
        log(line);
        next_progress = now + cfg.progress_seconds;
        images_since = 0;
        since_t = now;
      }
      if (stop_now) {
        save_checkpoint(epoch, it + 1, elapsed());
        log(std::string("interrupted") + (g_signal ? " by signal " + std::to_string(g_signal) : "") +
            ": checkpoint written; continue with: bts train --resume --run-dir " + cfg.run_dir);
        result["status"] = "interrupted";
        result["run_dir"] = cfg.run_dir;
        return result;
      }
    }
    // SB: the epoch's partial queue trains as a smaller batch.
    if (sb && !budget_spent && sb->queued() > 0) sb_train_queued(sb->queued());
    // End of epoch: statistics, evaluation, metrics line, checkpoint.
    merge_phases();
    const std::vector<double> s = host_doubles(stats);
    const double seen = static_cast<double>(std::max<int64_t>(1, epoch_trained));
    BTS_CHECK(std::isfinite(s[0]), "training loss became " << s[0] << " in epoch " << epoch + 1
                                                           << "; the last good checkpoint is kept in "
                                                           << ckpt_path.string());
    sampler->end_epoch(s[1] / seen);
    const bool last_epoch = epoch + 1 == epochs || budget_spent;
    json m = {{"epoch", epoch + 1},
              {"train_loss", s[0] / seen},
              {"train_accuracy", s[1] / seen},
              {"trained_samples", epoch_trained},
              {"lr", last_lr},
              {"counters", counters.to_json()}};
    if ((epoch + 1) % cfg.eval_every == 0 || last_epoch) {
      timer.start("evaluation");
      EvalResult ev = evaluate(model, test_ds, 500);
      timer.stop("evaluation");
      merge_phases();
      last_acc = ev.accuracy;
      best_acc = std::max(best_acc, ev.accuracy);
      m["test_accuracy"] = ev.accuracy;
      m["test_loss"] = ev.loss;
    }
    m["elapsed_seconds"] = elapsed();
    m["phase_ms"] = phase_ms;
    history.push_back(m);
    std::ofstream(dir / "metrics.jsonl", std::ios::app) << m.dump() << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "epoch %lld/%lld done: train loss %.4f acc %.2f%%%s%s", (long long)epoch + 1,
                  (long long)epochs, s[0] / seen, 100.0 * s[1] / seen,
                  m.contains("test_accuracy")
                      ? ("  test acc " + std::to_string(100.0 * m["test_accuracy"].get<double>()).substr(0, 5) + "%")
                            .c_str()
                      : "",
                  budget_spent ? "  (backward budget spent: stopping)" : "");
    log(line);
    if ((epoch + 1) % cfg.checkpoint_every == 0 || last_epoch) save_checkpoint(epoch + 1, 0, elapsed());
  }
  if (forgetting) forgetting->write((dir / "forgetting.bin").string());

  // Final result.
  std::vector<int32_t> host_counts(static_cast<size_t>(N));
  {
    Tensor c = counts.to(Device::CPU);
    std::copy_n(c.data<int32_t>(), N, host_counts.data());
    TensorMap cm;
    cm.emplace("counts", std::move(c));
    write_tensor_file((dir / "sample_counts.bin").string(), cm);
  }
  result["run_dir"] = cfg.run_dir;
  result["config"] = cfg_json;
  result["device"] = device_summary(probe_devices());
  result["model"] = model.describe();
  result["budget_asked"] = {{"budget", cfg.budget},
                            {"full_training_epochs", cfg.epochs},
                            {"train_size", N},
                            {"full_training_samples", full},
                            {"budget_samples", cfg.budget * full}};
  result["budget_spent"] = counters.to_json();
  result["budget_spent"]["backward_fraction_of_full"] = static_cast<double>(counters.samples_backward) / full;
  result["budget_spent"]["epochs"] = static_cast<int64_t>(history.size());  // fewer than planned if SB's budget ran out
  result["budget_spent"]["iterations_per_epoch"] = ipe;
  if (sb) {
    result["selective_backprop"] = {{"beta", sb->options().beta},
                                    {"history", cfg.sb_history},
                                    {"backward_budget_samples", sb_budget},
                                    {"stopped_when_budget_spent", budget_spent},
                                    {"samples_presented_for_selection", sb_presented},
                                    {"kept_fraction", static_cast<double>(counters.samples_backward) /
                                                          std::max<double>(1, static_cast<double>(sb_presented))}};
  }
  if (!coreset_info.is_null()) result["core_set"] = coreset_info;
  result["final_test_accuracy"] = last_acc;
  result["best_test_accuracy"] = best_acc;
  result["sample_count_entropy"] = count_entropy(host_counts);
  result["sample_count_entropy_max"] = std::log(static_cast<double>(N));
  result["wall_clock_seconds"] = elapsed();
  result["phase_seconds"] = json::object();
  for (auto& [k, v] : phase_ms) result["phase_seconds"][k] = v / 1000.0;
  result["history"] = history;
  write_text_atomic(dir / "result.json", result.dump(2) + "\n");
  char line[256];
  std::snprintf(line, sizeof line,
                "done: final test accuracy %.2f%% (best %.2f%%), %lld iterations, %lld samples backward (%.3f of full "
                "training), entropy %.3f (max %.3f), %s; results in %s",
                100 * last_acc, 100 * best_acc, (long long)counters.iterations, (long long)counters.samples_backward,
                result["budget_spent"]["backward_fraction_of_full"].get<double>(),
                result["sample_count_entropy"].get<double>(), result["sample_count_entropy_max"].get<double>(),
                fmt_time(elapsed()).c_str(), cfg.run_dir.c_str());
  log(line);
  return result;
}

json evaluate_run(const std::string& run_dir, const std::string& device) {
  const fs::path dir(run_dir);
  BTS_CHECK(fs::exists(dir / "checkpoint.bin"), "no checkpoint in '" << run_dir << "'");
  TensorMap ck = read_tensor_file((dir / "checkpoint.bin").string());
  TrainConfig cfg = config_from_json(json::parse(tensor_text(ck.at("config_json"))));
  const Device dev = pick_device(device);
  DataSplit data = load_dataset(cfg.dataset, cfg.data_dir);
  take_subset(data.test, cfg.test_subset);
  DeviceDataset test_ds(std::move(data.test), dev, 0);
  ResNet18 model({cfg.width, test_ds.classes(), test_ds.channels()});
  model.finalize(DType::F32, dev, cfg.seed);
  model.params().flat_data().copy_from(ck.at("params"));
  model.buffers().flat_data().copy_from(ck.at("buffers"));
  EvalResult ev = evaluate(model, test_ds, 500);
  return {{"run_dir", run_dir}, {"test_accuracy", ev.accuracy}, {"test_loss", ev.loss}, {"test_size", test_ds.size()}};
}

}  // namespace bts
