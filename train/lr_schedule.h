// Budget-aware learning-rate schedules, defined on the iterations the budgeted run will actually do
// (METHODS.md): step (divide by 10 at 1/3 and 2/3 of training), linear (from the initial rate down to the final
// one at the last iteration, as linspace(initial, final, total)[iteration]) and constant.
#pragma once
#include <cstdint>
#include <string>

namespace bts {

enum class LrSchedule { Step, Linear, Constant };

LrSchedule parse_lr_schedule(const std::string& name);  // "step", "linear", "constant"; throws otherwise
const char* lr_schedule_name(LrSchedule s);
double learning_rate(LrSchedule s, double initial, double final_lr, int64_t iteration, int64_t total_iterations);

}  // namespace bts
