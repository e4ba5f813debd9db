#include "models/tiny_net.h"

#include <sstream>

#include "engine/ops.h"

namespace bts {

TinyNet::Net::Net(ModelStores& s, const TinyNetConfig& cfg)
    : conv1_(s, "conv1", cfg.in_channels, cfg.width, 3, 1, 1),
      bn1_(s, "bn1", cfg.width),
      block_(s, "layer1.0", cfg.width, 2 * cfg.width, 2),
      linear_(s, "linear", 2 * cfg.width, cfg.classes) {
  register_child(&conv1_);
  register_child(&bn1_);
  register_child(&block_);
  register_child(&linear_);
}

Var TinyNet::Net::forward(Tape& t, Var x) {
  Var h = relu(t, bn1_.forward(t, conv1_.forward(t, x)));
  h = block_.forward(t, h);
  return linear_.forward(t, global_avg_pool(t, h));
}

TinyNet::TinyNet(const TinyNetConfig& cfg) : cfg_(cfg), net_(stores_, cfg) {}

std::string TinyNet::describe() const {
  std::ostringstream os;
  os << "TinyNet (width " << cfg_.width << ", " << cfg_.classes << " classes, " << num_parameters() << " parameters)";
  return os.str();
}

}  // namespace bts
