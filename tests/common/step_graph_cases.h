// StepGraph (engine/step_graph.h) against plain steps: a ResNet-18 training step (forward, cross-entropy, backward,
// SGD with momentum) recorded after two warm-up steps and replayed must leave the parameters, momentum and
// BatchNorm statistics where the same number of plain steps leaves them; a step that allocates cannot be recorded.
// The CPU suite runs these on the CPU (replay calls the step again, under the steady-state guard: the step is
// proved capturable); the GPU suite on the GPU, where replay launches a captured CUDA graph.
#pragma once
#include <cstdio>
#include <functional>

#include <doctest/doctest.h>

#include "engine/ops.h"
#include "engine/sgd.h"
#include "engine/steady_state.h"
#include "engine/step_graph.h"
#include "models/resnet18.h"
#include "tests/common/helpers.h"

namespace bts::test {

struct GraphRunResult {
  Tensor params, momentum, running;
};

// `steps` (>= 2) steps of one model on a fixed batch: all plain, or two plain and the rest replays of a record.
inline GraphRunResult run_steps(Device dev, bool bf16, bool recorded, int steps, bool* was_graph = nullptr) {
  Rng rng(31);
  const Tensor x = random_tensor({8, 3, 16, 16}, DType::F32, rng).to(dev);
  Tensor labels = Tensor::empty({8}, DType::I32);
  for (int i = 0; i < 8; ++i) labels.data<int32_t>()[i] = (3 * i) % 10;
  const Targets tg = Targets::hard(labels, DType::F32, dev);
  ResNet18 model({0.125, 10, 3});
  model.finalize(DType::F32, dev, 5);
  if (bf16) model.set_compute_dtype(DType::BF16);
  Sgd opt(model.params(), SgdOptions{});
  Tape tape(dev);
  const std::function<void()> step = [&] {
    tape.clear();
    model.zero_grad();
    Var logits = model.forward(tape, tape.input(x));
    tape.backward(cross_entropy(tape, logits, tg).total);
    opt.step(0.05);
  };
  // Warm-up, two plain steps: the first makes the arena's chunks, plans and workspaces; the second's reset folds
  // the chunks into one block (engine/arena.h), the allocation a recorded step must not make.
  step();
  step();
  if (recorded) {
    StepGraph graph(dev, step, "a ResNet-18 step");
    if (was_graph) *was_graph = graph.is_graph();
    for (int i = 2; i < steps; ++i) graph.replay();
  } else {
    for (int i = 2; i < steps; ++i) step();
  }
  return {model.params().flat_data().to(Device::CPU), opt.momentum_buffer().to(Device::CPU),
          model.buffers().flat_data().to(Device::CPU)};
}

inline void check_replays_equal_plain_steps(Device dev) {
  for (bool bf16 : {false, true}) {
    INFO("bf16 " << bf16);
    bool was_graph = false;
    const GraphRunResult plain = run_steps(dev, bf16, false, 5);
    const GraphRunResult replayed = run_steps(dev, bf16, true, 5, &was_graph);
    CHECK(was_graph == backend(dev).supports_graphs());
    const double ep = rel_error(replayed.params, plain.params), em = rel_error(replayed.momentum, plain.momentum),
                 er = rel_error(replayed.running, plain.running);
    std::printf("  %s %s: 2 plain + 3 %s vs 5 plain steps: parameters %.1e, momentum %.1e, running statistics %.1e\n",
                device_name(dev), bf16 ? "bf16" : "f32", was_graph ? "graph replays" : "replayed calls", ep, em, er);
    // The same kernels on the same addresses in the same order (deterministic algorithms): the same bits.
    CHECK(ep == 0.0);
    CHECK(em == 0.0);
    CHECK(er == 0.0);
    // and the replays did something: 5 steps moved the parameters away from 2 steps'
    const GraphRunResult two = run_steps(dev, bf16, false, 2);
    CHECK(rel_error(plain.params, two.params) > 1e-4);
  }
}

inline void check_allocating_step_is_refused(Device dev) {
  int calls = 0;
  const std::function<void()> allocating = [&] {
    ++calls;
    Tensor t = Tensor::empty({1024}, DType::F32, dev);  // a fresh buffer every step: not capturable
  };
  if (backend(dev).supports_graphs()) {
    CHECK_THROWS_WITH_AS(StepGraph(dev, allocating, "an allocating step"),
                         doctest::Contains("capturing an allocating step into a CUDA graph"), SteadyStateViolation);
    // The stream left capture mode: ordinary work runs again.
    Tensor ok = Tensor::zeros({16}, DType::F32, dev);
    CHECK(ok.to_double_vector()[0] == 0.0);
  } else {
    StepGraph g(dev, allocating, "an allocating step");
    CHECK(calls == 0);  // recording runs nothing
    CHECK_THROWS_WITH_AS(g.replay(), doctest::Contains("replaying an allocating step"), SteadyStateViolation);
  }
}

}  // namespace bts::test
