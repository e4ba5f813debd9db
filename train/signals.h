// SIGINT/SIGTERM during a run: noted, not fatal, so the trainer can stop at the next step boundary, write a
// checkpoint and exit as interrupted.
#pragma once

namespace bts {

// Installs the handlers for its lifetime and restores the previous ones.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// The signal received since the innermost scope began, or 0.
int interrupt_signal();

}  // namespace bts
