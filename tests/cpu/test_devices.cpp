// Devices by index: the `device` setting's forms (auto, cpu, cuda, cuda:N) and the errors for what this machine
// lacks. (On the CPU-only machines of CI, every CUDA request must be one clear error naming what there is.)
#include "engine/backend.h"
#include "engine/device.h"
#include "tests/common/helpers.h"
#include "tests/common/toy_run.h"
#include "train/config.h"

using namespace bts;

TEST_SUITE("devices") {

TEST_CASE("device specs: auto, cpu, cuda, cuda:N; anything else is refused naming the forms") {
  CHECK(parse_device_spec("auto").kind == DeviceSpec::Kind::Auto);
  CHECK(parse_device_spec("cpu").kind == DeviceSpec::Kind::Cpu);
  CHECK(parse_device_spec("cuda").kind == DeviceSpec::Kind::Cuda);
  CHECK(parse_device_spec("cuda").index == -1);
  CHECK(parse_device_spec("cuda:3").index == 3);
  CHECK(parse_device_spec("cuda:0").index == 0);
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:99999", "CUDA", "cuda:1 ", ""}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS(parse_device_spec(bad), doctest::Contains("expected auto, cpu, cuda or cuda:N"), Error);
  }
  // Through a config: the same forms, the same error naming the key.
  nlohmann::json c = bts::test::toy_config("bts_test_never_made");
  c["device"] = "cuda:1";
  CHECK(config_from_json(c).device == "cuda:1");
  c["device"] = "gpu1";
  CHECK_THROWS_WITH_AS(config_from_json(c), doctest::Contains("auto, cpu, cuda or cuda:N"), Error);
}

TEST_CASE("choosing a device: the CPU always; a GPU index beyond those present is one error naming them") {
  CHECK(choose_device("cpu") == Device::CPU);
  const DeviceStatus st = probe_devices();
  if (st.cuda_devices == 0) {
    CHECK(choose_device("auto") == Device::CPU);
    CHECK_THROWS_WITH_AS(choose_device("cuda"), doctest::Contains("requested but CPU (no CUDA device"), Error);
    CHECK_THROWS_WITH_AS(choose_device("cuda:1"), doctest::Contains("requested but CPU (no CUDA device"), Error);
  } else {
    const std::string beyond = "cuda:" + std::to_string(st.cuda_devices);
    CHECK_THROWS_WITH_AS(choose_device(beyond), doctest::Contains("this machine has"), Error);
  }
  // The CPU kind has one device: index 1 is refused, naming the range.
  CHECK_THROWS_WITH_AS(select_backend_device(Device::CPU, 1), doctest::Contains("this machine has 1 (cpu:0 .. cpu:0)"),
                       Error);
  select_backend_device(Device::CPU, 0);
  CHECK(selected_device(Device::CPU).index == 0);
}

}  // TEST_SUITE
