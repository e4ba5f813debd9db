// Budget-aware LR schedules at known iterations.
#include "train/lr_schedule.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("schedules") {

TEST_CASE("step: /10 at 1/3 and 2/3 of the iterations the run does") {
  const int64_t total = 300;
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 0, total) == doctest::Approx(0.1));
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 99, total) == doctest::Approx(0.1));
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 100, total) == doctest::Approx(0.01));
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 199, total) == doctest::Approx(0.01));
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 200, total) == doctest::Approx(0.001));
  CHECK(learning_rate(LrSchedule::Step, 0.1, 0, 299, total) == doctest::Approx(0.001));
}

TEST_CASE("linear: linspace(0.1, 1e-6, total)[iteration], clamped at the final value") {
  const int64_t total = 1001;
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 0, total) == doctest::Approx(0.1));
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 500, total) == doctest::Approx((0.1 + 1e-6) / 2));
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 1000, total) == doctest::Approx(1e-6));
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 5000, total) == doctest::Approx(1e-6));
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 250, total) == doctest::Approx(0.1 - 0.25 * (0.1 - 1e-6)));
  CHECK(learning_rate(LrSchedule::Linear, 0.1, 1e-6, 0, 1) == doctest::Approx(0.1));
}

TEST_CASE("constant, names, and errors") {
  CHECK(learning_rate(LrSchedule::Constant, 0.05, 0, 12345, 20000) == 0.05);
  CHECK(parse_lr_schedule("step") == LrSchedule::Step);
  CHECK(std::string(lr_schedule_name(LrSchedule::Linear)) == "linear");
  CHECK_THROWS_WITH_AS(parse_lr_schedule("cosine"), doctest::Contains("step, linear or constant"), Error);
  CHECK_THROWS_AS(learning_rate(LrSchedule::Step, 0.1, 0, 0, 0), Error);
}

}  // TEST_SUITE
