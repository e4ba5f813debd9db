// Checkpoints and tensor files are verified, not trusted: checksums per entry and per file, sizes checked against
// the file before allocating, element counts overflow-checked, regular files only; every restored piece of state
// checked against the run (shapes, ranges, consistency); every failure one line naming the file and the entry.
// And writes that fail (a full disk, /dev/full) are errors that leave nothing half-written behind.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "engine/file_write.h"
#include "engine/tensor_file.h"
#include "tests/common/helpers.h"
#include "tests/common/toy_run.h"
#include "train/config.h"
#include "train/trainer.h"

using namespace bts;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
template <typename T> void put(std::string& s, T v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }

// A hand-made version-1 header with one tensor entry of the given dims (no data), for the size checks.
std::string header_with_dims(const std::vector<int64_t>& dims) {
  std::string s("BTSTENS\0", 8);
  put<uint32_t>(s, 1);
  put<uint32_t>(s, 1);
  put<uint32_t>(s, 1);
  s += "x";
  put<uint32_t>(s, 0);  // f32
  put<uint32_t>(s, static_cast<uint32_t>(dims.size()));
  for (int64_t d : dims) put<int64_t>(s, d);
  return s + std::string(64, '\0');  // some bytes, far fewer than the shape asks for
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_SUITE("checkpoint") {

TEST_CASE("tensor file: a flipped byte anywhere is caught by the checksums, naming the entry") {
  const std::string path = "bts_test_checksum.bin";
  TensorMap m;
  m.emplace("params", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {6}));
  m.emplace("state_json", text_to_tensor("{\"epoch\": 1}"));
  write_tensor_file(path, m);
  const std::string good = read_bytes(path);
  CHECK(read_tensor_file(path).at("params").to_double_vector()[5] == 6.0);
  // Every single-byte flip after the header (the header's own fields have their own checks) is refused.
  int refused = 0;
  for (size_t i = 16; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    write_bytes(path, bad);
    const std::string e = error_of([&] { read_tensor_file(path); });
    refused += e != "(no error)";
    CHECK_MESSAGE(e.find(path) != std::string::npos, "byte " << i << ": " << e);
  }
  CHECK(refused == static_cast<int>(good.size() - 16));
  // A flip in the first entry's data names that entry.
  std::string bad = good;
  bad[good.find("params") + 6 + 4 + 4 + 8 + 2] ^= 0x01;
  write_bytes(path, bad);
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("tensor 'params' is corrupt: checksum"), Error);
  fs::remove(path);
}

TEST_CASE("tensor file: sizes are checked against the file before allocating, and shapes for overflow") {
  const std::string path = "bts_test_sizes.bin";
  // 2^40 floats (4 TiB): refused as truncated, with no attempt to allocate it.
  write_bytes(path, header_with_dims({int64_t(1) << 40}));
  CHECK_THROWS_WITH_AS(read_tensor_file(path, TensorFileChecksums::Optional), doctest::Contains("is truncated: needs"),
                       Error);
  // 2^40 x 2^40 elements: the byte count overflows 64 bits, and is refused as such, not wrapped.
  write_bytes(path, header_with_dims({int64_t(1) << 40, int64_t(1) << 40}));
  CHECK_THROWS_WITH_AS(read_tensor_file(path, TensorFileChecksums::Optional), doctest::Contains("overflows 64 bits"),
                       Error);
  // A tensor count the file cannot hold.
  std::string s("BTSTENS\0", 8);
  put<uint32_t>(s, 2);
  put<uint32_t>(s, 0xFFFFFFFFu);
  write_bytes(path, s + std::string(40, '\0'));
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("claims 4294967295 tensors"), Error);
  // The tensor layer itself refuses such a shape.
  CHECK_THROWS_WITH_AS(shape_numel({int64_t(1) << 40, int64_t(1) << 40}), doctest::Contains("more elements than"),
                       Error);
  fs::remove(path);
}

TEST_CASE("tensor file: regular files only; version 1 only where the caller allows it") {
  CHECK_THROWS_WITH_AS(read_tensor_file("/dev/zero"), doctest::Contains("not a regular file"), Error);
  const std::string link = "bts_test_zero_link.bin";
  fs::remove(link);
  fs::create_symlink("/dev/zero", link);
  CHECK_THROWS_WITH_AS(read_tensor_file(link), doctest::Contains("not a regular file"), Error);
  fs::remove(link);
  CHECK_THROWS_WITH_AS(read_tensor_file("bts_test_no_such_file.bin"), doctest::Contains("No such file"), Error);
  // The golden data is version 1: readable when allowed, refused where bts's own checksummed files are expected.
  const std::string golden = std::string(BTS_GOLDEN_DIR) + "/resnet18_golden.bin";
  CHECK_THROWS_WITH_AS(read_tensor_file(golden), doctest::Contains("without checksums"), Error);
  CHECK(!read_tensor_file(golden, TensorFileChecksums::Optional).empty());
}

