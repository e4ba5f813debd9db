// The strategies the trainer can run. Adding one: a new file in train/strategies/ defining its factory
// (a SamplerFactory) and one line below. Order here is the order `sampler_names()` lists them in.
#include <string>

#include "kernels/common/check.h"
#include "train/strategies/sampler.h"

#define BTS_FOR_EACH_STRATEGY(X)                                                 \
  X("sgd", make_full_sgd)                /* uniform.cpp: full training, B = 1 */ \
  X("scan-sgd", make_scan_sgd)           /* uniform.cpp */                       \
  X("unif-sgd", make_unif_sgd)           /* uniform.cpp */                       \
  X("p-sgd", make_p_sgd)                 /* importance.cpp */                    \
  X("c-sgd", make_c_sgd)                 /* importance.cpp */                    \
  X("sb", make_selective_backprop_order) /* selective_backprop.cpp */            \
  X("osgd", make_ordered_sgd)            /* ordered_sgd.cpp */                   \
  X("core-set", make_coreset)            /* coreset.cpp */                       \
  X("random-subset", make_random_subset) /* uniform.cpp */

namespace bts {

#define BTS_DECLARE_FACTORY(name, factory) SamplerFactory factory;
BTS_FOR_EACH_STRATEGY(BTS_DECLARE_FACTORY)
#undef BTS_DECLARE_FACTORY

namespace {

struct Registration {
  const char* name;
  SamplerFactory* make;
};

#define BTS_REGISTRATION(name, factory) {name, factory},
constexpr Registration kStrategies[] = {BTS_FOR_EACH_STRATEGY(BTS_REGISTRATION)};
#undef BTS_REGISTRATION

const std::string& joined_names() {
  static const std::string names = [] {
    std::string s;
    for (const Registration& r : kStrategies) s += (s.empty() ? "" : ", ") + std::string(r.name);
    return s;
  }();
  return names;
}

}  // namespace

const char* sampler_names() { return joined_names().c_str(); }

bool is_sampler_name(const std::string& method) {
  for (const Registration& r : kStrategies)
    if (method == r.name) return true;
  return false;
}

std::unique_ptr<Sampler> make_sampler(const std::string& method, const SamplerContext& c, std::vector<int32_t> subset) {
  BTS_CHECK(c.budget > 0 && c.budget <= 1, "budget must be in (0, 1], got " << c.budget);
  for (const Registration& r : kStrategies)
    if (method == r.name) return r.make(c, std::move(subset));
  BTS_FAIL("unknown method '" << method << "' (expected one of: " << sampler_names() << ")");
}

}  // namespace bts
