// oneDNN convolutions (conv2d_dnnl.h). One Plan per convolution geometry, chunk size and activation layouts holds
// the three primitives (forward, backward data, backward weights), made once and reused, and the reorders between
// the caller's layouts and the ones the primitives compute in. Weights are always in oneDNN's chosen layout,
// reordered from/to KCRS on each call. Workspaces are
// grow-only, per thread (activations, scratchpads) or per plan (weights), so a training step allocates nothing
// once every shape has been seen.
#include "kernels/cpu/conv2d_dnnl.h"

#ifdef BTS_WITH_DNNL

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// Chunks of the batch, fixed whatever the thread count (see the header). 8 keeps 2..8 cores busy at batch 128
// and bounds the backward filter's partial sums to 8 copies of the weights.
constexpr int64_t kChunks = 8;

int64_t chunk_count(int64_t n) { return std::max<int64_t>(1, std::min(kChunks, n)); }
int64_t chunk_begin(int64_t n, int64_t chunks, int64_t c) { return c * n / chunks; }

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream s(cpu_engine());
  return s;
}

// A grow-only byte buffer of this thread's, one per role, aligned as oneDNN likes (64 bytes).
void* thread_buffer(int role, size_t bytes) {
  thread_local std::vector<float> buffers[5];
  std::vector<float>& b = buffers[role];
  const size_t floats = (bytes + sizeof(float) - 1) / sizeof(float) + 16;
  if (b.size() < floats) b.resize(floats);
  const uintptr_t p = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<void*>((p + 63) & ~uintptr_t(63));
}

// Primitives are made while OpenMP offers one thread, so oneDNN plans them for one thread: they then run whole
// inside our per-chunk parallel loop (oneDNN runs nested calls on one thread; a primitive planned for more
// threads would skip the other threads' share of the work there).
class OneThreadScope {
 public:
  OneThreadScope() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThreadScope() { omp_set_num_threads(saved_); }
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  int saved_;
};

// A reorder between two layouts, absent when they are the same; with_sum adds into the destination.
struct Reorder {
  bool needed = false;
  dnnl::reorder prim;
  void make(const memory::desc& from, const memory::desc& to, bool with_sum = false) {
    needed = with_sum || from != to;
    if (!needed) return;
    dnnl::primitive_attr attr;
    if (with_sum) {
      dnnl::post_ops ops;
      ops.append_sum(1.f);
      attr.set_post_ops(ops);
    }
    prim = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to, attr));
  }
  // Without a reorder the layouts match: a copy (nothing when both are the same memory).
  void run(const memory& from, const memory& to) const {
    if (needed) {
      prim.execute(thread_stream(), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    } else if (from.get_data_handle() != to.get_data_handle()) {
      std::memcpy(to.get_data_handle(), from.get_data_handle(), from.get_desc().get_size());
    }
  }
};

struct Plan {
  memory::desc user_src, user_wei, user_dst;  // NCHW / KCRS / NCHW with this plan's chunk of images
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_filter_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_filter;
  Reorder src_to_fwd, wei_to_fwd, dst_from_fwd;
  Reorder dy_to_bwd_data, wei_to_bwd_data, dx_from_bwd_data, dx_from_bwd_data_add;
  Reorder src_to_bwd_filter, dy_to_bwd_filter, dw_chunk_to_user, dw_chunk_to_user_add, dw_from_bwd_filter,
      dw_from_bwd_filter_add;
  std::vector<float> wei_fwd, wei_bwd_data;  // this call's weights in each primitive's layout (grow-only)
  std::vector<float> src_whole;  // the whole input in the backward filter's layout, for the output-channel split
};

memory::desc plain(memory::dims dims, Tag tag) { return memory::desc(dims, memory::data_type::f32, tag); }

Tag tag_of(DnnlAct a) { return a == DnnlAct::nhwc ? Tag::nhwc : a == DnnlAct::blocked16 ? Tag::nChw16c : Tag::nchw; }

