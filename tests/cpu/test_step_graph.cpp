// engine/step_graph.h on the CPU: replay calls the recorded step again under the steady-state guard, so a
// ResNet-18 training step (f32 and bf16) is proved capturable here, and replays equal plain steps bit for bit.
// The trainer's recorded step (train/recorded_step.h): warm-up, recording, re-recording on a new key, and every
// method's toy run with step_graph on equal to the same run with it off.
// The GPU suite runs the same cases with real CUDA graphs (tests/gpu/test_step_graph_gpu.cpp).
#include <cstring>
#include <vector>

#include "data/fashion_mnist.h"
#include "engine/device_args.h"
#include "kernels/cpu/mixing.h"
#include "tests/common/recorded_step_cases.h"
#include "tests/common/step_graph_cases.h"
#include "train/batch_mixing.h"
#include "train/recorded_step.h"

using namespace bts;

TEST_SUITE("step_graph") {

TEST_CASE("recorded steps replayed equal plain steps (f32 and bf16), and the step is capturable") {
  CHECK_FALSE(backend(Device::CPU).supports_graphs());
  bts::test::check_replays_equal_plain_steps(Device::CPU);
}

TEST_CASE("a step that allocates cannot be recorded: the guard names it") {
  bts::test::check_allocating_step_is_refused(Device::CPU);
}

// A replay repeats what was recorded: the closure given at the recording, with the values it captured then, and not
// the closure of the call that replays it. That is a CUDA graph's semantics, kept on the CPU.
TEST_CASE("the trainer's recorded step: warm-up per key, one recording per key, re-recorded when its memory moves") {
  PhaseTimer timer(Device::CPU);
  Arena arena(Device::CPU);
  RecordedStep step(Device::CPU, true, arena, RecordedStep::kPhase, "a test step");
  std::vector<int> ran;  // which closure ran, per call: negative without a timer (recorded)
  // A step's work: its tape's clear (the arena's reset), then tensors of `mib` MiB in two halves.
  const auto work = [&](int id, size_t mib) {
    return [&ran, &arena, id, mib](PhaseTimer* t) {
      arena.reset();
      for (int half = 0; half < 2; ++half) arena.allocate(mib << 19);
      ran.push_back(t ? id : -id);
    };
  };
  const RecordedStepKey a{{nullptr}, {64, 1}}, b{{nullptr}, {64, 2}}, big{{nullptr}, {128, 1}};
  for (int id = 1; id <= 5; ++id) step.run(a, work(id, 4), timer);
  // 1 grows the arena (two chunks), 2 folds them and grows nothing: warm; 3 is recorded (closure 3, no timer) and
  // replayed; 4 and 5 replay closure 3.
  CHECK(ran == std::vector<int>{1, 2, -3, -3, -3});
  step.run(b, work(6, 4), timer);  // a new key on warm memory: one eager run, then recorded
  step.run(b, work(7, 4), timer);
  step.run(a, work(8, 4), timer);  // a's recording still holds
  CHECK(ran == std::vector<int>{1, 2, -3, -3, -3, 6, -7, -3});
  // A bigger step on the same arena grows it: a's recording would read memory the next fold frees, so it goes, and
  // a warms up again (its eager run folds the arena) before it is recorded anew.
  step.run(big, work(9, 8), timer);
  ran.clear();
  for (int id = 10; id <= 12; ++id) step.run(a, work(id, 4), timer);
  CHECK(ran == std::vector<int>{10, -11, -11});
  const nlohmann::json s = step.summary();
  CHECK(s["recordings"] == 3);
  CHECK(s["replayed_steps"] == 7);
  CHECK(s["eager_steps"] == 5);
  CHECK(s["cuda_graph"] == false);
  CHECK(timer.collect().count(RecordedStep::kPhase) == 1);

  RecordedStep off(Device::CPU, false, arena, RecordedStep::kPhase, "a test step");
  ran.clear();
  for (int id = 1; id <= 4; ++id) off.run(a, work(id, 4), timer);
  CHECK(ran == std::vector<int>{1, 2, 3, 4});
  CHECK(off.summary()["replayed_steps"] == 0);
}

TEST_CASE("every method's toy run with step_graph on equals it off, bit for bit, and really replays") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  const DataSplit data = load_fashion_mnist("");
  bts::test::check_recorded_steps_equal_eager("cpu", data, /*cuda_graph=*/false);
}

// What changes per step reaches a recorded step through device memory the host rewrites before each replay: the
// write itself (bounded by what a launch argument carries) and the mixer split into its two parts.
TEST_CASE("per-step inputs: write_bytes and DeviceArgs; the mixer's kernels follow the draws written last") {
  kernels::MixupArgs m = kernels::make_mixup_args(0.3, 9, 4);
  DeviceArgs<kernels::MixupArgs> args(Device::CPU);
  args.write(m);
  CHECK(std::memcmp(args.get(), &m, sizeof m) == 0);
  std::vector<char> big(kernels::kMaxStreamWriteBytes + 1), dst(big.size());
  CHECK_THROWS_WITH_AS(backend(Device::CPU).write_bytes(dst.data(), big.data(), big.size()),
                       doctest::Contains("at most"), Error);

  const int64_t b = 6;
  const int c = 2, h = 5, w = 7;
  Tensor images = Tensor::empty({b, c, h, w}, DType::F32), labels = Tensor::empty({b}, DType::I32);
  for (int64_t i = 0; i < images.numel(); ++i) images.data<float>()[i] = static_cast<float>(i % 97) - 40.0f;
  for (int64_t i = 0; i < b; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(i * 3 % 10);
  BatchMixer mixer(MixingOptions{0, 0.3, 0, 21}, b, c, h, w, Device::CPU);
  CHECK_THROWS_WITH_AS(mixer.mix(images, labels), doctest::Contains("before set_step"), Error);
  std::vector<float> want(static_cast<size_t>(images.numel()));
  std::vector<int32_t> want_labels(b * 4), want_slots(b * 4);
  std::vector<float> want_weights(b * 4);
  for (uint64_t step : {5u, 6u}) {
    mixer.set_step(step == 5 ? 99 : 5);  // overwritten before the kernels run
    mixer.set_step(step);
    mixer.mix(images, labels);
    kernels::cpu::ricap_batch(images.data<float>(), labels.data<int32_t>(), b, c, h, w,
                              kernels::make_ricap_args(0.3, h, w, 21, step), want.data(), want_labels.data(),
                              want_weights.data(), want_slots.data());
    CAPTURE(step);
    CHECK(std::memcmp(mixer.images().raw(), want.data(), want.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(mixer.labels().raw(), want_labels.data(), want_labels.size() * sizeof(int32_t)) == 0);
    CHECK(std::memcmp(mixer.label_weights().raw(), want_weights.data(), want_weights.size() * sizeof(float)) == 0);
  }
}

}  // TEST_SUITE
