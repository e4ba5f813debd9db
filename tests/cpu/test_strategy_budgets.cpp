// Every strategy and batch augmentation on the CPU spends exactly the budget its rule gives
// (tests/common/strategy_cases.h): the proof of the expectations the GPU suite checks its runs against.
#include "data/fashion_mnist.h"
#include "tests/common/strategy_cases.h"

TEST_SUITE("strategy_budgets") {

TEST_CASE("every strategy and batch augmentation spends the budget its rule gives (CPU)") {
  if (!bts::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const bts::DataSplit data = bts::load_fashion_mnist("");
  bts::test::run_strategy_cases("cpu", data);
}

}  // TEST_SUITE
