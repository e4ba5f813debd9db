#include "train/signals.h"

#include <csignal>

namespace bts {

namespace {
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) { g_signal = s; }
}  // namespace

InterruptScope::InterruptScope() {
  g_signal = 0;
  old_int_ = std::signal(SIGINT, on_signal);
  old_term_ = std::signal(SIGTERM, on_signal);
}

InterruptScope::~InterruptScope() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

int interrupt_signal() { return g_signal; }

}  // namespace bts
