// The optimisers' in-place updates on CUDA (compiled to PTX by build.rs), one thread per element: one launch
// per parameter, or one for all of a model's parameters (the _multi kernels, with a table of pointers). The
// arithmetic is the CPU's (src/optim/fused.rs) operation for operation: the _rn intrinsics keep nvcc from
// contracting a multiply and an add into an FMA, and IEEE division and square root are nvcc's defaults, so a
// CUDA update gives the CPU's bits from the same inputs.

// Adagrad on element i: s += g^2; p -= g / (sqrt(s) + eps) * lr.
__device__ __forceinline__ void adagrad_at(float *p, float *s, const float *g, float lr, float eps,
                                           size_t i) {
  const float gi = g[i];
  const float si = __fadd_rn(s[i], __fmul_rn(gi, gi));
  s[i] = si;
  p[i] = __fsub_rn(p[i], __fmul_rn(__fdiv_rn(gi, __fadd_rn(__fsqrt_rn(si), eps)), lr));
}

// Adam on element i, with the bias corrections as reciprocals r1 = 1 / (1 - b1^t), r2 = 1 / (1 - b2^t) and
// c = 1 - b: m = m b1 + g c1; v = v b2 + g^2 c2; p -= (m r1) / (sqrt(v r2) + eps) * lr. The CPU's `+ 0.0`
// after each scaling (Candle's affine) is kept too: it turns -0 into +0.
__device__ __forceinline__ void adam_at(float *p, float *m, float *v, const float *g, float b1, float c1,
                                        float b2, float c2, float r1, float r2, float eps, float lr, size_t i) {
  const float gi = g[i];
  const float mi = __fadd_rn(__fadd_rn(__fmul_rn(m[i], b1), 0.0f), __fadd_rn(__fmul_rn(gi, c1), 0.0f));
  const float vi = __fadd_rn(__fadd_rn(__fmul_rn(v[i], b2), 0.0f),
                             __fadd_rn(__fmul_rn(__fmul_rn(gi, gi), c2), 0.0f));
  m[i] = mi;
  v[i] = vi;
  const float denom = __fadd_rn(__fsqrt_rn(__fadd_rn(__fmul_rn(vi, r2), 0.0f)), eps);
  const float step = __fadd_rn(__fmul_rn(__fdiv_rn(__fadd_rn(__fmul_rn(mi, r1), 0.0f), denom), lr), 0.0f);
  p[i] = __fsub_rn(p[i], step);
}

extern "C" __global__ void adagrad_f32(float *p, float *s, const float *g, float lr, float eps,
                                       unsigned int n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) adagrad_at(p, s, g, lr, eps, i);
}

extern "C" __global__ void adam_f32(float *p, float *m, float *v, const float *g, float b1, float c1,
                                    float b2, float c2, float r1, float r2, float eps, float lr,
                                    unsigned int n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) adam_at(p, m, v, g, b1, c1, b2, c2, r1, r2, eps, lr, i);
}

// The tensor that global element i falls in: the last t with starts[t] <= i, for starts[0] = 0 <= i <
// starts[tensors] (each tensor's first element; empty tensors share their successor's start).
__device__ __forceinline__ unsigned int tensor_of(const unsigned long long *starts, unsigned int tensors,
                                                  unsigned long long i) {
  unsigned int lo = 0, hi = tensors;  // starts[lo] <= i < starts[hi]
  while (hi - lo > 1) {
    const unsigned int mid = lo + (hi - lo) / 2;
    if (starts[mid] <= i) lo = mid;
    else hi = mid;
  }
  return lo;
}

// Adagrad over every tensor of a model in one launch, from one uploaded table: table[3 t ..] = p, s, g of
// tensor t, then table[3 T ..] = starts (T + 1 of them): tensor t is global elements starts[t] ..
// starts[t + 1]. One thread per global element.
extern "C" __global__ void adagrad_multi_f32(const unsigned long long *table, unsigned int tensors, float lr,
                                             float eps) {
  const unsigned long long *starts = table + 3 * (size_t)tensors;
  const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= starts[tensors]) return;
  const unsigned int t = tensor_of(starts, tensors, i);
  adagrad_at((float *)table[3 * t], (float *)table[3 * t + 1], (const float *)table[3 * t + 2], lr, eps,
             i - starts[t]);
}

// Adam over every tensor of a model in one launch: table[4 t ..] = p, m, v, g of tensor t, then the starts;
// as adagrad_multi_f32.
extern "C" __global__ void adam_multi_f32(const unsigned long long *table, unsigned int tensors, float b1,
                                          float c1, float b2, float c2, float r1, float r2, float eps,
                                          float lr) {
  const unsigned long long *starts = table + 4 * (size_t)tensors;
  const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= starts[tensors]) return;
  const unsigned int t = tensor_of(starts, tensors, i);
  adam_at((float *)table[4 * t], (float *)table[4 * t + 1], (float *)table[4 * t + 2],
          (const float *)table[4 * t + 3], b1, c1, b2, c2, r1, r2, eps, lr, i - starts[t]);
}
