// The subset of CUDA C that kernels/*.cu use, on the CPU: each block's threads are fibers (ucontext) on one
// OS thread, run in a chosen order until each reaches __syncthreads() or returns; blocks run one after
// another. __shared__ arrays become function statics, shared by the block's fibers as on the GPU. A thread
// that returns no longer takes part in barriers (as on the GPU since Volta).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

struct uint3 {
  unsigned int x, y, z;
};

namespace emu {
extern uint3 thread_idx, block_idx, block_dim, grid_dim;
// Switches back to the block's scheduler until every live thread of the block has arrived.
void sync_threads();
}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(n)
#define __syncthreads() emu::sync_threads()

// Single OS thread: an atomic add is a plain add.
inline float atomicAdd(float *p, float v) {
  const float old = *p;
  *p = old + v;
  return old;
}

inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }

// Fast intrinsics as their accurate host versions; the _rn forms are the plain IEEE operations (this file is
// compiled with -ffp-contract=off, so they are never fused).
inline float __expf(float x) { return expf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
