// bench: the per-iteration cost of a ResNet-18 training step, split into phases, on the GPU (CUDA events,
// after warm-up, median of many steps) or on the CPU at reduced width. Prints a table and writes JSON.
// Each timed iteration is a whole unif-SGD training iteration on CIFAR-like random uint8 images resident on the
// device: augmentation (the batch built with random crop + flip + normalise), forward (model + loss), backward,
// optimizer, then the trainer's bookkeeping (epoch statistics, presentation counts). `step` is forward to
// optimizer (the model's step: what tools/peer_step.py times for PyTorch); `iteration` is all of it plus the
// sampling phase: a real epoch's draw (--train-size samples), timed on its own and spread over its iterations.
// Then each augmentation's cost per batch (batch assembly with crop/flip, RandAugment, cutout, mixup, RICAP) on
// CIFAR-shaped random uint8 data, and each sampling strategy's own work per training iteration (its statistics updates, its per-epoch draw
// amortised over the epoch's iterations, selective backprop's selection and queue), beside the step it rides on.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "data/device_dataset.h"
#include "engine/backend.h"
#include "train/batch_mixing.h"
#include "engine/device.h"
#include "engine/file_write.h"
#include "engine/ops.h"
#include "engine/phase_timer.h"
#include "engine/rng.h"
#include "train/strategies/sampler.h"
#include "train/strategies/selective_backprop.h"
#include "engine/sgd.h"
#include "engine/step_graph.h"
#include "models/resnet18.h"

namespace {

using namespace bts;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Config {
  int64_t classes, size;
};

// n random CIFAR-like uint8 images (3 x size x size) with labels below `classes`, on the host.
Dataset random_images(int64_t n, int64_t size, int64_t classes, uint64_t seed) {
  Rng rng(seed);
  Dataset ds;
  ds.name = "cifar10";
  ds.split = "train";
  ds.images = Tensor::empty({n, 3, size, size}, DType::U8);
  ds.labels = Tensor::empty({n}, DType::I32);
  for (int64_t i = 0; i < ds.images.numel(); ++i) ds.images.data<uint8_t>()[i] = static_cast<uint8_t>(rng.below(256));
  for (int64_t i = 0; i < n; ++i) ds.labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(classes));
  ds.classes = static_cast<int>(classes);
  ds.mean = {0.4914f, 0.4822f, 0.4465f};
  ds.std = {0.2023f, 0.1994f, 0.2010f};
  return ds;
}

// Median wall time (CUDA events on the GPU) of `work` over `iters` runs after `warmup`.
template <typename F>
double time_ms(Device dev, int warmup, int iters, F work) {
  PhaseTimer timer(dev);
  std::vector<double> ms;
  for (int it = 0; it < warmup + iters; ++it) {
    timer.start("x");
    work(it);
    timer.stop("x");
    const double t = timer.collect()["x"];
    if (it >= warmup) ms.push_back(t);
  }
  return median(ms);
}