std::unique_ptr<Plan> make_plan(const ConvShape& s, int64_t mb, DnnlLayouts l) {
  auto p = std::make_unique<Plan>();
  const memory::dims src{mb, s.C, s.H, s.W}, wei{s.K, s.C, s.R, s.S}, dst{mb, s.K, s.P(), s.Q()};
  const memory::dims strides{s.stride, s.stride}, pad{s.pad, s.pad};
  p->user_src = plain(src, tag_of(l.x));
  p->user_wei = plain(wei, Tag::oihw);
  p->user_dst = plain(dst, tag_of(l.y));
  // What the primitives compute in: with a blocked side, oneDNN's choice ("any": nChw16c on AVX-512, so no reorder
  // for that side); else with a channels-last side, channels last on both (oneDNN has no fast kernel mixing NCHW
  // and NHWC, e.g. for the stem's NCHW input); else oneDNN's choice, with reorders from and to NCHW.
  const bool blocked = l.x == DnnlAct::blocked16 || l.y == DnnlAct::blocked16;
  const bool channels_last = !blocked && (l.x == DnnlAct::nhwc || l.y == DnnlAct::nhwc);
  const Tag act = channels_last ? Tag::nhwc : Tag::any;
  const memory::desc any_src = plain(src, act), any_wei = plain(wei, Tag::any), any_dst = plain(dst, act);
  {
    OneThreadScope one_thread;  // everything that runs inside the per-chunk loop
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // each thread brings its own
    const auto algo = dnnl::algorithm::convolution_direct;  // never Winograd: its fp32 transform error is larger
    auto& eng = cpu_engine();
    p->fwd_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, any_src, any_wei, any_dst, strides,
                                        pad, pad),
        attr, eng);
    p->bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(algo, any_src, any_wei, any_dst, strides, pad, pad), attr, eng,
        p->fwd_pd);
    p->bwd_filter_pd = dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(algo, any_src, any_wei, any_dst, strides, pad, pad), attr, eng,
        p->fwd_pd);
    p->fwd = dnnl::convolution_forward(p->fwd_pd);
    p->bwd_data = dnnl::convolution_backward_data(p->bwd_data_pd);
    p->bwd_filter = dnnl::convolution_backward_weights(p->bwd_filter_pd);
    p->src_to_fwd.make(p->user_src, p->fwd_pd.src_desc());
    p->dst_from_fwd.make(p->fwd_pd.dst_desc(), p->user_dst);
    p->dy_to_bwd_data.make(p->user_dst, p->bwd_data_pd.diff_dst_desc());
    p->dx_from_bwd_data.make(p->bwd_data_pd.diff_src_desc(), p->user_src);
    p->dx_from_bwd_data_add.make(p->bwd_data_pd.diff_src_desc(), p->user_src, true);
    p->src_to_bwd_filter.make(p->user_src, p->bwd_filter_pd.src_desc());
    p->dy_to_bwd_filter.make(p->user_dst, p->bwd_filter_pd.diff_dst_desc());
    p->dw_chunk_to_user.make(p->bwd_filter_pd.diff_weights_desc(), p->user_wei);
    p->dw_chunk_to_user_add.make(p->bwd_filter_pd.diff_weights_desc(), p->user_wei, true);
  }
  // The weights' reorders run once per call outside the per-chunk loop, on all threads (a reorder moves values,
  // it sums nothing, so the thread count cannot change its result).
  p->wei_to_fwd.make(p->user_wei, p->fwd_pd.weights_desc());
  p->wei_to_bwd_data.make(p->user_wei, p->bwd_data_pd.weights_desc());
  p->dw_from_bwd_filter.make(p->bwd_filter_pd.diff_weights_desc(), p->user_wei);
  p->dw_from_bwd_filter_add.make(p->bwd_filter_pd.diff_weights_desc(), p->user_wei, true);
  return p;
}

