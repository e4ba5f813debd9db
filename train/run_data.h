// A run's data: the configured data set, loaded once, optionally cut to fixed random subsets (scaled-down CPU
// runs), and uploaded once to the run's device.
#pragma once
#include <cstdint>

#include "data/dataset.h"
#include "data/device_dataset.h"
#include "train/config.h"

namespace bts {

// Throws unless the config's train_subset and test_subset fit a data set of these split sizes (a subset larger than
// the data set is a mistake: a typo, the wrong data set; not a request for all of it). The run and the sweeps'
// preflight both ask this.
void check_subsets(const TrainConfig& cfg, int64_t train_size, int64_t test_size);

// Keeps a fixed random subset of k samples (the same for every run with the same k); k <= 0 or k >= size: all.
void take_subset(Dataset& ds, int64_t k);

struct RunData {
  DeviceDataset train, test;
};

// cfg.pad must already be 0 when crop/flip is off. `preloaded` (may be null): the data set already read, copied
// instead of reading the files again.
RunData load_run_data(const TrainConfig& cfg, Device device, const DataSplit* preloaded = nullptr);

}  // namespace bts