nlohmann::json run_one(Device dev, double width, int64_t batch, const Config& c, const std::string& precision,
                       int warmup, int iters, int64_t train_size) {
  ResNet18 model({width, c.classes, 3});
  model.finalize(DType::F32, dev, 1);
  backend(dev).set_tf32(precision == "tf32" || precision == "tf32-nhwc");
  // bf16-cast: the same mixed precision through the f32 kernels between casts, NCHW (what the GPU's own bf16
  // kernels in NHWC save is the difference to bf16); on the CPU the two are one path.
  backend(dev).set_native_bf16(precision != "bf16-cast");
  // tf32-nhwc: TF32 with channels-last activations (the GPU's f32 kernels in NHWC; the CPU picks its own layout).
  backend(dev).set_f32_channels_last(precision == "tf32-nhwc");
  // bf16-cudnn-bn: bf16 with cuDNN's fused NHWC BatchNorm (+ReLU) instead of ours, the comparison the choice needs.
  backend(dev).set_batchnorm_cudnn(precision == "bf16-cudnn-bn");
  if (precision == "bf16" || precision == "bf16-cast" || precision == "bf16-cudnn-bn")
    model.set_compute_dtype(DType::BF16);
  // The data: 8 batches' worth of random images and labels, resident on the device as in training.
  const int64_t n_data = 8 * batch, per_epoch = n_data / batch;
  // Target and sample weights made once (1 and 1/b); the labels are the batch buffer make_batch fills.
  Targets tg = Targets::hard(Tensor::zeros({batch}, DType::I32), DType::F32, dev);
  DeviceDataset data(random_images(n_data, c.size, c.classes, 7), dev, 4);
  Backend& be = backend(dev);
  Tensor order = Tensor::empty({n_data}, DType::I32, dev), counts = Tensor::zeros({n_data}, DType::I32, dev);
  Tensor stats = Tensor::zeros({2}, DType::F64, dev);
  // The batch in the layout the trainer builds it in (the stem convolution's input layout: NHWC for the GPU's bf16
  // and channels-last steps), so the step does not transpose its input.
  const Layout input_layout = model.input_layout(dev, 3);
  Tensor x = Tensor::empty({batch, 3, c.size, c.size}, DType::F32, dev, input_layout);
  Tensor labels = Tensor::empty({batch}, DType::I32, dev);
  tg.labels = labels.reshaped({batch, 1});
  Sgd opt(model.params(), SgdOptions{});
  Tape tape(dev);
  PhaseTimer timer(dev);
  const char* phases[] = {"sampling", "augmentation", "forward", "backward", "optimizer"};
  std::map<std::string, std::vector<double>> per_phase;
  std::vector<double> step_ms, iteration_ms;
  size_t growths_at_warmup_end = 0;
  for (int it = 0; it < warmup + iters; ++it) {
    if (it == warmup) growths_at_warmup_end = tape.arena().growth_count();
    const int64_t pos = it % per_epoch;
    timer.start("iteration");
    if (pos == 0) {
      timer.start("sampling");
      be.random_order(5, static_cast<uint64_t>(it / per_epoch), n_data, order.data<int32_t>());
      timer.stop("sampling");
    }
    const Tensor idx = Tensor::wrap(order.data<int32_t>() + pos * batch, {batch}, DType::I32, dev);
    timer.start("augmentation");
    data.make_batch(idx, BatchOptions{1, static_cast<uint64_t>(it), true}, x, labels);
    timer.stop("augmentation");
    tape.clear();
    model.zero_grad();
    timer.start("step");
    timer.start("forward");
    Var logits = model.forward(tape, tape.input(x));
    CrossEntropyResult ce = cross_entropy(tape, logits, tg);
    timer.stop("forward");
    timer.start("backward");
    tape.backward(ce.total);
    timer.stop("backward");
    timer.start("optimizer");
    opt.step(0.1);
    timer.stop("optimizer");
    timer.stop("step");
    // The trainer's per-step bookkeeping, outside the model step PyTorch's peer times: epoch statistics, counts.
    be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(),
                              tg.labels.data<int32_t>(), batch, logits.value().dim(1), 1, stats.data<double>());
    be.add_counts(idx.data<int32_t>(), batch, counts.data<int32_t>(), nullptr);
    timer.stop("iteration");
    auto ms = timer.collect();  // one wait per iteration: the iterations themselves never sync inside
    if (it < warmup) continue;
    for (const char* p : phases) per_phase[p].push_back(ms.count(p) ? ms[p] : 0.0);
    step_ms.push_back(ms["step"]);
    iteration_ms.push_back(ms["iteration"] - (ms.count("sampling") ? ms["sampling"] : 0.0));
  }
  const double step = median(step_ms);
  // The same model step recorded once and replayed (engine/step_graph.h): on the GPU a CUDA graph, one launch per
  // step instead of one per kernel; on the CPU the step called again (under the steady-state guard, so a step that
  // could not be captured fails here too). The loop above warmed it up. As in the trainer, the learning rate is
  // written before the graph (Sgd::set_lr), which holds the update that reads it.
  opt.set_lr(0.1);
  const std::function<void()> model_step = [&] {
    tape.clear();
    model.zero_grad();
    Var logits = model.forward(tape, tape.input(x));
    tape.backward(cross_entropy(tape, logits, tg).total);
    opt.step();
  };
  if (warmup + iters < 2) model_step();  // a second plain step folds the arena (engine/step_graph.h)
  StepGraph graph(dev, model_step, "bench's training step");
  const double graph_step = time_ms(dev, std::min(warmup, 3), iters, [&](int) { graph.replay(); });
  // The whole iteration recorded, as the trainer records it: the batch build (its step written to device memory
  // and its indices copied to a fixed buffer before each replay), the model step and the bookkeeping. What is left
  // outside is the epoch draw and three small stream-ordered writes.
  Tensor step_idx = Tensor::zeros({batch}, DType::I32, dev);
  const auto iteration_inputs = [&](int it) {
    data.set_batch_options(BatchOptions{1, static_cast<uint64_t>(it), true});
    step_idx.copy_from(Tensor::wrap(order.data<int32_t>() + (it % per_epoch) * batch, {batch}, DType::I32, dev));
    opt.set_lr(0.1);
  };
  const std::function<void()> whole_iteration = [&] {
    data.build_batch(step_idx, x, labels);
    tape.clear();
    model.zero_grad();
    Var logits = model.forward(tape, tape.input(x));
    CrossEntropyResult ce = cross_entropy(tape, logits, tg);
    be.accumulate_batch_stats(logits.value().data<float>(), ce.loss_per_sample->data<float>(),
                              tg.labels.data<int32_t>(), batch, logits.value().dim(1), 1, stats.data<double>());
    tape.backward(ce.total);
    opt.step();
    be.add_counts(step_idx.data<int32_t>(), batch, counts.data<int32_t>(), nullptr);
  };
  iteration_inputs(0);
  whole_iteration();  // the eager run that settles the arena at this iteration's peak
  StepGraph iteration_graph(dev, whole_iteration, "bench's whole iteration");
  const double graph_iteration = time_ms(dev, std::min(warmup, 3), iters, [&](int it) {
    iteration_inputs(it);
    iteration_graph.replay();
  });
  // The epoch draw, timed on its own over `train_size` samples (a real epoch's), spread over that epoch's
  // floor(train_size / b) iterations, plus the median of the iterations without it.
  Tensor epoch_order = Tensor::empty({train_size}, DType::I32, dev);
  uint64_t draw_epoch = 0;
  const double draw_ms = time_ms(dev, 1, 5, [&](int) {
    be.random_order(5, draw_epoch++, train_size, epoch_order.data<int32_t>());
  });
  const double draw_per_iteration = draw_ms / static_cast<double>(std::max<int64_t>(1, train_size / batch));
  const double iteration = median(iteration_ms) + draw_per_iteration;
  const double macs = static_cast<double>(model.forward_macs(c.size, c.size));
  const double flop_step = 3.0 * 2.0 * macs * static_cast<double>(batch);
  size_t persistent = (model.params().flat_data().bytes() * 3 + model.buffers().flat_data().bytes());
  nlohmann::json j;
  j["device"] = device_name(dev);
  j["width"] = width;
  j["classes"] = c.classes;
  j["image_size"] = c.size;
  j["batch"] = batch;
  j["precision"] = precision;
  j["input_layout"] = layout_name(input_layout);
  j["parameters"] = model.num_parameters();
  j["warmup_steps"] = warmup;
  j["timed_steps"] = iters;
  j["step_ms_median"] = step;
  j["images_per_second"] = static_cast<double>(batch) / (step / 1000.0);
  j["step_graph"] = graph.is_graph();  // true: a CUDA graph; false: the step called again
  j["graph_step_ms_median"] = graph_step;
  j["graph_images_per_second"] = static_cast<double>(batch) / (graph_step / 1000.0);
  j["graph_iteration_ms"] = graph_iteration + draw_per_iteration;  // plus the epoch draw, as iteration_ms
  j["graph_iteration_images_per_second"] = static_cast<double>(batch) / ((graph_iteration + draw_per_iteration) / 1000.0);
  j["iteration_ms"] = iteration;
  j["iteration_images_per_second"] = static_cast<double>(batch) / (iteration / 1000.0);
  j["forward_macs_per_image"] = macs;
  j["train_flop_per_step"] = flop_step;
  j["achieved_tflops"] = flop_step / (step / 1000.0) / 1e12;
  for (const char* p : phases) j["phase_ms_median"][p] = median(per_phase[p]);
  j["phase_ms_median"]["sampling"] = draw_per_iteration;  // the epoch draw per iteration (above)
  j["epoch_draw_ms"] = draw_ms;
  j["epoch_draw_samples"] = train_size;
  j["peak_step_arena_bytes"] = tape.arena().peak();
  j["persistent_bytes"] = persistent;  // parameters, gradients, momentum, BN buffers
  j["arena_growths_after_warmup"] = tape.arena().growth_count() - growths_at_warmup_end;
  return j;
}


