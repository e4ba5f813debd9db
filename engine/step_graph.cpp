#include "engine/step_graph.h"

#include <utility>

#include "engine/steady_state.h"

namespace bts {

StepGraph::StepGraph(Device device, std::function<void()> step, std::string label)
    : backend_(backend(device)), step_(std::move(step)), label_(std::move(label)) {
  if (!backend_.supports_graphs()) return;
  backend_.begin_capture();
  try {
    SteadyStateScope guard("capturing " + label_ + " into a CUDA graph");
    step_();
  } catch (...) {
    backend_.abort_capture();
    throw;
  }
  graph_ = backend_.end_capture();
  generation_ = backend_.memory_generation();
  // step_ stays: what its closure owns (tensors captured by value) may be memory the graph's nodes use.
}

StepGraph::~StepGraph() { backend_.destroy_graph(graph_); }

void StepGraph::replay() {
  if (graph_) {
    BTS_CHECK(current(),
              label_ << "'s graph reads the backend's scratch or convolution workspace, which grew (moved) since it was "
                        "captured (a larger batch or model ran in between): record the step again");
    return backend_.replay(graph_);
  }
  SteadyStateScope guard("replaying " + label_);
  step_();
}

}  // namespace bts
