// The optimisers' in-place updates on CUDA (compiled to PTX by build.rs), one thread per element and one
// launch per parameter. The arithmetic is the CPU's (src/optim/fused.rs) operation for operation: the _rn
// intrinsics keep nvcc from contracting a multiply and an add into an FMA, and IEEE division and square
// root are nvcc's defaults, so a CUDA update gives the CPU's bits from the same inputs.

// Adagrad: s += g^2; p -= g / (sqrt(s) + eps) * lr.
extern "C" __global__ void adagrad_f32(float *p, float *s, const float *g, float lr, float eps,
                                       unsigned int n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float gi = g[i];
  const float si = __fadd_rn(s[i], __fmul_rn(gi, gi));
  s[i] = si;
  p[i] = __fsub_rn(p[i], __fmul_rn(__fdiv_rn(gi, __fadd_rn(__fsqrt_rn(si), eps)), lr));
}

// Adam, with the bias corrections as reciprocals r1 = 1 / (1 - b1^t), r2 = 1 / (1 - b2^t) and c = 1 - b:
// m = m b1 + g c1; v = v b2 + g^2 c2; p -= (m r1) / (sqrt(v r2) + eps) * lr. The CPU's `+ 0.0` after each
// scaling (Candle's affine) is kept too: it turns -0 into +0.
extern "C" __global__ void adam_f32(float *p, float *m, float *v, const float *g, float b1, float c1,
                                    float b2, float c2, float r1, float r2, float eps, float lr,
                                    unsigned int n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
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
