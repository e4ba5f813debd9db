// Deterministic parameter initialisation (documented in docs/MODEL.md):
//   conv weights    Kaiming normal, fan_out mode, ReLU gain: N(0, 2 / (K*R*S))   (torchvision's ResNet choice)
//   linear weight   U(-1/sqrt(fan_in), 1/sqrt(fan_in))                           (PyTorch's nn.Linear default)
//   linear bias     U(-1/sqrt(fan_in), 1/sqrt(fan_in))                           (PyTorch's nn.Linear default)
//   BN weight 1, BN bias 0, running mean 0, running variance 1.
// Each parameter draws from its own Philox stream (its index in the store), so adding a layer at the end
// does not change the others.
#pragma once
#include <cstdint>

#include "engine/parameters.h"

namespace bts {

void init_parameters(ParameterStore& store, uint64_t seed);

}  // namespace bts
