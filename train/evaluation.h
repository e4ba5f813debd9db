// Test-set evaluation: eval-mode forwards over the whole test set in fixed batches; the mean loss and the
// accuracy, accumulated on the device (one host read at the end).
//
// An Evaluator owns everything an evaluation needs (the test indices, a batch's images and labels, the target
// weights, the statistics and a tape whose arena keeps its peak), made once per run: after the first evaluation,
// the next ones allocate nothing and wait for the device once, for the two numbers (the steady-state guard holds
// it to that: tests/cpu/test_steady_state.cpp).
#pragma once
#include <cstdint>

#include "data/device_dataset.h"
#include "engine/autograd.h"
#include "engine/module.h"

namespace bts {

// The test-set batch of every evaluation (the training runs' and `bts eval`'s).
constexpr int64_t kEvalBatch = 500;

struct EvalResult {
  double loss = 0, accuracy = 0;
};

class Evaluator {
 public:
  Evaluator(const DeviceDataset& test, int64_t batch);
  // Evaluates `model` (left in training mode afterwards). The one host read is the result itself.
  EvalResult run(Model& model);
  int64_t runs() const { return runs_; }  // evaluations done (the first one warms up)

 private:
  const DeviceDataset& test_;
  int64_t batch_;
  Tensor indices_;        // I32 [n]: 0..n-1 on the device; batches are views of it
  Tensor images_, labels_;  // one batch
  Tensor ones_;           // F32 [batch]: label and sample weights of 1
  Tensor stats_;          // F64 [2]: loss sum, correct count
  Tape tape_;
  int64_t runs_ = 0;
};

// One evaluation with a fresh Evaluator (bts eval, tests).
EvalResult evaluate(Model& model, const DeviceDataset& test, int64_t batch);

}  // namespace bts
