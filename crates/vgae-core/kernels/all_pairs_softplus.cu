// The exact dense loss on the GPU in one fused pass (compiled to PTX by build.rs): for rows i of Z in a range,
// sum_j softplus(z_i . z_j) and G_i = sum_j sigmoid(z_i . z_j) z_j over all n columns, without an n x n buffer.
//
// A block owns TILE rows of I and a share of the column tiles J (blockIdx.y of `splits`). Per column tile:
// the TILE x TILE logits from Z_I and Z_J in shared memory (each thread a 4 x 4 patch), softplus and sigmoid
// in registers, sigma into shared memory, then G_I += sigma Z_J with each thread owning TILE * d / 256
// outputs held in registers across all its column tiles. No atomics: every sum has a fixed order, so a run
// repeats bit for bit on any GPU. The block's softplus sum (a fixed tree over its threads) and its G_I go to
// per-split buffers that the host or `all_pairs_sum_splits` adds in split order.

#define TILE 64
#define THREADS 256

// softplus(x) = max(x, 0) + log1p(exp(-|x|)) and sigmoid(x) from one exp.
__device__ __forceinline__ void softplus_sigmoid(float x, float *sp, float *sig) {
  const float e = __expf(-fabsf(x));
  const float r = 1.0f / (1.0f + e);
  *sp = fmaxf(x, 0.0f) + log1pf(e);
  *sig = x >= 0.0f ? r : e * r;
}

// value[split * gridDim.x + bx]: the block's sum of softplus (double); grad[split][i - r0][k]: its G_I part.
// z: [n, d] row-major, d <= MAXD (16 or 32: the G_I outputs per thread, TILE * MAXD / THREADS); rows r0 .. r1.
template <int MAXD>
__device__ __forceinline__ void all_pairs_softplus(const float *z, double *value, float *grad, unsigned int n,
                                                   unsigned int d, unsigned int r0, unsigned int r1,
                                                   unsigned int splits) {
  __shared__ float zi[TILE][MAXD + 1];
  __shared__ float zj[TILE][MAXD + 1];
  __shared__ float sg[TILE][TILE + 1];
  __shared__ double part[THREADS];
  const unsigned int t = threadIdx.x, ty = t / 16, tx = t % 16;
  const unsigned int i0 = r0 + blockIdx.x * TILE;
  const unsigned int rows = min(TILE, r1 - i0);
  for (unsigned int e = t; e < TILE * MAXD; e += THREADS) {
    const unsigned int r = e / MAXD, k = e % MAXD;
    zi[r][k] = (r < rows && k < d) ? z[(size_t)(i0 + r) * d + k] : 0.0f;
  }
  // This thread's outputs of G_I: (row, column) = (o / d, o % d) for o = t + q * THREADS.
  float acc[TILE * MAXD / THREADS];
#pragma unroll
  for (int q = 0; q < TILE * MAXD / THREADS; ++q) acc[q] = 0.0f;
  double total = 0.0;
  const unsigned int tiles = (n + TILE - 1) / TILE;
  const unsigned int per = (tiles + splits - 1) / splits;
  const unsigned int b0 = blockIdx.y * per, b1 = min(tiles, b0 + per);
  for (unsigned int b = b0; b < b1; ++b) {
    const unsigned int j0 = b * TILE, cols = min(TILE, n - j0);
    __syncthreads();  // the previous tile's sg and zj are consumed (and zi is written, the first time)
    for (unsigned int e = t; e < TILE * MAXD; e += THREADS) {
      const unsigned int r = e / MAXD, k = e % MAXD;
      zj[r][k] = (r < cols && k < d) ? z[(size_t)(j0 + r) * d + k] : 0.0f;
    }
    __syncthreads();
    // Logits of rows 4 ty + a against columns 4 tx + c.
    float x[4][4] = {};
    for (unsigned int k = 0; k < d; ++k) {
      float a[4], c[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        a[u] = zi[4 * ty + u][k];
        c[u] = zj[4 * tx + u][k];
      }
#pragma unroll
      for (int u = 0; u < 4; ++u)
#pragma unroll
        for (int v = 0; v < 4; ++v) x[u][v] = fmaf(a[u], c[v], x[u][v]);
    }
#pragma unroll
    for (int u = 0; u < 4; ++u)
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        const unsigned int r = 4 * ty + u, c = 4 * tx + v;
        float sp = 0.0f, s = 0.0f;
        if (r < rows && c < cols) softplus_sigmoid(x[u][v], &sp, &s);
        total += (double)sp;
        sg[r][c] = s;
      }
    __syncthreads();
    // G_I += sigma Z_J over this tile's columns, in column order.
#pragma unroll
    for (int q = 0; q < TILE * MAXD / THREADS; ++q) {
      const unsigned int o = t + q * THREADS, r = o / MAXD, k = o % MAXD;
      float g = acc[q];
      for (unsigned int c = 0; c < cols; ++c) g = fmaf(sg[r][c], zj[c][k], g);
      acc[q] = g;
    }
  }
  const size_t out = (size_t)blockIdx.y * (r1 - r0) * d;
#pragma unroll
  for (int q = 0; q < TILE * MAXD / THREADS; ++q) {
    const unsigned int o = t + q * THREADS, r = o / MAXD, k = o % MAXD;
    if (r < rows && k < d) grad[out + (size_t)(i0 - r0 + r) * d + k] = acc[q];
  }
  part[t] = total;
  __syncthreads();
  for (unsigned int s = THREADS / 2; s > 0; s >>= 1) {
    if (t < s) part[t] += part[t + s];
    __syncthreads();
  }
  if (t == 0) value[blockIdx.y * gridDim.x + blockIdx.x] = part[0];
}

extern "C" __global__ void __launch_bounds__(THREADS)
    all_pairs_softplus_d16_f32(const float *z, double *value, float *grad, unsigned int n, unsigned int d,
                               unsigned int r0, unsigned int r1, unsigned int splits) {
  all_pairs_softplus<16>(z, value, grad, n, d, r0, r1, splits);
}

extern "C" __global__ void __launch_bounds__(THREADS)
    all_pairs_softplus_d32_f32(const float *z, double *value, float *grad, unsigned int n, unsigned int d,
                               unsigned int r0, unsigned int r1, unsigned int splits) {
  all_pairs_softplus<32>(z, value, grad, n, d, r0, r1, splits);
}

// out[e] = scale * sum over splits s (in order) of parts[s * len + e]; one thread per element.
extern "C" __global__ void all_pairs_sum_splits_f32(const float *parts, float *out, unsigned int len,
                                                    unsigned int splits, float scale) {
  const size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= len) return;
  float s = 0.0f;
  for (unsigned int p = 0; p < splits; ++p) s += parts[(size_t)p * len + e];
  out[e] = scale * s;
}
