// BTS_HD marks small inline functions shared by the CPU reference and the CUDA kernels, so the CPU tests
// exercise the very formulas the GPU runs.
#pragma once
#if defined(__CUDACC__)
#define BTS_HD __host__ __device__ __forceinline__
#else
#define BTS_HD inline
#endif