TEST_CASE("entries: a missing one, a wrong shape and an impossible value are named") {
  TensorMap m;
  m.emplace("counts", Tensor::from_vector<int32_t>({1, -4, 2}, {3}));
  m.emplace("q", Tensor::from_vector<int64_t>({}, {0}));
  CHECK_THROWS_WITH_AS(tensor_entry(m, "ck.bin", "order"), doctest::Contains("'ck.bin' has no entry 'order'"), Error);
  Tensor counts = Tensor::zeros({3}, DType::I32), wide = Tensor::zeros({4}, DType::I32);
  CHECK_THROWS_WITH_AS(restore_entry(m, "counts", counts, 0.0),
                       doctest::Contains("entry 'counts' holds -4 at index 1"), Error);
  CHECK(counts.to_double_vector() == std::vector<double>{0, 0, 0});  // nothing restored from a bad entry
  CHECK_THROWS_WITH_AS(restore_entry(m, "counts", wide), doctest::Contains("expected i32 [4]"), Error);
  CHECK_THROWS_WITH_AS(tensor_entry(m, "", "q", DType::I64, {1}), doctest::Contains("entry 'q' is i64 [0]"), Error);
  Tensor f = Tensor::from_vector<float>({1, std::numeric_limits<float>::quiet_NaN()}, {2});
  CHECK_THROWS_WITH_AS(check_entry_values(f, "params", -1e308, 1e308), doctest::Contains("expected a finite value"),
                       Error);
}

TEST_CASE("writes: failures are errors, and an unfinished atomic write leaves nothing") {
  CHECK_THROWS_WITH_AS(append_text("/dev/full", "a line\n"), doctest::Contains("cannot append to '/dev/full'"), Error);
  CHECK_THROWS_WITH_AS(write_text_atomic("bts_test_no_such_dir/x.json", "{}"), doctest::Contains("cannot create"),
                       Error);
  TensorMap m;
  m.emplace("a", Tensor::from_vector<float>({1}, {1}));
  CHECK_THROWS_WITH_AS(write_tensor_file("bts_test_no_such_dir/ck.bin", m), doctest::Contains("cannot create"), Error);
  std::string tmp;
  {
    AtomicFile f("bts_test_abandoned.txt");
    f.write("half", 4);
    tmp = f.temporary_path();
    CHECK(fs::exists(tmp));
  }  // destroyed without commit (an exception on the way)
  CHECK_FALSE(fs::exists(tmp));
  CHECK_FALSE(fs::exists("bts_test_abandoned.txt"));
}

