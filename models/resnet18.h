// ResNet-18, CIFAR variant, exactly as ../shared/METHODS.md: stem conv3x3 (stride 1, no bias) + BN + ReLU, no
// max-pool; four stages of two BasicBlocks with widths w, 2w, 4w, 8w (w = round(64 * width), at least 1) and
// strides 1, 2, 2, 2; global average pool (so 28x28, 32x32 and 84x84 inputs all work); Linear(8w -> classes).
// Width 1: 11,173,962 parameters for 10 classes, 11,220,132 for 100.
#pragma once
#include <memory>
#include <vector>

#include "engine/module.h"
#include "models/basic_block.h"

namespace bts {

struct ResNet18Config {
  double width = 1.0;
  int64_t classes = 10;
  int64_t in_channels = 3;
};

class ResNet18 : public Model {
 public:
  explicit ResNet18(const ResNet18Config& cfg);
  std::string describe() const override;
  const ResNet18Config& config() const { return cfg_; }
  static int64_t base_width(double width);
  // Multiply-adds of one image's forward pass at H x W (convolutions + linear; BN, ReLU, pool not counted).
  // Width 1 at 32x32: 555.4 M; at 84x84: 3.917 G (METHODS.md). A training step costs about 3x the forward.
  int64_t forward_macs(int64_t H, int64_t W) const;

 protected:
  Module& root() override { return net_; }
  int64_t stem_channels() const override { return base_width(cfg_.width); }

 private:
  class Net : public Module {
   public:
    Net(ModelStores& s, const ResNet18Config& cfg);
    Var forward(Tape& t, Var x) override;

   private:
    Conv2d conv1_;
    BatchNorm2d bn1_;
    std::vector<std::unique_ptr<BasicBlock>> blocks_;
    std::unique_ptr<Linear> linear_;
  };
  ResNet18Config cfg_;
  Net net_;
};

}  // namespace bts
