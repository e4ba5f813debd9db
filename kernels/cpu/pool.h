// Global average pooling: y[n, c] = mean over H*W of x[n, c]. Makes ResNet-18 input-size agnostic.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

template <typename T> void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const T* x, T* y);
template <typename T>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate);

// The same on channels-last input x[n][i][c]: each output sums its HW values in the same order as the NCHW
// version, so the results are the same bits.
template <typename T> void global_avg_pool_forward_nhwc(int64_t N, int64_t C, int64_t HW, const T* x, T* y);
template <typename T>
void global_avg_pool_backward_nhwc(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate);
// And on nChw16c input x[n][c / 16][i][c % 16] (C a multiple of 16), also summing in the NCHW order.
template <typename T> void global_avg_pool_forward_blocked16(int64_t N, int64_t C, int64_t HW, const T* x, T* y);
template <typename T>
void global_avg_pool_backward_blocked16(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate);

}  // namespace bts::kernels::cpu
