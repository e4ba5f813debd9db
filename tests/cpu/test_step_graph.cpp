// engine/step_graph.h on the CPU: replay calls the recorded step again under the steady-state guard, so a
// ResNet-18 training step (f32 and bf16) is proved capturable here, and replays equal plain steps bit for bit.
// The GPU suite runs the same cases with real CUDA graphs (tests/gpu/test_step_graph_gpu.cpp).
#include "tests/common/step_graph_cases.h"

using namespace bts;

TEST_SUITE("step_graph") {

TEST_CASE("recorded steps replayed equal plain steps (f32 and bf16), and the step is capturable") {
  CHECK_FALSE(backend(Device::CPU).supports_graphs());
  bts::test::check_replays_equal_plain_steps(Device::CPU);
}

TEST_CASE("a step that allocates cannot be recorded: the guard names it") {
  bts::test::check_allocating_step_is_refused(Device::CPU);
}

}  // TEST_SUITE
