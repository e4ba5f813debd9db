#include "engine/backend.h"

#include <array>

#include "engine/cpu/cpu_backend.h"
#include "engine/tensor.h"
#include "kernels/common/check.h"

namespace bts {

namespace {

constexpr size_t kDevices = 2;  // Device::CPU, Device::CUDA

struct Slot {
  BackendRegistration registration;
  int selected = 0;       // the device index the backend runs on
  bool chosen = false;    // select_backend_device was called
  Backend* instance = nullptr;  // created on first use and never destroyed: buffers freed during static
                                // destruction still find their backend
};

std::array<Slot, kDevices>& slots() {
  static std::array<Slot, kDevices> s = [] {
    std::array<Slot, kDevices> init{};
    init[static_cast<size_t>(Device::CPU)].registration = cpu_backend_registration();
    return init;
  }();
  return s;
}

Slot& slot(Device d) {
  const auto i = static_cast<size_t>(d);
  BTS_CHECK(i < kDevices, "unknown device " << static_cast<int>(i));
  return slots()[i];
}

}  // namespace

void Backend::begin_capture() {
  BTS_FAIL("the " << device_name(device()) << " backend records no graphs (supports_graphs() is false)");
}
GraphHandle Backend::end_capture() {
  BTS_FAIL("the " << device_name(device()) << " backend records no graphs (supports_graphs() is false)");
}
void Backend::replay(GraphHandle) {
  BTS_FAIL("the " << device_name(device()) << " backend records no graphs (supports_graphs() is false)");
}

bool register_backend(Device device, BackendRegistration registration) {
  BTS_CHECK(registration.probe && registration.create, "backend registration for " << device_name(device)
                                                                                    << " lacks a probe or factory");
  slot(device).registration = registration;
  return true;
}

bool backend_linked(Device device) { return slot(device).registration.create != nullptr; }

void Backend::batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                           double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                           Tensor& running_mean, Tensor& running_var, Arena& scratch) {
  Tensor bn = Tensor::empty_in(scratch, x.shape(), x.dtype(), x.layout());
  batchnorm_forward_train(x, gamma, beta, eps, momentum, bn, save_mean, save_invstd, running_mean, running_var,
                          scratch);
  relu_forward(bn, y);
}

void Backend::batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                      const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                      GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  Tensor g = Tensor::empty_in(scratch, y.shape(), y.dtype(), y.layout());
  relu_backward(y, dy, GradTarget{g.raw(), false, g.layout()});
  batchnorm_backward(x, g, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

void Backend::batchnorm_add_relu_forward_train(const Tensor& x, const Tensor& z, const Tensor& gamma,
                                               const Tensor& beta, double eps, double momentum, Tensor& y,
                                               Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                                               Tensor& running_var, Arena& scratch) {
  Tensor bn = Tensor::empty_in(scratch, x.shape(), x.dtype(), x.layout());
  batchnorm_forward_train(x, gamma, beta, eps, momentum, bn, save_mean, save_invstd, running_mean, running_var,
                          scratch);
  add_relu_forward(bn, z, y);
}

void Backend::batchnorm_add_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                          const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                          GradTarget dz, GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  Tensor g = Tensor::empty_in(scratch, y.shape(), y.dtype(), y.layout());
  add_relu_backward(y, dy, GradTarget{g.raw(), false, g.layout()}, dz, scratch);
  batchnorm_backward(x, g, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

void Backend::add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  add_forward(a, b, y);
  relu_forward(y, y);  // element by element: in place is safe
}

void Backend::add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db, Arena& scratch) {
  Tensor g = Tensor::empty_in(scratch, y.shape(), y.dtype(), y.layout());
  relu_backward(y, dy, GradTarget{g.raw(), false, g.layout()});
  if (da) copy_grad(g, da);
  if (db) copy_grad(g, db);
}

BackendProbe probe_backend(Device device) {
  const Slot& s = slot(device);
  if (!s.registration.probe) return {0, std::string("this build has no ") + device_name(device) + " backend"};
  return s.registration.probe();
}

void select_backend_device(Device device, int index) {
  Slot& s = slot(device);
  const BackendProbe p = probe_backend(device);
  BTS_CHECK(index >= 0 && index < p.devices,
            "device '" << device_name(device) << ":" << index << "' requested, but "
                       << (p.devices == 0 ? "there is no " + std::string(device_name(device)) + " device (" +
                                                p.description + ")"
                                          : "this machine has " + std::to_string(p.devices) + " (" +
                                                device_name(device) + ":0 .. " + device_name(device) + ":" +
                                                std::to_string(p.devices - 1) + ")"));
  if (s.chosen || s.instance) {
    BTS_CHECK(s.selected == index, "device " << device_name(device) << ":" << s.selected
                                             << " is already in use by this process; cannot switch to "
                                             << device_name(device) << ":" << index);
    return;
  }
  std::string why;
  BTS_CHECK(!s.registration.select || s.registration.select(index, &why),
            "cannot select " << device_name(device) << ":" << index << ": " << why);
  s.selected = index;
  s.chosen = true;
}

DeviceIdentity selected_device(Device device) {
  const Slot& s = slot(device);
  if (s.registration.identify) return s.registration.identify(s.selected);
  return DeviceIdentity{s.selected, device_name(device), ""};
}

Backend& backend(Device device) {
  Slot& s = slot(device);
  if (!s.instance) {
    BTS_CHECK(s.registration.create, "this build has no " << device_name(device) << " backend (the "
                                                          << device_name(device)
                                                          << " backend library is not linked; for CUDA, configure "
                                                             "where nvcc is found)");
    s.instance = s.registration.create();
  }
  return *s.instance;
}

}  // namespace bts
