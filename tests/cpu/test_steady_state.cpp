// The steady-state guard (engine/steady_state.h): what it catches and what it lets through, and the trainer's
// steps under it for every method and augmentation (tests/common/steady_state_cases.h).
#include "data/dataset.h"
#include "engine/arena.h"
#include "engine/backend.h"
#include "engine/phase_timer.h"
#include "engine/steady_state.h"
#include "engine/tensor.h"
#include "tests/common/helpers.h"
#include "tests/common/steady_state_cases.h"

using namespace bts;

TEST_SUITE("steady_state") {

TEST_CASE("the guard throws on allocations and waits for the device, names them, and is lifted by a pause") {
  Tensor t = Tensor::zeros({4}, DType::F32);
  Backend& be = backend(Device::CPU);
  CHECK_FALSE(steady_state::active());
  EventHandle a = be.create_event(), b = be.create_event();
  {
    SteadyStateScope scope("the test's step");
    CHECK(steady_state::active());
    CHECK_THROWS_WITH_AS(Tensor::empty({4}, DType::F32), doctest::Contains("a Buffer allocated 16 bytes on cpu"),
                         SteadyStateViolation);
    CHECK_THROWS_WITH_AS(Buffer(Device::CPU, 8), doctest::Contains("during the test's step"), SteadyStateViolation);
    CHECK_THROWS_WITH_AS(t.to_double_vector(), doctest::Contains("to_double_vector"), SteadyStateViolation);
    // A CPU tensor copied "to the CPU" is a device-side copy on the GPU: only its allocation is caught.
    CHECK_THROWS_WITH_AS(t.to(Device::CPU), doctest::Contains("a Buffer allocated 16 bytes"), SteadyStateViolation);
    CHECK_THROWS_WITH_AS(t.clone(), doctest::Contains("a Buffer allocated 16 bytes"), SteadyStateViolation);
    CHECK_THROWS_WITH_AS(t.fill(1.0), doctest::Contains("Tensor::fill"), SteadyStateViolation);
    CHECK_THROWS_WITH_AS(be.synchronize(), doctest::Contains("Backend::synchronize"), SteadyStateViolation);
    CHECK_THROWS_WITH_AS(be.create_event(), doctest::Contains("a timing event"), SteadyStateViolation);
    be.record_event(a);  // recording events is fine: only reading their times waits
    be.record_event(b);
    CHECK_THROWS_WITH_AS(be.elapsed_ms(a, b), doctest::Contains("elapsed_ms"), SteadyStateViolation);
    double ms = -1;
    CHECK(be.elapsed_ms_if_done(a, b, &ms));  // a completed event's time is read without waiting
    CHECK(ms >= 0);
    // What a step does is allowed: views, device-side copies and fills, kernels.
    Tensor v = t.view();
    zero_bytes(t.raw(), Device::CPU, t.bytes());
    float loss[2] = {1, 2}, history[4] = {};
    int32_t slots[2];
    CHECK_THROWS_WITH_AS(be.sb_select(loss, 2, history, 0, 1.0, true, 1, 0, slots), doctest::Contains("sb_select"),
                         SteadyStateViolation);
    {
      SteadyStatePause pause;  // an explicitly allowed read
      CHECK_FALSE(steady_state::active());
      CHECK(t.to_double_vector() == std::vector<double>(4, 0.0));
    }
    CHECK(steady_state::active());
    {
      SteadyStateScope inner("an inner phase");
      CHECK_THROWS_WITH_AS(t.to_double_vector(), doctest::Contains("during an inner phase"), SteadyStateViolation);
    }
    CHECK_THROWS_WITH_AS(t.to_double_vector(), doctest::Contains("during the test's step"), SteadyStateViolation);
  }
  CHECK_FALSE(steady_state::active());
  CHECK(t.to_double_vector().size() == 4);
  be.destroy_event(a);
  be.destroy_event(b);
}

TEST_CASE("the phase timer's events: a pool made up front, bounded however long between collects") {
  PhaseTimer timer(Device::CPU);
  {
    // 20x the pending limit of intervals with no collect: the oldest are summed as they complete and their events
    // reused, so no event is made inside the guard.
    SteadyStateScope scope("a long stretch of timed steps");
    for (size_t i = 0; i < 20 * PhaseTimer::kMaxPending; ++i) {
      timer.start("step");
      timer.start("forward");
      timer.stop("forward");
      timer.stop("step");
    }
    timer.start("step");
    timer.stop("step");
    CHECK_THROWS_AS(timer.collect(), SteadyStateViolation);  // collecting the pending ones waits (nothing lost)
  }
  const std::map<std::string, double> ms = timer.collect();
  REQUIRE(ms.count("step") == 1);
  REQUIRE(ms.count("forward") == 1);
  CHECK(ms.at("step") >= ms.at("forward"));  // every interval summed once: the outer phase holds the inner
  CHECK(timer.collect().empty());            // and nothing twice
}

TEST_CASE("an arena is steady once warmed up; growing it under the guard is caught") {
  Arena arena(Device::CPU);
  for (size_t bytes : {size_t(3) << 20, size_t(1) << 20, size_t(100)}) arena.allocate(bytes);  // warm-up: grows
  arena.reset();                                                                                // folds to the peak
  {
    SteadyStateScope scope("a warmed-up step");
    for (int step = 0; step < 3; ++step) {
      for (size_t bytes : {size_t(3) << 20, size_t(1) << 20, size_t(100)}) CHECK_NOTHROW(arena.allocate(bytes));
      arena.reset();
    }
    arena.allocate(size_t(5) << 20);
    CHECK(arena.capacity() == size_t(6) << 20);  // the warm-up's two 3 MiB chunks, folded into one
    CHECK_THROWS_AS(arena.allocate(size_t(2) << 20), SteadyStateViolation);  // past the capacity: a new chunk
  }
}

TEST_CASE("every method and augmentation trains steady epochs without a wait or an allocation; SB's reads named") {
  if (!bts::test::have_fashion_mnist()) {
    MESSAGE("SKIPPED: Debian package dataset-fashion-mnist is not installed");
    return;
  }
  const DataSplit data = load_dataset("fashion-mnist", "");
  bts::test::run_steady_state_cases("cpu", data);
}

}  // TEST_SUITE
