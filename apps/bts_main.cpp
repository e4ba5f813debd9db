// bts: the budgeted-training command.
// Today (engine foundation) it reports the devices and runs a short, honest smoke run: a reduced-width
// ResNet-18 taking SGD steps on one synthetic batch on the CPU. The budgeted trainer on Fashion-MNIST replaces
// this run when the trainer lands (see README).
#include <chrono>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "engine/device.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "engine/sgd.h"
#include "models/resnet18.h"

namespace {

int smoke_run(double width, int steps, int batch, uint64_t seed) {
  using namespace bts;
  std::printf("bts %s\n", "0.1.0");
  std::printf("device: %s\n", device_summary(probe_devices()).c_str());
  std::printf("NOTE: the budgeted trainer is not implemented yet; this is a smoke run of the engine\n"
              "      (ResNet-18 forward/backward/SGD on one synthetic batch, CPU), not an experiment.\n");
  ResNet18 model({width, 10, 1});
  model.finalize(DType::F32, Device::CPU, seed);
  std::printf("model: %s\n", model.describe().c_str());
  Rng rng(seed, 99);
  Tensor x = Tensor::empty({batch, 1, 28, 28}, DType::F32);
  Tensor labels = Tensor::empty({batch}, DType::I32);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(rng.normal());
  for (int i = 0; i < batch; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
  Targets targets = Targets::hard(labels, DType::F32, Device::CPU);
  Sgd opt(model.params(), SgdOptions{});
  Tape tape(Device::CPU);
  for (int s = 0; s < steps; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    tape.clear();
    model.zero_grad();
    CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, tape.input(x)), targets);
    tape.backward(ce.total);
    opt.step(0.1);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("step %d/%d  loss %.4f  %.1f ms  (%.0f images/s)\n", s + 1, steps,
                ce.total.value().to_double_vector()[0], ms, batch / (ms / 1000.0));
  }
  std::printf("done: the loss on a memorised synthetic batch should fall step by step.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bts: a budgeted-training engine (ResNet-18, importance sampling, augmentation; C++/CUDA)"};
  double width = 0.25;
  int steps = 10, batch = 32;
  uint64_t seed = 0;
  app.add_option("--width", width, "ResNet-18 width multiplier for the smoke run")->capture_default_str()
      ->check(CLI::Range(0.01, 16.0));
  app.add_option("--steps", steps, "SGD steps of the smoke run")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--batch", batch, "batch size of the smoke run")->capture_default_str()->check(CLI::Range(2, 4096));
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  auto* info = app.add_subcommand("info", "print the build and the devices found");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*info) {
      std::printf("%s\n", bts::device_summary(bts::probe_devices()).c_str());
      return 0;
    }
    return smoke_run(width, steps, batch, seed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bts: error: %s\n", e.what());
    return 1;
  }
}
