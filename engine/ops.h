// The differentiable ops the models are built from. Each records its backward on the tape and dispatches on
// the tensors' device (CPU reference/fast path today; CUDA in kernels/cuda) and dtype (f32; f64 on the CPU; bf16).
#pragma once
#include "engine/autograd.h"

namespace bts {

// CPU implementation choice: the plain reference loops everywhere (the oracle); Gemm: im2col + OpenBLAS for
// convolution and linear and the vectorised f32 BatchNorm; Fast (default): as Gemm but oneDNN's f32 convolutions
// where the build has oneDNN. Tests flip it to compare them.
enum class CpuAlgo { Reference, Gemm, Fast };
const char* cpu_algo_name(CpuAlgo algo);
void set_cpu_algo(CpuAlgo algo);
CpuAlgo cpu_algo();

// x converted to `to` (f32 <-> bf16; the same Var when it already is): the casts of mixed precision. Backward converts
// the gradient back. Every op below also takes bf16 tensors (weights and activations; BatchNorm's parameters and
// statistics stay f32): it then computes in fp32 and stores its output and gradients as bf16 (through casts around
// its f32 kernels, or the backend's own bf16 kernels where it has them: Backend::native_bf16).
Var cast(Tape& t, Var x, DType to);
// The same, stored in layout `layout` (4-D x): cast and relayout in one pass each way (the weights of a bf16
// convolution, cast from the f32 master copy straight into the layout the backend's convolution takes).
Var cast(Tape& t, Var x, DType to, Layout layout);

// x stored in layout `to` (the same Var when it already is): what conv2d inserts where a backend's convolution wants
// its input or weights in another layout (Backend::conv_input_layout, conv_weight_layout). Backward moves the
// gradient back.
Var relayout(Tape& t, Var x, Layout to);

Var conv2d(Tape& t, Var x, Var w, int stride, int pad);
// BatchNorm2d. Training: normalise with batch statistics and update the running ones in place.
// Eval: normalise with the running statistics.
Var batchnorm2d(Tape& t, Var x, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var, bool training,
                double momentum, double eps);
// relu(batchnorm2d(...)) as one op: the same values, without storing the BatchNorm output.
Var batchnorm2d_relu(Tape& t, Var x, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var, bool training,
                     double momentum, double eps);
// relu(batchnorm2d(x, ...) + z) as one op: a residual block's second BatchNorm, its shortcut z and the ReLU. The
// same values as add_relu(t, batchnorm2d(t, x, ...), z) (the BatchNorm output rounded to x's dtype before the add),
// without storing the BatchNorm output or the gradient reaching it.
Var batchnorm2d_add_relu(Tape& t, Var x, Var z, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var,
                         bool training, double momentum, double eps);
Var relu(Tape& t, Var x);
Var add(Tape& t, Var a, Var b);
// relu(add(a, b)) as one op: the same values, without storing the sum.
Var add_relu(Tape& t, Var a, Var b);
Var global_avg_pool(Tape& t, Var x);  // [N, C, H, W] -> [N, C]
Var linear(Tape& t, Var x, Var w, Var b);

// Targets for the cross-entropy: M (label, weight) pairs per sample plus a reduction weight per sample.
struct Targets {
  Tensor labels;          // i32 [N, M]
  Tensor label_weights;   // [N, M], rows sum to 1 (model dtype)
  Tensor sample_weights;  // [N] (model dtype); 1/N each gives the batch mean
  int64_t num_targets() const { return labels.dim(1); }
  // Plain labels, mean reduction. `labels` is i32 [N] on any device; result on `device` in `dtype`.
  static Targets hard(const Tensor& labels, DType dtype, Device device);
};

struct CrossEntropyResult {
  Var total;                  // scalar: sum_i sample_weight_i * loss_i
  Tensor* loss_per_sample;    // [N]
  Tensor* prob_per_target;    // [N, M]: softmax probability of each target label
};
CrossEntropyResult cross_entropy(Tape& t, Var logits, const Targets& targets);

}  // namespace bts
