#include "engine/cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include "engine/steady_state.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device.h"

namespace bts {

namespace {

cudaStream_t current_stream() { return kernels::cuda::current_context().stream(); }

BackendProbe probe_cuda() {
  BackendProbe p;
  std::string why;
  p.devices = cuda::device_count(&why);
  p.description = p.devices > 0 ? cuda::device_description(0) : why;
  return p;
}

// The registration: this library's static initialiser tells the engine that a CUDA backend is linked. The
// executables link this library whole (CMake: bts_backends), so the initialiser is never dropped by the linker.
DeviceIdentity identify_cuda(int index) {
  return DeviceIdentity{index, cuda::device_description(index), cuda::device_uuid(index)};
}

const bool kRegistered = register_backend(
    Device::CUDA, BackendRegistration{probe_cuda, []() -> Backend* { return new CudaBackend(); }, identify_cuda,
                                      cuda::select_device});

}  // namespace

void* CudaBackend::allocate(size_t bytes) {
  void* p = nullptr;
  BTS_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void CudaBackend::release(void* p) noexcept {
  // Kernels or a replayed step graph queued on the stream may still use the block (an arena's chunks folded into
  // one after a bigger step): wait for them first, since cudaFree only "may" synchronise. Frees happen while
  // warming up and at the end, never in a steady step. Not while capturing (a wait would break the capture). The
  // whole device, not the context's stream: a free may come at exit, after the thread's context is gone.
  // A destructor's path must not throw; a failed free leaves nothing to recover. A block released during a
  // capture (no recorded step releases one today) waits for the capture's end: cudaFree then would invalidate it.
  if (detail::stream_capture_active()) {
    try {
      freed_in_capture_.push_back(p);
    } catch (...) {  // out of host memory: the block leaks rather than break the capture
    }
    return;
  }
  cudaDeviceSynchronize();
  cudaFree(p);
}

void CudaBackend::free_deferred() noexcept {
  if (freed_in_capture_.empty()) return;
  cudaDeviceSynchronize();
  for (void* p : freed_in_capture_) cudaFree(p);
  freed_in_capture_.clear();
}

void CudaBackend::copy(void* dst, const void* src, size_t bytes, bool touches_host) {
  // On the context's stream, in order with the kernels queued before it. When host memory is involved, wait:
  // the caller may read or free it right after (the only host synchronisation copies ever cause).
  if (touches_host) steady_state::note_host_wait("a copy to or from host memory (the stream is waited for)");
  const cudaStream_t s = current_stream();
  BTS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s));
  if (touches_host) BTS_CUDA_CHECK(cudaStreamSynchronize(s));
}

void CudaBackend::fill(void* dst, int byte_value, size_t bytes) {
  BTS_CUDA_CHECK(cudaMemsetAsync(dst, byte_value, bytes, current_stream()));
}

StreamHandle CudaBackend::stream() { return current_stream(); }

// Capture: kernels, library calls, copies and memsets queued on the context stream become the graph's nodes. The
// sync check (BTS_CUDA_SYNC_CHECK) would synchronise inside the capture, which CUDA forbids: it is skipped while
// one is in progress (kernels/cuda/cuda_check.h).
void CudaBackend::begin_capture() {
  BTS_CUDA_CHECK(cudaStreamBeginCapture(current_stream(), cudaStreamCaptureModeThreadLocal));
  detail::stream_capture_active() = true;
}

GraphHandle CudaBackend::end_capture() {
  detail::stream_capture_active() = false;
  cudaGraph_t graph = nullptr;
  BTS_CUDA_CHECK(cudaStreamEndCapture(current_stream(), &graph));
  if (!freed_in_capture_.empty()) {
    // The recorded work may read what was released while it was recorded: its replays would read freed memory.
    const size_t n = freed_in_capture_.size();
    cudaGraphDestroy(graph);
    free_deferred();
    BTS_FAIL("recording a CUDA graph: " << n << " device block(s) were released while the step was recorded, so "
                                        "its replays could read freed memory; a recorded step must keep its memory");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);  // the executable graph is independent of its template
  BTS_CUDA_CHECK(e);
  return exec;
}

void CudaBackend::abort_capture() noexcept {
  detail::stream_capture_active() = false;
  cudaGraph_t graph = nullptr;
  if (cudaStreamEndCapture(current_stream(), &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
  cudaGetLastError();  // an invalidated capture leaves its error behind; the caller reports the cause
  free_deferred();
}

void CudaBackend::replay(GraphHandle graph) {
  BTS_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), current_stream()));
}

