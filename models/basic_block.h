// The ResNet BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus a shortcut (identity, or 1x1 strided conv + BN when
// the stride or width changes), then ReLU.
#pragma once
#include <memory>

#include "engine/module.h"

namespace bts {

class BasicBlock : public Module {
 public:
  BasicBlock(ModelStores& s, const std::string& name, int64_t in, int64_t out, int stride);
  Var forward(Tape& t, Var x) override;

 private:
  Conv2d conv1_, conv2_;
  BatchNorm2d bn1_, bn2_;
  std::unique_ptr<Conv2d> shortcut_conv_;
  std::unique_ptr<BatchNorm2d> shortcut_bn_;
};

}  // namespace bts
