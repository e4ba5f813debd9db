// Tensors, the arena, parameter stores, the tape's bookkeeping, and the tensor file format.
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/ops.h"
#include "engine/tensor_file.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("tensor") {

TEST_CASE("tensor basics: shape, clone, view, reshape, fill, errors") {
  Tensor t = Tensor::zeros({2, 3}, DType::F32);
  CHECK(t.numel() == 6);
  CHECK(t.bytes() == 24);
  CHECK(t.owns());
  t.fill(2.5);
  Tensor c = t.clone();
  c.data<float>()[0] = 1;
  CHECK(t.data<float>()[0] == 2.5f);  // clone is deep
  Tensor v = t.view();
  v.data<float>()[1] = 7;
  CHECK(t.data<float>()[1] == 7.0f);  // view aliases
  CHECK_FALSE(v.owns());
  CHECK(t.reshaped({3, 2}).dim(0) == 3);
  CHECK_THROWS_AS(t.reshaped({4, 2}), Error);
  CHECK_THROWS_AS(t.data<double>(), Error);  // wrong dtype access
  CHECK_THROWS_AS(t.dim(2), Error);
  CHECK_THROWS_AS(Tensor::empty({2, -1}, DType::F32), Error);
  Tensor d = Tensor::empty({2}, DType::F64);
  CHECK_THROWS_AS(d.copy_from(t), Error);  // numel/dtype mismatch
}

TEST_CASE("a CUDA tensor without a CUDA backend or device fails with a clear error, not a crash") {
  // Which case applies is a fact of this build and machine, asked through the backend seam, not an #ifdef.
  if (!backend_linked(Device::CUDA)) {
    CHECK_THROWS_WITH_AS(Tensor::empty({4}, DType::F32, Device::CUDA), doctest::Contains("no cuda backend"), Error);
  } else if (probe_backend(Device::CUDA).devices == 0) {
    // CUDA built but no device: cudaMalloc fails and the check throws with CUDA's error string.
    CHECK_THROWS_WITH_AS(Tensor::empty({4}, DType::F32, Device::CUDA), doctest::Contains("CUDA"), Error);
  } else {
    CHECK(Tensor::empty({4}, DType::F32, Device::CUDA).device() == Device::CUDA);
  }
}

TEST_CASE("arena: steady-state steps reuse the same addresses and never grow") {
  Arena a(Device::CPU);
  std::vector<void*> first;
  for (int step = 0; step < 4; ++step) {
    a.reset();
    std::vector<void*> ptrs;
    for (size_t sz : {1000u, 5000000u, 17u, 300000u}) ptrs.push_back(a.allocate(sz));
    for (void* p : ptrs) CHECK(reinterpret_cast<uintptr_t>(p) % Arena::kAlign == 0);
    if (step == 1) first = ptrs;
    if (step >= 2) {
      CHECK(ptrs == first);
    }
  }
  const size_t growths = a.growth_count();
  a.reset();
  a.allocate(1000);
  CHECK(a.growth_count() == growths);
}

TEST_CASE("parameter store: flat layout, names, unwritten gradients are zeroed before use") {
  ParameterStore s(true);
  Parameter* w = s.add("w", {3, 2}, Init::Ones);
  Parameter* b = s.add("b", {5}, Init::Zeros);
  CHECK_THROWS_AS(s.add("w", {1}, Init::Zeros), Error);
  s.finalize(DType::F32, Device::CPU);
  CHECK_THROWS_AS(s.add("late", {1}, Init::Zeros), Error);
  CHECK(s.numel() >= 11);
  CHECK(static_cast<char*>(b->data.raw()) - static_cast<char*>(s.flat_data().raw()) ==
        static_cast<ptrdiff_t>(b->offset * 4));
  CHECK(&s.at("b") == b);
  CHECK_THROWS_AS(s.at("nope"), Error);
  w->grad.fill(3.0);
  w->grad_written = true;
  b->grad.fill(9.0);  // stale
  s.zero_unwritten_grads();
  CHECK(w->grad.data<float>()[0] == 3.0f);
  CHECK(b->grad.data<float>()[0] == 0.0f);
}

TEST_CASE("tape: no-grad mode records nothing; backward accumulates when a value is used twice") {
  Tape t(Device::CPU);
  Tensor x = Tensor::from_vector<double>({1, -2, 3}, {3});
  {
    NoGradGuard ng(t);
    Var v = t.leaf(x, true);
    Var y = relu(t, add(t, v, v));
    CHECK_FALSE(y.requires_grad());
    CHECK(t.num_recorded() == 0);
  }
  Var v = t.leaf(x, true);
  Var y = add(t, v, v);
  t.backward(y, Tensor::from_vector<double>({1, 1, 1}, {3}));
  CHECK(t.grad(v).to_double_vector() == std::vector<double>{2, 2, 2});
  t.clear();
  CHECK(t.num_recorded() == 0);
}

TEST_CASE("tensor file: round trip, and malformed files are rejected with a clear message") {
  const std::string path = "bts_test_tensor_file.bin";
  TensorMap m;
  m.emplace("a", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  m.emplace("labels", Tensor::from_vector<int64_t>({7, 8}, {2}));
  write_tensor_file(path, m);
  TensorMap r = read_tensor_file(path);
  REQUIRE(r.size() == 2);
  CHECK(r.at("a").shape() == Shape{2, 3});
  CHECK(r.at("a").to_double_vector()[5] == 6.0);
  CHECK(r.at("labels").dtype() == DType::I64);

  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  auto write = [&](const std::string& content) {
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    o << content;
  };
  write(bytes.substr(0, bytes.size() - 3));
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("truncated"), Error);
  std::string bad = bytes;
  bad[0] = 'X';
  write(bad);
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("bad magic"), Error);
  bad = bytes;
  bad[8] = 9;  // version
  write(bad);
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("version"), Error);
  write(bytes + "xx");
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("trailing"), Error);
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains("cannot open"), Error);
}

}  // TEST_SUITE