// The plan for this geometry and layouts with a chunk of mb images, made on first use. Plans live as long as the
// process.
Plan& plan_for(const ConvShape& s, int64_t mb, DnnlLayouts l) {
  static std::mutex mu;
  static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>,
                  std::unique_ptr<Plan>>
      plans;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = plans[{mb, s.C, s.H, s.W, s.K, s.R, s.S, s.stride, s.pad, int(l.x) * 3 + int(l.y)}];
  if (!slot) slot = make_plan(s, mb, l);
  return *slot;
}

// The plans for every chunk of this batch (at most two chunk sizes: n / chunks rounded down and up).
struct Chunking {
  int64_t chunks;
  std::vector<Plan*> plan;  // per chunk
  Chunking(const ConvShape& s, DnnlLayouts l) : chunks(chunk_count(s.N)) {
    for (int64_t c = 0; c < chunks; ++c)
      plan.push_back(&plan_for(s, chunk_begin(s.N, chunks, c + 1) - chunk_begin(s.N, chunks, c), l));
  }
  // Each distinct plan once, for per-call work such as reordering the weights.
  std::vector<Plan*> distinct() const {
    std::vector<Plan*> d;
    for (Plan* p : plan)
      if (std::find(d.begin(), d.end(), p) == d.end()) d.push_back(p);
    return d;
  }
  // This call's weights for each chunk, in the layout its plan wants: prepare(plan, w) once per distinct plan.
  template <typename F>
  std::vector<void*> weights_for_each_chunk(const float* w, F prepare) const {
    std::vector<void*> wei(plan.size());
    for (Plan* p : distinct()) {
      void* wp = prepare(*p, w);
      for (size_t c = 0; c < plan.size(); ++c)
        if (plan[c] == p) wei[c] = wp;
    }
    return wei;
  }
};

// The weights in the layout `to` wants, in `buffer`; the user's own pointer when no reorder is needed.
void* weights_as(const Reorder& to, const memory::desc& user, const memory::desc& want, const float* w,
                 std::vector<float>& buffer) {
  if (!to.needed) return const_cast<float*>(w);
  const size_t floats = want.get_size() / sizeof(float) + 1;
  if (buffer.size() < floats) buffer.resize(floats);
  to.run(memory(user, cpu_engine(), const_cast<float*>(w)), memory(want, cpu_engine(), buffer.data()));
  return buffer.data();
}

// `user` data as memory of layout `want`: the user's memory itself, or a reorder of it into this thread's buffer.
memory as_layout(const Reorder& to, const memory::desc& user, const memory::desc& want, const float* data, int role) {
  memory u(user, cpu_engine(), const_cast<float*>(data));
  if (!to.needed) return u;
  memory m(want, cpu_engine(), thread_buffer(role, want.get_size()));
  to.run(u, m);
  return m;
}

// dst[i] += src[i]
BTS_VECTOR_CLONES void add_floats(const float* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

memory scratchpad(const memory::desc& d) { return memory(d, cpu_engine(), thread_buffer(3, d.get_size())); }

}  // namespace

bool dnnl_available() { return true; }

bool dnnl_blocked16_native() {
  static const bool native = [] {
    try {
      // A typical ResNet convolution with layouts left to oneDNN: does it pick 16-channel blocks for the output?
      const memory::dims src{16, 64, 14, 14}, wei{64, 64, 3, 3}, strides{1, 1}, pad{1, 1};
      const dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          plain(src, Tag::any), plain(wei, Tag::any), plain(src, Tag::any), strides,
                                          pad, pad),
          cpu_engine());
      return pd.dst_desc() == plain(src, Tag::nChw16c) && pd.src_desc() == plain(src, Tag::nChw16c);
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return native;
}

