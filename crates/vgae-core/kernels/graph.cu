// Graph kernels for the CUDA build (compiled to PTX by build.rs, loaded through Candle's custom-module cache).
// Candle's own index_add runs one thread per output column and loops over every index, which made a Cora
// epoch 10x slower on an H200 than on two CPU cores; these run one thread per output element or pair.

// y[r, k] = sum_p vals[p] * h[indices[p], k] over row r of a CSR matrix; one thread per (r, k), so a warp
// reads whole rows of h.
extern "C" __global__ void csr_spmm_f32(const unsigned int *indptr, const unsigned int *indices,
                                        const float *vals, const float *h, float *y, unsigned int rows,
                                        unsigned int d) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)rows * d) return;
  const unsigned int r = i / d, k = i % d;
  float acc = 0.0f;
  for (unsigned int p = indptr[r]; p < indptr[r + 1]; ++p) acc += vals[p] * h[(size_t)indices[p] * d + k];
  y[i] = acc;
}

// out[p] = z[u_p] . z[v_p] for pairs stored as [u0, v0, u1, v1, ...]; one thread per pair.
extern "C" __global__ void pair_dot_f32(const unsigned int *pairs, const float *z, float *out, unsigned int k,
                                        unsigned int d) {
  const size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= k) return;
  const float *a = z + (size_t)pairs[2 * p] * d, *b = z + (size_t)pairs[2 * p + 1] * d;
  float acc = 0.0f;
  for (unsigned int c = 0; c < d; ++c) acc += a[c] * b[c];
  out[p] = acc;
}

// dz[u_p] += g[p] z[v_p] and dz[v_p] += g[p] z[u_p]; one thread per (pair, column), atomics for shared rows
// (the summation order, and so the last bits, can differ between runs on the GPU).
extern "C" __global__ void pair_dot_bwd_f32(const unsigned int *pairs, const float *z, const float *g,
                                            float *dz, unsigned int k, unsigned int d) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)k * d) return;
  const size_t p = i / d, c = i % d;
  const size_t u = (size_t)pairs[2 * p] * d + c, v = (size_t)pairs[2 * p + 1] * d + c;
  const float gp = g[p];
  atomicAdd(dz + u, gp * z[v]);
  atomicAdd(dz + v, gp * z[u]);
}
