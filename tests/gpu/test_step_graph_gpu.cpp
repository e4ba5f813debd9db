// CUDA graphs of a training step (engine/step_graph.h): one plain step, then captured-graph replays, against plain
// steps (f32 and bf16, bit for bit), and a step that allocates refused at capture with the stream usable after;
// the trainer's recorded step as a CUDA graph against eager steps, every method (tests/common/recorded_step_cases.h).
#include "data/fashion_mnist.h"
#include "tests/common/helpers.h"
#include "tests/common/recorded_step_cases.h"
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

TEST_CASE("the trainer's steps as CUDA graphs equal eager steps bit for bit, every method and augmentation") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST (Debian dataset-fashion-mnist, or $BTS_FASHION_MNIST_DIR) is not on this machine");
    return;
  }
  const DataSplit data = load_fashion_mnist("");
  bts::test::check_recorded_steps_equal_eager("cuda", data, /*cuda_graph=*/true);
}

}  // TEST_SUITE
