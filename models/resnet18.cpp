#include "models/resnet18.h"

#include <cmath>
#include <sstream>

#include "engine/ops.h"
#include "kernels/common/conv_shape.h"

namespace bts {

int64_t ResNet18::base_width(double width) {
  BTS_CHECK(width > 0 && width <= 16, "ResNet-18 width multiplier must be in (0, 16], got " << width);
  return std::max<int64_t>(1, std::lround(64.0 * width));
}

ResNet18::Net::Net(ModelStores& s, const ResNet18Config& cfg)
    : conv1_(s, "conv1", cfg.in_channels, base_width(cfg.width), 3, 1, 1),
      bn1_(s, "bn1", base_width(cfg.width)) {
  BTS_CHECK(cfg.classes >= 2, "ResNet-18 needs at least 2 classes, got " << cfg.classes);
  BTS_CHECK(cfg.in_channels >= 1, "ResNet-18 needs at least 1 input channel, got " << cfg.in_channels);
  register_child(&conv1_);
  register_child(&bn1_);
  const int64_t w = base_width(cfg.width);
  int64_t in = w;
  const int strides[4] = {1, 2, 2, 2};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t out = w << stage;
    for (int b = 0; b < 2; ++b) {
      const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
      blocks_.push_back(std::make_unique<BasicBlock>(s, name, in, out, b == 0 ? strides[stage] : 1));
      register_child(blocks_.back().get());
      in = out;
    }
  }
  linear_ = std::make_unique<Linear>(s, "linear", 8 * w, cfg.classes);  // registered last, as PyTorch orders it
  register_child(linear_.get());
}

Var ResNet18::Net::forward(Tape& t, Var x) {
  Var h = bn1_.forward_relu(t, conv1_.forward(t, x));
  for (auto& b : blocks_) h = b->forward(t, h);
  return linear_->forward(t, global_avg_pool(t, h));
}

ResNet18::ResNet18(const ResNet18Config& cfg) : cfg_(cfg), net_(stores_, cfg) {}

int64_t ResNet18::forward_macs(int64_t H, int64_t W) const {
  const int64_t w = base_width(cfg_.width);
  int64_t macs = H * W * cfg_.in_channels * w * 9;  // stem
  int64_t in = w;
  const int strides[4] = {1, 2, 2, 2};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t out = w << stage;
    for (int b = 0; b < 2; ++b) {
      const int stride = b == 0 ? strides[stage] : 1;
      H = kernels::conv_out_size(H, 3, stride, 1);
      W = kernels::conv_out_size(W, 3, stride, 1);
      macs += H * W * (in * out * 9 + out * out * 9);
      if (stride != 1 || in != out) macs += H * W * in * out;  // 1x1 shortcut
      in = out;
    }
  }
  return macs + in * cfg_.classes;
}

std::string ResNet18::describe() const {
  std::ostringstream os;
  os << "ResNet-18 (width " << cfg_.width << ", stage widths " << base_width(cfg_.width) << "/"
     << 2 * base_width(cfg_.width) << "/" << 4 * base_width(cfg_.width) << "/" << 8 * base_width(cfg_.width) << ", "
     << cfg_.classes << " classes, " << cfg_.in_channels << " input channels, " << num_parameters()
     << " parameters)";
  return os.str();
}

}  // namespace bts
