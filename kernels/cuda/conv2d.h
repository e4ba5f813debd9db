// Convolution on the GPU through cuDNN: fp32 or bf16 tensors (bf16 data, fp32 accumulation, tensor-core math),
// all three in NCHW with KCRS weights (the layout of kernels/cpu/conv2d.h) or all three channels last (NHWC
// activations, KRSC weights: what the tensor cores read without transposes). ConvData (conv_algo_record.h) says
// which; pointers are float* or bf16 bits accordingly. Algorithms come from cuDNN's _v7 heuristics or are measured (cudnnFind*Ex), chosen once per shape and math mode
// and cached, and can be exported and imported as text (the only translation unit that talks to cuDNN's
// convolution API is cudnn_conv.cpp). Deterministic algorithms are preferred, so a run repeats bitwise on the same
// GPU. The caller supplies the workspace (the CUDA backend's one grow-only workspace), sized by
// conv2d_workspace_bytes. Backward passes overwrite their output unless accumulate (cuDNN's beta = 1).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/common/conv_algo_record.h"
#include "kernels/common/conv_shape.h"
#include "kernels/cuda/context.h"

namespace bts::kernels::cuda {

enum class ConvPass { Forward, BackwardData, BackwardFilter };

size_t conv2d_workspace_bytes(Context& ctx, const ConvShape& s, ConvPass pass, ConvData data = {});
void conv2d_forward(Context& ctx, const ConvShape& s, ConvData data, const void* x, const void* w, void* y,
                    void* workspace, size_t workspace_bytes);
void conv2d_backward_data(Context& ctx, const ConvShape& s, ConvData data, const void* dy, const void* w, void* dx,
                          bool accumulate, void* workspace, size_t workspace_bytes);
void conv2d_backward_filter(Context& ctx, const ConvShape& s, ConvData data, const void* x, const void* dy,
                            void* dw, bool accumulate, void* workspace, size_t workspace_bytes);
// The algorithms chosen for a shape, for logs and benchmarks ("fwd 1 (fma), bwd-data 1 (fma, fallback), ...").
std::string conv2d_algorithms(Context& ctx, const ConvShape& s, ConvData data = {});
// True when all three passes of the shape's plan run a fallback algorithm (tests).
bool conv2d_algorithms_are_fallbacks(Context& ctx, const ConvShape& s, ConvData data = {});
// Tests only: false makes plans made from now on skip cuDNN's heuristics and use the fallback algorithms, as
// they would when the heuristics offer nothing usable (plans are cached per setting).
void set_conv_heuristics_enabled(bool on);

// Where the candidates come from for plans made from now on: cuDNN's heuristics (the default; no timing, the same
// choice every run) or cudnnFind*Ex, which times every algorithm once per shape on scratch buffers (synchronises
// and allocates while a plan is made, i.e. in a run's first steps).
enum class ConvAlgoSearch { Heuristic = 0, Measure = 1 };
// Whether the shape's plan exists already. A new shape, math mode or search makes one on first use (descriptors,
// heuristics or timing; in measured mode device allocations and a synchronisation): the steady-state guard is told
// before that happens.
bool conv2d_has_plan(Context& ctx, const ConvShape& s, ConvData data = {});
void set_conv_algo_search(ConvAlgoSearch search);
// The algorithms of every plan made so far, as conv_algorithms.txt keeps them (kernels/common/conv_algo_record.h).
std::string conv2d_export_algorithms();
// Starts a run's choices: cached plans are dropped, and plans made from now on use these records where the shape and
// math mode match (throws naming `where` on a damaged text; an empty text imports none).
void conv2d_import_algorithms(const std::string& text, const std::string& where);

}  // namespace bts::kernels::cuda
