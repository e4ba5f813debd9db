// libFuzzer target: config parsing. The input is a JSON config (as a config file or a checkpoint's config_json
// holds), read as bts reads a config file (a key twice in one object refused), and, after its first line, a
// `--set key=value` override applied to it. Anything that parses as JSON must become a TrainConfig or be refused
// with bts::Error; nothing may crash or recurse out of the stack (a config nested 100,000 deep once did, in the error
// message). Built and run by tools/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/common/check.h"
#include "train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t nl = text.find('\n');
  nlohmann::json j;
  try {
    j = bts::parse_json_text(text.substr(0, nl), "the config");  // as bts reads a config file
  } catch (const bts::Error&) {
    return 0;  // not JSON, or a key given twice: refused by name
  }
  try {
    if (nl != std::string::npos) bts::apply_override(j, text.substr(nl + 1));
  } catch (const bts::Error&) {
  }
  try {
    const bts::TrainConfig c = bts::config_from_json(j);
    (void)bts::config_to_json(c).dump();
  } catch (const bts::Error&) {
  }
  return 0;
}
