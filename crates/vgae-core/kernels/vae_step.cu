// The element-wise passes of the hand-derived VAE step on CUDA (compiled to PTX by build.rs); the GEMMs
// between them are cuBLAS calls through Candle. The CPU twin of every kernel is in
// src/vae/device_step/passes.rs: same formulas, same argument order. Reductions use fixed trees, never
// atomics, so a step repeats bit for bit on one GPU.

// Activations, as `act` arguments: 0 identity, 1 ReLU, 2 tanh, 3 sigmoid.
__device__ __forceinline__ float activate(float v, unsigned int act) {
  switch (act) {
    case 1: return fmaxf(v, 0.0f);
    case 2: return tanhf(v);
    case 3: return 1.0f / (1.0f + expf(-v));
    default: return v;
  }
}

// d act / d pre-activation, from the activation's output (ReLU: 1 where the output is positive).
__device__ __forceinline__ float activation_slope(float out, unsigned int act) {
  switch (act) {
    case 1: return out > 0.0f ? 1.0f : 0.0f;
    case 2: return 1.0f - out * out;
    case 3: return out * (1.0f - out);
    default: return 1.0f;
  }
}

// out[r, c] = act(y[r, c] + b[c]) for y: [rows, cols]; one thread per element.
extern "C" __global__ void bias_act_f32(const float *y, const float *b, float *out, unsigned int rows,
                                        unsigned int cols, unsigned int act) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)rows * cols) return;
  out[i] = activate(y[i] + b[i % cols], act);
}

// Backward through an activation and the bias gradient in one pass, for out: [rows, cols]: d[r, c] =
// (g[r, c] + g2[r, c]) * act'(out[r, c]) (`g2`, the second head's share, is read only when two != 0) and
// db[c] = sum_r d[r, c], rows in order (column_sum_f32's sums); one thread per column, so a warp reads a
// row's consecutive columns.
extern "C" __global__ void act_grad_sum_f32(const float *g, const float *g2, const float *out, float *d,
                                            float *db, unsigned int rows, unsigned int cols, unsigned int act,
                                            unsigned int two) {
  const unsigned int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.0f;
  for (unsigned int r = 0; r < rows; ++r) {
    const size_t i = (size_t)r * cols + c;
    const float v = two ? g[i] + g2[i] : g[i];
    const float x = v * activation_slope(out[i], act);
    d[i] = x;
    s += x;
  }
  db[c] = s;
}

// The heads and the reparameterisation for n = rows * zd values: mu = mu_raw + b_mu, lv = lv_raw + b_lv,
// sd = exp(lv / 2), z = mu + sd * eps, written as four [rows, zd] blocks of out: mu, lv, sd, z.
extern "C" __global__ void reparam_f32(const float *mu_raw, const float *lv_raw, const float *b_mu,
                                       const float *b_lv, const float *eps, float *out, unsigned int rows,
                                       unsigned int zd) {
  const size_t n = (size_t)rows * zd, i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const unsigned int c = i % zd;
  const float mu = mu_raw[i] + b_mu[c], lv = lv_raw[i] + b_lv[c];
  const float sd = expf(lv * 0.5f);
  out[i] = mu;
  out[n + i] = lv;
  out[2 * n + i] = sd;
  out[3 * n + i] = mu + sd * eps[i];
}

// dL/dz (dz: [rows, zd]) to dL/dmu = dz + mu and dL/dlv = dz * eps * sd / 2 + (e^lv - 1) / 2 (the KL's
// share included), written as two blocks of dmulv; `heads` is reparam_f32's output.
extern "C" __global__ void head_grad_f32(const float *dz, const float *heads, const float *eps,
                                         float *dmulv, unsigned int n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float mu = heads[i], lv = heads[(size_t)n + i], sd = heads[2 * (size_t)n + i];
  dmulv[i] = dz[i] + mu;
  dmulv[(size_t)n + i] = dz[i] * eps[i] * 0.5f * sd + 0.5f * (expf(lv) - 1.0f);
}

#define ROW_THREADS 256