// Each strategy's bookkeeping per training iteration, on a data set of n samples with batches of b at B = 0.3.
nlohmann::json strategy_costs(Device dev, int64_t n, int64_t b, int warmup, int iters, double step_ms) {
  Rng rng(11);
  const SamplerContext ctx{n, b, 200, 0.3, 5, dev, ImportanceOptions{}};
  Tensor order = Tensor::empty({n}, DType::I32, dev);
  Tensor loss_h = Tensor::empty({b}, DType::F32), prob_h = Tensor::empty({b, 1}, DType::F32);
  for (int64_t j = 0; j < b; ++j) {
    prob_h.data<float>()[j] = static_cast<float>(rng.uniform());
    loss_h.data<float>()[j] = -std::log(prob_h.data<float>()[j]);
  }
  Tensor loss = loss_h.to(dev), prob = prob_h.to(dev), weights = Tensor::zeros({b}, DType::F32, dev);
  nlohmann::json rows = nlohmann::json::array();
  auto add = [&](const std::string& name, const std::string& what, double per_iter_ms) {
    rows.push_back({{"strategy", name},
                    {"work", what},
                    {"ms_per_iteration", per_iter_ms},
                    {"fraction_of_step", step_ms > 0 ? per_iter_ms / step_ms : 0.0}});
  };
  for (const char* method : {"unif-sgd", "p-sgd", "c-sgd", "osgd"}) {
    auto sampler = make_sampler(method, ctx);
    const int64_t ipe = sampler->iterations_per_epoch();
    int64_t e = 0;
    const double draw = time_ms(dev, 1, std::max(3, iters / 10), [&](int) { sampler->begin_epoch(e++, order); });
    add(method, "per-epoch draw / " + std::to_string(ipe) + " iterations", draw / static_cast<double>(ipe));
    if (std::string(method) == "unif-sgd") continue;
    int64_t batch_no = 0;
    const double hook = time_ms(dev, warmup, iters, [&](int) {
      // Consecutive slices of the epoch's order: distinct indices, as in training.
      Tensor idx = Tensor::wrap(order.data<int32_t>() + (batch_no++ % ipe) * b, {b}, DType::I32, dev);
      BatchView v{idx, loss, prob, weights};
      sampler->after_forward(v);
    });
    add(method, "per-batch statistics / top-q", hook);
  }
  {
    SelectiveBackprop sb(SelectiveBackpropOptions{7.0 / 3.0, 1024, 0, 5}, b, Shape{3, 32, 32}, dev);
    Tensor images = Tensor::zeros({b, 3, 32, 32}, DType::F32, dev), labels = Tensor::zeros({b}, DType::I32, dev);
    Tensor idx = Tensor::wrap(order.raw(), {b}, DType::I32, dev);
    const double sel = time_ms(dev, warmup, iters, [&](int it) {
      sb.select(1, static_cast<uint64_t>(it), loss, images, labels, idx);
      if (sb.queued() >= b) sb.pop(b);
    });
    add("sb", "per scoring batch: history, selection, queue copy (excl. the scoring forward)", sel);
  }
  return rows;
}

