// The toy training run the trainer tests share: Fashion-MNIST, 512 training and 200 test samples, ResNet-18 of
// width 0.0625, batch 32, B = 0.5 over 3 epochs (8 iterations per epoch), a checkpoint every epoch, on the CPU.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace bts::test {

inline nlohmann::json toy_config(const std::string& run_dir) {
  return {{"dataset", "fashion-mnist"}, {"method", "unif-sgd"}, {"budget", 0.5}, {"epochs", 3},
          {"batch_size", 32}, {"model", {{"width", 0.0625}}}, {"train_subset", 512}, {"test_subset", 200},
          {"device", "cpu"}, {"checkpoint_every", 1}, {"run_dir", run_dir}, {"seed", 4}};
}

}  // namespace bts::test
