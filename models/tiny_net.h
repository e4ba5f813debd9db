// A tiny residual network for fast tests: stem conv3x3 + BN + ReLU (width c), one BasicBlock (c -> 2c,
// stride 2), global average pool, Linear. Uses every op ResNet-18 uses, at a few thousand parameters.
#pragma once
#include "engine/module.h"
#include "models/basic_block.h"

namespace bts {

struct TinyNetConfig {
  int64_t width = 8;
  int64_t classes = 10;
  int64_t in_channels = 1;
};

class TinyNet : public Model {
 public:
  explicit TinyNet(const TinyNetConfig& cfg);
  std::string describe() const override;

 protected:
  Module& root() override { return net_; }
  int64_t stem_channels() const override { return cfg_.width; }

 private:
  class Net : public Module {
   public:
    Net(ModelStores& s, const TinyNetConfig& cfg);
    Var forward(Tape& t, Var x) override;

   private:
    Conv2d conv1_;
    BatchNorm2d bn1_;
    BasicBlock block_;
    Linear linear_;
  };
  TinyNetConfig cfg_;
  Net net_;
};

}  // namespace bts