void conv2d_forward_dnnl(const ConvShape& s, DnnlLayouts l, const float* x, const float* w, float* y) {
  const Chunking ch(s, l);
  const std::vector<void*> wei = ch.weights_for_each_chunk(w, [](Plan& p, const float* wt) {
    return weights_as(p.wei_to_fwd, p.user_wei, p.fwd_pd.weights_desc(), wt, p.wei_fwd);
  });
  const int64_t in_sz = s.C * s.H * s.W, out_sz = s.K * s.P() * s.Q();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < ch.chunks; ++c) {
    const Plan& p = *ch.plan[c];
    const int64_t n0 = chunk_begin(s.N, ch.chunks, c);
    memory src = as_layout(p.src_to_fwd, p.user_src, p.fwd_pd.src_desc(), x + n0 * in_sz, 0);
    memory user_dst(p.user_dst, cpu_engine(), y + n0 * out_sz);
    memory dst = p.dst_from_fwd.needed ? memory(p.fwd_pd.dst_desc(), cpu_engine(),
                                                thread_buffer(1, p.fwd_pd.dst_desc().get_size()))
                                       : user_dst;
    p.fwd.execute(thread_stream(), {{DNNL_ARG_SRC, src},
                                    {DNNL_ARG_WEIGHTS, memory(p.fwd_pd.weights_desc(), cpu_engine(), wei[c])},
                                    {DNNL_ARG_DST, dst},
                                    {DNNL_ARG_SCRATCHPAD, scratchpad(p.fwd_pd.scratchpad_desc())}});
    if (p.dst_from_fwd.needed) p.dst_from_fwd.run(dst, user_dst);
    thread_stream().wait();
  }
}

void conv2d_backward_data_dnnl(const ConvShape& s, DnnlLayouts l, const float* dy, const float* w, float* dx,
                               bool accumulate) {
  const Chunking ch(s, l);
  const std::vector<void*> wei = ch.weights_for_each_chunk(w, [](Plan& p, const float* wt) {
    return weights_as(p.wei_to_bwd_data, p.user_wei, p.bwd_data_pd.weights_desc(), wt, p.wei_bwd_data);
  });
  const int64_t in_sz = s.C * s.H * s.W, out_sz = s.K * s.P() * s.Q();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < ch.chunks; ++c) {
    const Plan& p = *ch.plan[c];
    const int64_t n0 = chunk_begin(s.N, ch.chunks, c);
    memory ddst = as_layout(p.dy_to_bwd_data, p.user_dst, p.bwd_data_pd.diff_dst_desc(), dy + n0 * out_sz, 0);
    memory user_dsrc(p.user_src, cpu_engine(), dx + n0 * in_sz);
    const Reorder& back = accumulate ? p.dx_from_bwd_data_add : p.dx_from_bwd_data;
    const memory::desc& want = p.bwd_data_pd.diff_src_desc();
    memory dsrc = back.needed ? memory(want, cpu_engine(), thread_buffer(1, want.get_size())) : user_dsrc;
    p.bwd_data.execute(thread_stream(),
                       {{DNNL_ARG_DIFF_DST, ddst},
                        {DNNL_ARG_WEIGHTS, memory(p.bwd_data_pd.weights_desc(), cpu_engine(), wei[c])},
                        {DNNL_ARG_DIFF_SRC, dsrc},
                        {DNNL_ARG_SCRATCHPAD, scratchpad(p.bwd_data_pd.scratchpad_desc())}});
    thread_stream().wait();
    if (accumulate && !p.dx_from_bwd_data.needed) {
      // Same layout: a vectorised add beats oneDNN's generic reorder-with-sum (the same sums, one rounding each).
      add_floats(static_cast<const float*>(dsrc.get_data_handle()), want.get_size() / sizeof(float),
                 dx + n0 * in_sz);
    } else if (back.needed) {
      back.run(dsrc, user_dsrc);
      thread_stream().wait();
    }
  }
}

