#include "engine/cpu/cpu_backend.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "engine/steady_state.h"
#include "kernels/common/check.h"

namespace bts {

namespace {
constexpr size_t kHostAlign = 256;  // matches Arena::kAlign, so arena slices stay 256-byte aligned on the host too

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

BackendRegistration cpu_backend_registration() {
  return {[] { return BackendProbe{1, "CPU"}; }, []() -> Backend* { return new CpuBackend(); }};
}

void* CpuBackend::allocate(size_t bytes) {
  const size_t rounded = (bytes + kHostAlign - 1) / kHostAlign * kHostAlign;
  void* p = std::aligned_alloc(kHostAlign, rounded);
  BTS_CHECK(p != nullptr, "host allocation of " << bytes << " bytes failed");
  return p;
}

void CpuBackend::release(void* p) noexcept { std::free(p); }

void CpuBackend::copy(void* dst, const void* src, size_t bytes, bool) { std::memmove(dst, src, bytes); }

// The CPU never waits, but a GPU run would here: the steady-state guard sees the same calls on both backends.
void CpuBackend::synchronize() { steady_state::note_host_wait("Backend::synchronize"); }

void CpuBackend::fill(void* dst, int byte_value, size_t bytes) { std::memset(dst, byte_value, bytes); }

// A CPU "event" is the host time at which it was recorded: CPU work is synchronous, so that is when the work
// queued before it finished.
EventHandle CpuBackend::create_event() {
  steady_state::note_allocation(Device::CPU, sizeof(double), "a timing event");
  return new double(0);
}
void CpuBackend::record_event(EventHandle e) { *static_cast<double*>(e) = now_ms(); }
double CpuBackend::elapsed_ms(EventHandle begin, EventHandle end) {
  steady_state::note_host_wait("Backend::elapsed_ms");
  return *static_cast<double*>(end) - *static_cast<double*>(begin);
}
bool CpuBackend::elapsed_ms_if_done(EventHandle begin, EventHandle end, double* ms) {
  *ms = *static_cast<double*>(end) - *static_cast<double*>(begin);  // recorded means done on the CPU
  return true;
}

void CpuBackend::destroy_event(EventHandle e) noexcept { delete static_cast<double*>(e); }

}  // namespace bts