// Building one training batch of b CIFAR-shaped (3x32x32) images from a device-resident data set of n random
// images: the standard crop/flip/normalise, then with RandAugment (N=2, M=4) before it, and the batch-level
// augmentations after it (cutout 16, mixup 0.3, RICAP 0.3; their own time, excluding the batch build).
nlohmann::json augmentation_costs(Device dev, int64_t n, int64_t b, int warmup, int iters, double step_ms) {
  DeviceDataset data(random_images(n, 32, 10, 13), dev, 4);
  Tensor idx = index_range(0, b, dev);
  Tensor images = Tensor::empty({b, 3, 32, 32}, DType::F32, dev), labels = Tensor::empty({b}, DType::I32, dev);
  nlohmann::json rows = nlohmann::json::array();
  auto add = [&](const std::string& what, double ms) {
    rows.push_back({{"augmentation", what}, {"ms_per_batch", ms}, {"fraction_of_step", step_ms > 0 ? ms / step_ms : 0.0}});
  };
  add("crop+flip+normalise (batch build)", time_ms(dev, warmup, iters, [&](int it) {
        data.make_batch(idx, BatchOptions{1, static_cast<uint64_t>(it), true}, images, labels);
      }));
  add("RandAugment N=2 M=4 + batch build", time_ms(dev, warmup, iters, [&](int it) {
        data.make_batch(idx, BatchOptions{1, static_cast<uint64_t>(it), true, 2, 4}, images, labels);
      }));
  for (const auto& [name, mo] : std::vector<std::pair<std::string, MixingOptions>>{
           {"cutout 16", {0, 0, 16, 1}}, {"mixup 0.3", {0.3, 0, 0, 1}}, {"RICAP 0.3", {0, 0.3, 0, 1}}}) {
    BatchMixer mixer(mo, b, 3, 32, 32, dev);
    add(name, time_ms(dev, warmup, iters, [&](int it) { mixer.apply(static_cast<uint64_t>(it), images, labels); }));
  }
  return rows;
}