namespace {

// Slices of the output channels for the backward filter, each a multiple of 16 channels, fixed in number.
constexpr int64_t kOutputSlices = 8;
int64_t output_slices(const ConvShape& s) {
  int64_t k = std::min<int64_t>(kOutputSlices, s.K / 16);
  while (k > 1 && s.K % (16 * k) != 0) --k;
  return k;
}

// Whether to split the backward filter by output channels rather than by images. Split by images, every chunk
// writes a whole partial weight gradient that is then read back and added (2 x chunks x weights of traffic); split
// by output channels, each slice reads the whole input once and a copy of its slice of dy (no partial sums). Deep
// layers (large weights, small images) take the second. Only for nChw16c gradients, whose 16-channel blocks make
// a slice one contiguous run per image.
bool split_by_output_channels(const ConvShape& s, DnnlLayouts l) {
  const int64_t slices = output_slices(s);
  if (l.y != DnnlAct::blocked16 || slices < 2) return false;
  const double weights = double(s.K) * s.C * s.R * s.S, input = double(s.N) * s.C * s.H * s.W,
               output = double(s.N) * s.K * s.P() * s.Q();
  return double(slices - 1) * input + 2 * output < 2.0 * double(chunk_count(s.N)) * weights;
}

void backward_filter_by_output_channels(const ConvShape& s, DnnlLayouts l, const float* x, const float* dy, float* dw,
                                        bool accumulate) {
  const int64_t slices = output_slices(s), ks = s.K / slices, PQ = s.P() * s.Q();
  ConvShape slice = s;
  slice.K = ks;
  Plan& p = plan_for(slice, s.N, l);  // the whole batch, ks output channels
  const int64_t blocks = s.K / 16, slice_blocks = ks / 16, wsz = ks * s.C * s.R * s.S;
  // Every slice reads the whole input: reordered (where its layout is not the primitive's) once, before the slices.
  const memory::desc& src_want = p.bwd_filter_pd.src_desc();
  const float* src_data = x;
  if (p.src_to_bwd_filter.needed) {
    const size_t floats = src_want.get_size() / sizeof(float) + 1;
    if (p.src_whole.size() < floats) p.src_whole.resize(floats);
    p.src_to_bwd_filter.run(memory(p.user_src, cpu_engine(), const_cast<float*>(x)),
                            memory(src_want, cpu_engine(), p.src_whole.data()));
    thread_stream().wait();
    src_data = p.src_whole.data();
  }
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < slices; ++j) {
    // This slice's channels of dy, image after image: one contiguous run per image in nChw16c.
    float* part = static_cast<float*>(thread_buffer(4, sizeof(float) * static_cast<size_t>(s.N * ks * PQ)));
    for (int64_t n = 0; n < s.N; ++n)
      std::memcpy(part + n * ks * PQ, dy + (n * blocks + j * slice_blocks) * PQ * 16, sizeof(float) * ks * PQ);
    memory src(src_want, cpu_engine(), const_cast<float*>(src_data));
    memory ddst = as_layout(p.dy_to_bwd_filter, p.user_dst, p.bwd_filter_pd.diff_dst_desc(), part, 1);
    const memory::desc& got = p.bwd_filter_pd.diff_weights_desc();
    memory dwei(got, cpu_engine(), thread_buffer(2, got.get_size()));
    p.bwd_filter.execute(thread_stream(), {{DNNL_ARG_SRC, src},
                                           {DNNL_ARG_DIFF_DST, ddst},
                                           {DNNL_ARG_DIFF_WEIGHTS, dwei},
                                           {DNNL_ARG_SCRATCHPAD, scratchpad(p.bwd_filter_pd.scratchpad_desc())}});
    thread_stream().wait();
    (accumulate ? p.dw_chunk_to_user_add : p.dw_chunk_to_user).run(dwei, memory(p.user_wei, cpu_engine(), dw + j * wsz));
    thread_stream().wait();
  }
}

}  // namespace

