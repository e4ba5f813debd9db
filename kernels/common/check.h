// Throwing checks. Every failure names the file, the line, the failing expression and what was expected,
// so `main` can turn it into one clear line (see apps/). Never abort, never print-and-continue.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace bts {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] inline void fail(const char* file, int line, const char* expr, const std::string& msg) {
  std::ostringstream os;
  os << msg;
  if (expr && *expr) os << " [check `" << expr << "` failed at " << file << ":" << line << "]";
  else os << " [at " << file << ":" << line << "]";
  throw Error(os.str());
}
}  // namespace detail

}  // namespace bts

// BTS_CHECK(cond, streamable message...): throws bts::Error when cond is false.
#define BTS_CHECK(cond, ...)                                                    \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::ostringstream bts_check_os_;                                         \
      bts_check_os_ << __VA_ARGS__;                                             \
      ::bts::detail::fail(__FILE__, __LINE__, #cond, bts_check_os_.str());      \
    }                                                                           \
  } while (0)

// BTS_FAIL(message...): unconditional throw.
#define BTS_FAIL(...)                                                           \
  do {                                                                          \
    std::ostringstream bts_check_os_;                                           \
    bts_check_os_ << __VA_ARGS__;                                               \
    ::bts::detail::fail(__FILE__, __LINE__, "", bts_check_os_.str());           \
  } while (0)
