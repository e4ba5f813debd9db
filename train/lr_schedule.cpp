#include "train/lr_schedule.h"

#include <algorithm>

#include "kernels/common/check.h"

namespace bts {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "step") return LrSchedule::Step;
  if (name == "linear") return LrSchedule::Linear;
  if (name == "constant") return LrSchedule::Constant;
  BTS_FAIL("unknown LR schedule '" << name << "' (expected step, linear or constant)");
}

const char* lr_schedule_name(LrSchedule s) {
  switch (s) {
    case LrSchedule::Step: return "step";
    case LrSchedule::Linear: return "linear";
    case LrSchedule::Constant: return "constant";
  }
  return "?";
}

double learning_rate(LrSchedule s, double initial, double final_lr, int64_t it, int64_t total) {
  BTS_CHECK(total >= 1 && it >= 0, "learning_rate: iteration " << it << " of " << total);
  switch (s) {
    case LrSchedule::Constant: return initial;
    case LrSchedule::Step: {
      // Milestones at floor(total/3) and floor(2 total/3) iterations.
      const int64_t m1 = total / 3, m2 = 2 * total / 3;
      return it < m1 ? initial : it < m2 ? initial * 0.1 : initial * 0.01;
    }
    case LrSchedule::Linear: {
      if (total == 1) return initial;
      const double t = std::min<double>(1.0, static_cast<double>(it) / static_cast<double>(total - 1));
      return std::max(final_lr, initial + (final_lr - initial) * t);
    }
  }
  return initial;
}

}  // namespace bts