void conv2d_backward_filter_dnnl(const ConvShape& s, DnnlLayouts l, const float* x, const float* dy, float* dw,
                                 bool accumulate) {
  if (split_by_output_channels(s, l)) return backward_filter_by_output_channels(s, l, x, dy, dw, accumulate);
  const Chunking ch(s, l);
  const std::vector<Plan*> plans = ch.distinct();
  // Partial sums are added in oneDNN's layout when every chunk's plan has the same one, else in KCRS.
  bool same_layout = true;
  for (Plan* p : plans) same_layout = same_layout && p->bwd_filter_pd.diff_weights_desc() == plans[0]->bwd_filter_pd.diff_weights_desc();
  const memory::desc sum_desc = same_layout ? plans[0]->bwd_filter_pd.diff_weights_desc() : plans[0]->user_wei;
  const size_t part = (sum_desc.get_size() / sizeof(float) + 15) / 16 * 16;  // 64-byte aligned partials
  static std::vector<float> partials;  // grow-only; callers run one convolution at a time
  if (partials.size() < part * static_cast<size_t>(ch.chunks) + 16) partials.resize(part * ch.chunks + 16);
  float* base = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(partials.data()) + 63) & ~uintptr_t(63));
  const int64_t in_sz = s.C * s.H * s.W, out_sz = s.K * s.P() * s.Q();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < ch.chunks; ++c) {
    const Plan& p = *ch.plan[c];
    const int64_t n0 = chunk_begin(s.N, ch.chunks, c);
    memory src = as_layout(p.src_to_bwd_filter, p.user_src, p.bwd_filter_pd.src_desc(), x + n0 * in_sz, 0);
    memory ddst = as_layout(p.dy_to_bwd_filter, p.user_dst, p.bwd_filter_pd.diff_dst_desc(), dy + n0 * out_sz, 1);
    float* mine = base + part * c;
    const memory::desc& got = p.bwd_filter_pd.diff_weights_desc();
    memory dwei(got, cpu_engine(), same_layout ? static_cast<void*>(mine) : thread_buffer(2, got.get_size()));
    p.bwd_filter.execute(thread_stream(), {{DNNL_ARG_SRC, src},
                                           {DNNL_ARG_DIFF_DST, ddst},
                                           {DNNL_ARG_DIFF_WEIGHTS, dwei},
                                           {DNNL_ARG_SCRATCHPAD, scratchpad(p.bwd_filter_pd.scratchpad_desc())}});
    if (!same_layout) p.dw_chunk_to_user.run(dwei, memory(p.user_wei, cpu_engine(), mine));
    thread_stream().wait();
  }
  // Each element adds its partials in chunk order: the same sums on 1 thread or 16.
  const int64_t n = static_cast<int64_t>(sum_desc.get_size() / sizeof(float));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 1; c < ch.chunks; ++c) base[i] += base[part * c + i];
  memory total(sum_desc, cpu_engine(), base), user(plans[0]->user_wei, cpu_engine(), dw);
  if (same_layout) {
    (accumulate ? plans[0]->dw_from_bwd_filter_add : plans[0]->dw_from_bwd_filter).run(total, user);
  } else if (accumulate) {
    for (int64_t i = 0; i < s.K * s.C * s.R * s.S; ++i) dw[i] += base[i];
  } else {
    std::memcpy(dw, base, sizeof(float) * static_cast<size_t>(s.K * s.C * s.R * s.S));
  }
  thread_stream().wait();
}

}  // namespace bts::kernels::cpu

#else  // !BTS_WITH_DNNL

#include <cstdlib>

namespace bts::kernels::cpu {
bool dnnl_available() { return false; }
bool dnnl_blocked16_native() { return false; }
void conv2d_forward_dnnl(const ConvShape&, DnnlLayouts, const float*, const float*, float*) { std::abort(); }
void conv2d_backward_data_dnnl(const ConvShape&, DnnlLayouts, const float*, const float*, float*, bool) {
  std::abort();
}
void conv2d_backward_filter_dnnl(const ConvShape&, DnnlLayouts, const float*, const float*, float*, bool) {
  std::abort();
}
}  // namespace bts::kernels::cpu

#endif
