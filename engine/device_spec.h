// What a config's or a flag's `device` asks for: "auto" (a GPU when one answers, else the CPU), "cpu", "cuda"
// (GPU 0), or "cuda:N" (GPU N of those visible). Header-only: the sweep apps (experiments/, which does not link
// the engine) check their --device with the same rule as `bts train`.
#pragma once
#include <string>

#include "kernels/common/check.h"

namespace bts {

struct DeviceSpec {
  enum class Kind { Auto, Cpu, Cuda } kind = Kind::Auto;
  int index = -1;  // cuda:N; -1: not given
};

// Throws naming the text and what is allowed.
inline DeviceSpec parse_device_spec(const std::string& text) {
  DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = DeviceSpec::Kind::Cpu;
    return d;
  }
  d.kind = DeviceSpec::Kind::Cuda;
  if (text == "cuda") return d;
  const std::string prefix = "cuda:";
  const std::string digits = text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : "";
  BTS_CHECK(!digits.empty() && digits.size() <= 4 && digits.find_first_not_of("0123456789") == std::string::npos,
            "device '" << text << "': expected auto, cpu, cuda or cuda:N (N the index of a visible GPU, 0 ..)");
  d.index = std::stoi(digits);
  return d;
}

inline bool is_device_spec(const std::string& text) {
  try {
    parse_device_spec(text);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace bts
