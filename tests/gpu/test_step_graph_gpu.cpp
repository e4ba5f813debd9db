// CUDA graphs of a training step (engine/step_graph.h): one plain step, then captured-graph replays, against plain
// steps (f32 and bf16, bit for bit), and a step that allocates refused at capture with the stream usable after.
#include "tests/common/step_graph_cases.h"

using namespace bts;

TEST_SUITE("step_graph_gpu") {

TEST_CASE("graph replays of a ResNet-18 step equal plain steps (f32 and bf16)") {
  CHECK(backend(Device::CUDA).supports_graphs());
  bts::test::check_replays_equal_plain_steps(Device::CUDA);
}

TEST_CASE("a step that allocates is refused at capture, naming it; the stream works afterwards") {
  bts::test::check_allocating_step_is_refused(Device::CUDA);
}

}  // TEST_SUITE
