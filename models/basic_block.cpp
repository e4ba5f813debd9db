#include "models/basic_block.h"

#include "engine/ops.h"

namespace bts {

// Names follow the paper's code (kuangliu-style CIFAR ResNet): layerX.Y.conv1, .bn1, .conv2, .bn2,
// .shortcut.0 (conv) and .shortcut.1 (BN).
BasicBlock::BasicBlock(ModelStores& s, const std::string& name, int64_t in, int64_t out, int stride)
    : conv1_(s, name + ".conv1", in, out, 3, stride, 1),
      conv2_(s, name + ".conv2", out, out, 3, 1, 1),
      bn1_(s, name + ".bn1", out),
      bn2_(s, name + ".bn2", out) {
  register_child(&conv1_);
  register_child(&bn1_);
  register_child(&conv2_);
  register_child(&bn2_);
  if (stride != 1 || in != out) {
    shortcut_conv_ = std::make_unique<Conv2d>(s, name + ".shortcut.0", in, out, 1, stride, 0);
    shortcut_bn_ = std::make_unique<BatchNorm2d>(s, name + ".shortcut.1", out);
    register_child(shortcut_conv_.get());
    register_child(shortcut_bn_.get());
  }
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut first, so that bn2, the add and the ReLU are
// one op (batchnorm2d_add_relu). The backward still reaches x through the shortcut before conv1, as before.
Var BasicBlock::forward(Tape& t, Var x) {
  Var h = bn1_.forward_relu(t, conv1_.forward(t, x));
  h = conv2_.forward(t, h);
  Var sc = shortcut_conv_ ? shortcut_bn_->forward(t, shortcut_conv_->forward(t, x)) : x;
  return bn2_.forward_add_relu(t, h, sc);
}

}  // namespace bts