// Sums the block's `v` into v of thread 0 by a fixed tree (blockDim.x == ROW_THREADS).
__device__ float block_sum(float v, float *sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned int s = ROW_THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  return sh[0];
}

// Bernoulli decoder, one block per row of logits l = raw + b ([rows, d]): nll[r] = sum softplus(l) - x l and
// delta = sigmoid(l) - x (dL/dl), in the stable forms of the CPU's softplus_sigmoid.
extern "C" __global__ void bernoulli_rows_f32(const float *raw, const float *b, const float *x, float *delta,
                                              float *nll, unsigned int rows, unsigned int d) {
  __shared__ float sh[ROW_THREADS];
  const unsigned int r = blockIdx.x;
  if (r >= rows) return;
  const size_t base = (size_t)r * d;
  float acc = 0.0f;
  for (unsigned int c = threadIdx.x; c < d; c += ROW_THREADS) {
    const float l = raw[base + c] + b[c], xv = x[base + c];
    const float e = expf(-fabsf(l));
    const float sp = fmaxf(l, 0.0f) + log1pf(e);
    const float sg = l >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    acc += sp - xv * l;
    delta[base + c] = sg - xv;
  }
  const float s = block_sum(acc, sh);
  if (threadIdx.x == 0) nll[r] = s;
}

// Gaussian decoder (Frey Face), one block per row: mean m = sigmoid(a), a = a_raw + b_a; log-variance
// lv = lv_raw + b_lv; nll[r] = 1/2 sum (lv + ln 2 pi + (x - m)^2 e^-lv); da = dL/da and dlv = dL/dlv.
extern "C" __global__ void gaussian_rows_f32(const float *a_raw, const float *b_a, const float *lv_raw,
                                             const float *b_lv, const float *x, float *da, float *dlv,
                                             float *nll, unsigned int rows, unsigned int d) {
  __shared__ float sh[ROW_THREADS];
  const unsigned int r = blockIdx.x;
  if (r >= rows) return;
  const size_t base = (size_t)r * d;
  const float ln_2pi = 1.8378770664093453f;
  float acc = 0.0f;
  for (unsigned int c = threadIdx.x; c < d; c += ROW_THREADS) {
    const float m = 1.0f / (1.0f + expf(-(a_raw[base + c] + b_a[c])));
    const float lv = lv_raw[base + c] + b_lv[c];
    const float res = x[base + c] - m, w = expf(-lv);
    const float sq = res * res * w;
    acc += 0.5f * (lv + ln_2pi + sq);
    dlv[base + c] = 0.5f * (1.0f - sq);
    da[base + c] = -res * w * m * (1.0f - m);
  }
  const float s = block_sum(acc, sh);
  if (threadIdx.x == 0) nll[r] = s;
}

// The batch's summed -ELBO into out[0]: sum over rows of nll[r] - 1/2 sum_j (1 + lv - mu^2 - e^lv), by one
// block of ROW_THREADS threads (each a fixed set of rows, then the tree).
extern "C" __global__ void neg_elbo_sum_f32(const float *nll, const float *heads, float *out,
                                            unsigned int rows, unsigned int zd) {
  __shared__ float sh[ROW_THREADS];
  const size_t n = (size_t)rows * zd;
  float acc = 0.0f;
  for (unsigned int r = threadIdx.x; r < rows; r += ROW_THREADS) {
    float kl = 0.0f;
    for (unsigned int j = 0; j < zd; ++j) {
      const float mu = heads[(size_t)r * zd + j], lv = heads[n + (size_t)r * zd + j];
      kl += 1.0f + lv - mu * mu - expf(lv);
    }
    acc += nll[r] - 0.5f * kl;
  }
  const float s = block_sum(acc, sh);
  if (threadIdx.x == 0) out[0] = s;
}

// db[c] = sum_r g[r, c] for g: [rows, cols]; one thread per column, rows in order (a warp reads a row's
// consecutive columns).
extern "C" __global__ void column_sum_f32(const float *g, float *db, unsigned int rows, unsigned int cols) {
  const unsigned int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.0f;
  for (unsigned int r = 0; r < rows; ++r) s += g[(size_t)r * cols + c];
  db[c] = s;
}