void print_row(const nlohmann::json& j) {
  std::printf("%-5s %-4s w%-5.3g %4lld cls %3lldpx b%-4lld | step %8.2f ms  %9.0f img/s  %6.2f TFLOP/s | fwd %7.2f  bwd %7.2f  "
              "opt %6.3f ms | peak step mem %.1f MiB + %.1f MiB params/grads/momentum\n",
              j["device"].get<std::string>().c_str(), j["precision"].get<std::string>().c_str(), j["width"].get<double>(), (long long)j["classes"].get<int64_t>(),
              (long long)j["image_size"].get<int64_t>(), (long long)j["batch"].get<int64_t>(),
              j["step_ms_median"].get<double>(), j["images_per_second"].get<double>(), j["achieved_tflops"].get<double>(),
              j["phase_ms_median"]["forward"].get<double>(), j["phase_ms_median"]["backward"].get<double>(),
              j["phase_ms_median"]["optimizer"].get<double>(), j["peak_step_arena_bytes"].get<double>() / 1048576.0,
              j["persistent_bytes"].get<double>() / 1048576.0);
  std::printf("%52s| whole iteration %8.2f ms  %9.0f img/s (sampling %.3f + batch build %.3f ms + the step)\n", "",
              j["iteration_ms"].get<double>(), j["iteration_images_per_second"].get<double>(),
              j["phase_ms_median"]["sampling"].get<double>(), j["phase_ms_median"]["augmentation"].get<double>());
  std::printf("%52s| step %s %8.2f ms  %9.0f img/s\n", "",
              j["step_graph"].get<bool>() ? "as a CUDA graph   " : "recorded, replayed", j["graph_step_ms_median"].get<double>(),
              j["graph_images_per_second"].get<double>());
  std::printf("%52s| whole iteration %s %8.2f ms  %9.0f img/s\n", "",
              j["step_graph"].get<bool>() ? "as a CUDA graph" : "replayed       ", j["graph_iteration_ms"].get<double>(),
              j["graph_iteration_images_per_second"].get<double>());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bts::fail_exit_on_lost_stdout();
  CLI::App app{"bench: per-iteration cost of a ResNet-18 training step, by phase (GPU: CUDA events; CPU: clock)"};
  std::string device = "auto", json_path;
  double width = -1;
  int64_t batch = 128;
  int warmup = -1, iters = -1;
  std::vector<int64_t> classes{10, 100}, sizes{32, 84};
  bool no_tf32 = false;
  std::vector<std::string> precisions{"tf32"};
  app.add_option("--device", device, "auto, cpu, cuda or cuda:N (GPU N)")
      ->check([](const std::string& v) {
        return is_device_spec(v) ? std::string() : "expected auto, cpu, cuda or cuda:N, got '" + v + "'";
      })
      ->capture_default_str();
  app.add_option("--width", width, "ResNet-18 width multiplier (default 1 on the GPU, 0.125 on the CPU)")
      ->check([](const std::string& v) {  // not CLI::Range: it lets NaN through (every comparison with it is false)
        const double w = std::strtod(v.c_str(), nullptr);
        return w >= 1e-3 && w <= 16 ? std::string() : "expected a number in [0.001, 16], got '" + v + "'";
      });
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(CLI::Range(2, 65536));
  app.add_option("--classes", classes, "class counts to time")->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{100000}));
  app.add_option("--sizes", sizes, "square image sizes to time (32: CIFAR/SVHN, 84: mini-ImageNet)")
      ->capture_default_str()->check(CLI::Range(int64_t{8}, int64_t{1024}));
  app.add_option("--warmup", warmup, "untimed steps first (default 10 GPU, 2 CPU)")->check(CLI::Range(0, 100000));
  app.add_option("--iters", iters, "timed steps, median reported (default 50 GPU, 5 CPU)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--precision", precisions,
                 "arithmetics to time: fp32, tf32 (TF32 tensor cores on the GPU; fp32 on the CPU), bf16 (mixed; "
                 "the GPU's own bf16 kernels, channels last), bf16-cast (mixed through the f32 kernels between casts), "
                 "tf32-nhwc (TF32 with channels-last activations on the GPU), bf16-cudnn-bn (bf16 with cuDNN's "
                 "fused NHWC BatchNorm instead of ours; GPU only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "bf16-cast", "tf32-nhwc", "bf16-cudnn-bn"}));
  app.add_flag("--no-tf32", no_tf32, "the same as --precision fp32");
  app.add_option("--json", json_path, "write the results here as JSON");
  int64_t train_size = 50000;
  bool step_only = false;
  app.add_flag("--step-only", step_only, "time the training step only (no strategy or augmentation tables)");
  app.add_option("--train-size", train_size, "data set size N for the strategies' bookkeeping costs")
      ->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{10000000}));
  CLI11_PARSE(app, argc, argv);
  try {
    // An unwritable --json fails now, not after minutes of timing (the check's temporary file is removed).
    if (!json_path.empty()) {
      if (std::filesystem::is_directory(json_path)) throw bts::Error("--json '" + json_path + "' is a folder");
      bts::AtomicFile writable(json_path);
    }
    DeviceStatus st = probe_devices();
    const Device dev = choose_device(device);  // throws naming what there is for cuda without a GPU, or cuda:N
    const bool gpu = dev == Device::CUDA;
    if (width < 0) width = gpu ? 1.0 : 0.125;
    if (warmup < 0) warmup = gpu ? 10 : 2;
    if (iters < 0) iters = gpu ? 50 : 5;
    if (!gpu && device == "auto") {
      std::printf("bench: no GPU (%s); timing the CPU path at width %g\n", st.description.c_str(), width);
      if (!app.count("--sizes")) sizes = {32};
      if (!app.count("--batch")) batch = 32;
    }
    // The strategies' timing runs each sampler at B = 0.3, which needs floor(0.3 N / b) >= 1 iteration per epoch:
    // refused here, before anything is timed, rather than after the step table with no JSON written.
    const int64_t min_train = (10 * batch + 2) / 3;
    if (train_size < min_train) {
      std::fprintf(stderr, "bench: error: --train-size %lld is too small for --batch %lld: the strategies are timed "
                           "at B = 0.3, which needs N >= ceil(b / 0.3) = %lld\n",
                   (long long)train_size, (long long)batch, (long long)min_train);
      return 2;
    }
    if (no_tf32) precisions = {"fp32"};
    std::printf("bench on %s\n", device_summary(st).c_str());
    nlohmann::json all = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const std::string& precision : precisions)
      for (int64_t s : sizes)
        for (int64_t c : classes) {
          // A configuration the device cannot run (e.g. cuDNN refusing its BatchNorm for a layout) is reported and
          // skipped: the other rows and the JSON still come out.
          try {
            nlohmann::json j = run_one(dev, width, batch, {c, s}, precision, warmup, iters, train_size);
            print_row(j);
            all.push_back(j);
          } catch (const bts::Error& e) {
            std::printf("%-5s %-13s %4lld cls %3lldpx b%-4lld | FAILED: %s\n", device_name(dev), precision.c_str(),
                        (long long)c, (long long)s, (long long)batch, e.what());
            failed.push_back({{"precision", precision}, {"image_size", s}, {"classes", c}, {"error", e.what()}});
            backend(dev).set_batchnorm_cudnn(false);
          }
        }
    backend(dev).set_tf32(precisions.front().rfind("tf32", 0) == 0);  // the tables below run in f32 tensors
    backend(dev).set_native_bf16(true);
    backend(dev).set_f32_channels_last(false);
    backend(dev).set_batchnorm_cudnn(false);
    // The strategies' own work, against the first configuration's step (batch b, CIFAR-sized by default).
    const double step_ms = all.empty() ? 0.0 : all[0]["step_ms_median"].get<double>();
    const int done = failed.empty() ? 0 : 3;  // 3: some configurations failed (listed in the JSON's "failed")
    if (step_only) {
      if (!json_path.empty()) {
        bts::write_text_atomic(
            json_path,
            nlohmann::json{{"device", device_summary(st)}, {"results", all}, {"failed", failed}}.dump(2) + "\n");
        std::printf("wrote %s\n", json_path.c_str());
      }
      return done;
    }
    nlohmann::json strategies = strategy_costs(dev, train_size, batch, warmup, iters, step_ms);
    std::printf("strategy bookkeeping per training iteration (N = %lld, b = %lld, B = 0.3; step %.3f ms):\n",
                (long long)train_size, (long long)batch, step_ms);
    for (const auto& r : strategies)
      std::printf("  %-9s %-80s %9.4f ms  %6.3f%% of a step\n", r["strategy"].get<std::string>().c_str(),
                  r["work"].get<std::string>().c_str(), r["ms_per_iteration"].get<double>(),
                  100.0 * r["fraction_of_step"].get<double>());
    nlohmann::json augmentations = augmentation_costs(dev, std::min<int64_t>(train_size, 10000), batch, warmup,
                                                      iters, step_ms);
    std::printf("augmentation per batch (b = %lld, 3x32x32):\n", (long long)batch);
    for (const auto& r : augmentations)
      std::printf("  %-40s %9.4f ms  %6.3f%% of a step\n", r["augmentation"].get<std::string>().c_str(),
                  r["ms_per_batch"].get<double>(), 100.0 * r["fraction_of_step"].get<double>());
    if (!json_path.empty()) {
      bts::write_text_atomic(json_path, nlohmann::json{{"device", device_summary(st)}, {"results", all},
                                                       {"failed", failed}, {"strategy_costs", strategies},
                                                       {"augmentation_costs", augmentations}}
                                                .dump(2) +
                                            "\n");
      std::printf("wrote %s\n", json_path.c_str());
    }
    return done;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: error: %s\n", e.what());
    return 1;
  }
}