void CudaBackend::destroy_graph(GraphHandle graph) noexcept {
  if (graph) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
}

void CudaBackend::synchronize() {
  steady_state::note_host_wait("Backend::synchronize");
  kernels::cuda::current_context().synchronize();
}

EventHandle CudaBackend::create_event() {
  steady_state::note_allocation(Device::CUDA, 0, "a timing event");
  cudaEvent_t e;
  BTS_CUDA_CHECK(cudaEventCreate(&e));
  return e;
}

void CudaBackend::record_event(EventHandle e) {
  BTS_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(e), current_stream()));
}

double CudaBackend::elapsed_ms(EventHandle begin, EventHandle end) {
  steady_state::note_host_wait("Backend::elapsed_ms");
  float ms = 0;
  BTS_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(end)));
  BTS_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(begin), static_cast<cudaEvent_t>(end)));
  return ms;
}

bool CudaBackend::elapsed_ms_if_done(EventHandle begin, EventHandle end, double* ms) {
  const cudaError_t q = cudaEventQuery(static_cast<cudaEvent_t>(end));
  if (q == cudaErrorNotReady) {
    cudaGetLastError();  // "not ready" is an answer, not an error: leave nothing for the next check to report
    return false;
  }
  BTS_CUDA_CHECK(q);
  float f = 0;
  BTS_CUDA_CHECK(cudaEventElapsedTime(&f, static_cast<cudaEvent_t>(begin), static_cast<cudaEvent_t>(end)));
  *ms = f;
  return true;
}

void CudaBackend::destroy_event(EventHandle e) noexcept { cudaEventDestroy(static_cast<cudaEvent_t>(e)); }

void CudaBackend::set_tf32(bool on) { kernels::cuda::current_context().set_allow_tf32(on); }

bool CudaBackend::tf32() const { return kernels::cuda::current_context().allow_tf32(); }

void CudaBackend::set_conv_algorithm_search(bool measure) {
  kernels::cuda::set_conv_algo_search(measure ? kernels::cuda::ConvAlgoSearch::Measure
                                              : kernels::cuda::ConvAlgoSearch::Heuristic);
}

std::string CudaBackend::conv_algorithms() const { return kernels::cuda::conv2d_export_algorithms(); }

void CudaBackend::use_conv_algorithms(const std::string& text, const std::string& where) {
  kernels::cuda::conv2d_import_algorithms(text, where);
}

namespace {
// A grow-only device buffer: reallocated only when a larger size is asked for (warm-up), never shrunk.
// A block that moves bumps `generation` (a graph captured before would read freed memory: memory_generation).
void* grown(void*& p, size_t& have, size_t need, const char* what, uint64_t& generation) {
  if (need > have) {
    steady_state::note_allocation(Device::CUDA, need, what);  // may throw: then nothing moved
    if (p) ++generation;
    // Kernels queued may still read the old block (BN statistics, sort keys, a convolution's workspace), on this
    // thread's stream or another context's (the block is the backend's, streams are per context): wait for the
    // whole device (cudaFree only "may" synchronise). Growth happens while warming up.
    if (p) {
      BTS_CUDA_CHECK(cudaDeviceSynchronize());
      BTS_CUDA_CHECK(cudaFree(p));
    }
    p = nullptr;
    have = 0;
    BTS_CUDA_CHECK(cudaMalloc(&p, need));
    have = need;
  }
  return p;
}
}  // namespace

void* CudaBackend::scratch(size_t bytes) {
  return grown(scratch_, scratch_bytes_, bytes, "the CUDA backend's scratch", memory_generation_);
}

void* CudaBackend::conv_workspace(size_t bytes) {
  if (bytes == 0) return nullptr;
  return grown(workspace_, workspace_bytes_, bytes, "the cuDNN workspace", memory_generation_);
}

int32_t* CudaBackend::device_count() {
  if (!count_) {
    steady_state::note_allocation(Device::CUDA, sizeof(int32_t), "the CUDA backend's count word");
    BTS_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&count_), sizeof(int32_t)));
  }
  return count_;
}

int64_t CudaBackend::read_count() {
  int32_t host = 0;  // copy() tells the steady-state guard of the wait
  copy(&host, count_, sizeof host, /*touches_host=*/true);
  return host;
}

}  // namespace bts
