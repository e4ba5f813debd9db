// Test-set evaluation: eval-mode forwards over the whole test set in fixed batches; the mean loss and the
// accuracy, accumulated on the device (one host read at the end).
#pragma once
#include <cstdint>

#include "data/device_dataset.h"
#include "engine/module.h"

namespace bts {

struct EvalResult {
  double loss = 0, accuracy = 0;
};

EvalResult evaluate(Model& model, const DeviceDataset& test, int64_t batch);

}  // namespace bts
