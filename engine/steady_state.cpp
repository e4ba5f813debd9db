#include "engine/steady_state.h"

#include <sstream>
#include <utility>

namespace bts {

namespace {
// Per thread: the guard concerns the thread that drives the device (OpenMP workers inside a CPU kernel never
// allocate Buffers or read tensors back).
thread_local bool g_active = false;
thread_local std::string g_label;

[[noreturn]] void violation(const std::string& what) {
  std::ostringstream os;
  os << "steady-state check: " << what << " during " << g_label
     << " (a warmed-up step must neither allocate nor wait for the device; engine/steady_state.h)";
  throw SteadyStateViolation(os.str());
}
}  // namespace

SteadyStateScope::SteadyStateScope(std::string label) : previous_(std::move(g_label)), was_active_(g_active) {
  g_label = std::move(label);
  g_active = true;
}

SteadyStateScope::~SteadyStateScope() {
  g_label = std::move(previous_);
  g_active = was_active_;
}

SteadyStatePause::SteadyStatePause() : was_active_(g_active) { g_active = false; }
SteadyStatePause::~SteadyStatePause() { g_active = was_active_; }

namespace steady_state {

bool active() { return g_active; }

void note_allocation(Device device, size_t bytes, const char* what) {
  if (!g_active) return;
  violation(std::string(what) + " allocated " + std::to_string(bytes) + " bytes on " + device_name(device));
}

void note_host_wait(const char* what) {
  if (!g_active) return;
  violation(std::string("the host waited for the device (") + what + ")");
}

}  // namespace steady_state
}  // namespace bts
