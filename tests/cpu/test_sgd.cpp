// SGD with momentum, weight decay and Nesterov against the formulas of torch.optim.SGD, written out by hand.
#include <cmath>

#include "engine/sgd.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("sgd") {

TEST_CASE("three steps match PyTorch's update rule, with and without Nesterov") {
  for (bool nesterov : {false, true}) {
    ParameterStore s(true);
    Parameter* p = s.add("w", {3}, Init::Zeros);
    s.finalize(DType::F64, Device::CPU);
    const double w0[3] = {0.5, -1.0, 2.0};
    for (int i = 0; i < 3; ++i) p->data.data<double>()[i] = w0[i];
    Sgd opt(s, SgdOptions{0.9, 0.01, nesterov});
    double w[3] = {w0[0], w0[1], w0[2]}, buf[3] = {0, 0, 0};
    const double grads[3][3] = {{1, 2, 3}, {-1, 0.5, 0}, {0.25, -2, 1}};
    const double lrs[3] = {0.1, 0.05, 0.01};
    for (int step = 0; step < 3; ++step) {
      s.mark_grads_unwritten();
      for (int i = 0; i < 3; ++i) p->grad.data<double>()[i] = grads[step][i];
      p->grad_written = true;
      opt.step(lrs[step]);
      for (int i = 0; i < 3; ++i) {
        double g = grads[step][i] + 0.01 * w[i];
        buf[i] = step == 0 ? g : 0.9 * buf[i] + g;  // PyTorch initialises the buffer with the first gradient
        w[i] -= lrs[step] * (nesterov ? g + 0.9 * buf[i] : buf[i]);
        CHECK(p->data.data<double>()[i] == doctest::Approx(w[i]).epsilon(1e-14));
      }
    }
  }
}

TEST_CASE("a parameter no backward wrote gets zero gradient (only weight decay moves it)") {
  ParameterStore s(true);
  Parameter* p = s.add("w", {1}, Init::Zeros);
  s.finalize(DType::F32, Device::CPU);
  p->data.fill(1.0);
  p->grad.fill(123.0);  // stale garbage from an earlier step
  s.mark_grads_unwritten();
  Sgd opt(s, SgdOptions{0.0, 0.5, false});
  opt.step(0.1);
  CHECK(p->data.data<float>()[0] == doctest::Approx(1.0 - 0.1 * 0.5));
}

// A recorded step holds step() only; the rate moves through the device word set_lr writes before each replay.
TEST_CASE("the learning rate is read when the step runs: set_lr then step() equals step(lr); bad rates refused") {
  ParameterStore a(true), b(true);
  Parameter* pa = a.add("w", {2}, Init::Zeros);
  Parameter* pb = b.add("w", {2}, Init::Zeros);
  a.finalize(DType::F32, Device::CPU);
  b.finalize(DType::F32, Device::CPU);
  Sgd oa(a, SgdOptions{0.9, 1e-3, false}), ob(b, SgdOptions{0.9, 1e-3, false});
  for (double lr : {0.1, 0.03, 0.0}) {
    for (ParameterStore* s : {&a, &b}) s->mark_grads_unwritten();
    for (Parameter* p : {pa, pb}) {
      p->grad.data<float>()[0] = 1.5f;
      p->grad.data<float>()[1] = -0.25f;
      p->grad_written = true;
    }
    oa.step(lr);
    ob.set_lr(lr);
    ob.step();
    CHECK(pa->data.to_double_vector() == pb->data.to_double_vector());
  }
  CHECK(pa->data.data<float>()[0] != 0.0f);
  for (double bad : {-0.1, std::nan(""), HUGE_VAL})
    CHECK_THROWS_WITH_AS(ob.set_lr(bad), doctest::Contains("learning rate"), Error);
}

TEST_CASE("invalid options are rejected") {
  ParameterStore s(true);
  s.add("w", {1}, Init::Zeros);
  s.finalize(DType::F32, Device::CPU);
  CHECK_THROWS_AS(Sgd(s, SgdOptions{0.0, 1e-4, true}), Error);
  CHECK_THROWS_AS(Sgd(s, SgdOptions{-0.1, 1e-4, false}), Error);
}

}  // TEST_SUITE