TEST_CASE("resume: every corrupted or impossible checkpoint is refused with one line naming the file and entry") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string src = "bts_test_ck_src", d = "bts_test_ck_bad";
  fs::remove_all(src);
  TrainOptions stop;
  stop.quiet = true;
  stop.stop_after_steps = 11;  // epoch 2, iteration 3 of 8: a mid-epoch checkpoint (with its order)
  REQUIRE(train(config_from_json(bts::test::toy_config(src)), stop)["status"] == "interrupted");
  const fs::path ck_src = fs::path(src) / "checkpoint.bin";
  TrainOptions resume;
  resume.quiet = true;
  resume.resume = true;

  // Applies one change to a copy of the checkpoint and resumes it; returns the error.
  auto resume_with = [&](const std::function<void(TensorMap&)>& change) {
    fs::remove_all(d);
    fs::copy(src, d, fs::copy_options::recursive);
    const std::string ck = (fs::path(d) / "checkpoint.bin").string();
    TensorMap m = read_tensor_file(ck);
    change(m);
    write_tensor_file(ck, m);
    return error_of([&] { train(config_from_json(bts::test::toy_config(d)), resume); });
  };
  auto state_change = [&](const std::function<void(json&)>& f) {
    return resume_with([&](TensorMap& m) {
      json st = json::parse(tensor_to_text(m.at("state_json")));
      f(st);
      m.at("state_json") = text_to_tensor(st.dump());
    });
  };
  const std::string file = (fs::path(d) / "checkpoint.bin").string();
  auto expect = [&](const std::string& e, const std::string& what) {
    INFO(e);
    CHECK(e.find("checkpoint '" + file + "'") != std::string::npos);
    CHECK(e.find(what) != std::string::npos);
  };

  // Unchanged, the copy resumes (the checks refuse nothing real).
  CHECK(resume_with([](TensorMap&) {}) == "(no error)");
  expect(state_change([](json& s) { s["iteration_in_epoch"] = 99999; }), "iteration_in_epoch 99999 outside [0, 8]");
  expect(state_change([](json& s) { s["epoch"] = -1; }), "epoch -1 outside [0, 3]");
  expect(state_change([](json& s) { s["counters"]["samples_backward"] = -5; }), "inconsistent counters");
  expect(state_change([](json& s) { s["counters"]["samples_backward"] = 1 << 20; }), "inconsistent counters");
  expect(state_change([](json& s) { s["history"] = json::array(); }), "0 history lines for 1 finished epochs");
  expect(state_change([](json& s) { s["best_test_accuracy"] = 7; }), "test accuracy 7 outside [0, 1]");
  expect(state_change([](json& s) { s.erase("counters"); }), "counters");
  // Types too (a state with valid checksums but forged values): 1.9 was read as epoch 1.
  expect(state_change([](json& s) { s["epoch"] = 1.9; }), "'epoch' is number 1.9, expected a whole number");
  expect(state_change([](json& s) { s["counters"]["iterations"] = "8"; }), "'iterations' is string");
  expect(state_change([](json& s) { s["epoch"] = json::array({json::array({1})}); }),
         "'epoch' is array, expected a whole number");
  expect(state_change([](json& s) { s["history"] = json::array({5}); }), "a 'history' line is not an object");
  expect(state_change([](json& s) { s["phase_ms"] = json::array({1, 2}); }), "'phase_ms' is not an object");
  expect(state_change([](json& s) { s["phase_ms"]["forward"] = "x"; }), "phase_ms 'forward' is not a number");
  expect(state_change([](json& s) { s["last_lr"] = nullptr; }), "'last_lr' is null, expected a number");
  expect(resume_with([](TensorMap& m) { m.erase("order"); }), "no entry 'order'");
  expect(resume_with([](TensorMap& m) {
           int32_t* o = m.at("order").data<int32_t>();
           o[1] = o[0];
         }),
         "presents sample");
  expect(resume_with([](TensorMap& m) { m.at("order").data<int32_t>()[0] = 1 << 30; }), "entry 'order' holds");
  expect(resume_with([](TensorMap& m) { m.at("counts").data<int32_t>()[7] = -1; }), "entry 'counts' holds -1");
  expect(resume_with([](TensorMap& m) { m.at("params").data<float>()[100] = std::nanf(""); }), "entry 'params'");
  expect(resume_with([](TensorMap& m) { m.at("momentum") = Tensor::zeros({3}, DType::F32); }),
         "entry 'momentum' is f32 [3]");
  expect(resume_with([](TensorMap& m) { m.erase("buffers"); }), "no entry 'buffers'");
  expect(resume_with([](TensorMap& m) { m.at("state_json") = text_to_tensor("{\"epoch\": "); }), "not valid JSON");
  // A flipped byte in the file itself: the checksum names the entry.
  fs::remove_all(d);
  fs::copy(src, d, fs::copy_options::recursive);
  std::string bytes = read_bytes(file);
  bytes[bytes.find("params") + 200] ^= 0x04;
  write_bytes(file, bytes);
  const std::string flipped = error_of([&] { train(config_from_json(bts::test::toy_config(d)), resume); });
  INFO(flipped);
  CHECK(flipped.find("tensor 'params' is corrupt: checksum") != std::string::npos);
  // checkpoint.bin pointing at /dev/zero.
  fs::remove(file);
  fs::create_symlink("/dev/zero", file);
  CHECK(error_of([&] { train(config_from_json(bts::test::toy_config(d)), resume); }).find("not a regular file") !=
        std::string::npos);
  fs::remove_all(d);
  fs::remove_all(src);
}

TEST_CASE("resume: ordered SGD's q is checked (empty, or outside [1, b])") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  const std::string d = "bts_test_ck_osgd";
  for (const json& q : {json(-1000000), json(33), json::array()}) {
    fs::remove_all(d);
    json c = bts::test::toy_config(d);
    c["method"] = "osgd";
    TrainOptions stop;
    stop.quiet = true;
    stop.stop_after_steps = 8;  // the end of epoch 1
    REQUIRE(train(config_from_json(c), stop)["status"] == "interrupted");
    const std::string ck = (fs::path(d) / "checkpoint.bin").string();
    TensorMap m = read_tensor_file(ck);
    std::vector<int64_t> v;
    if (!q.empty()) v.push_back(q.get<int64_t>());
    m.at("sampler.q") = Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
    write_tensor_file(ck, m);
    TrainOptions resume;
    resume.quiet = true;
    resume.resume = true;
    const std::string e = error_of([&] { train(config_from_json(c), resume); });
    INFO(e);
    CHECK(e.find("entry 'sampler.q'") != std::string::npos);
    CHECK(e.find(ck) != std::string::npos);
  }
  fs::remove_all(d);
}

}  // TEST_SUITE
