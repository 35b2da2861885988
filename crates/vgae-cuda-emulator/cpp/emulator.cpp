// The CUDA kernels of crates/vgae-core/kernels, compiled for the host on top of cuda_emulation.h, and a
// launcher that runs one by name with cuLaunchKernel-style arguments (a pointer to each argument's value),
// checking each argument's type tag against the kernel's parameter list.
#include "cuda_emulation.h"

#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>
#include <ucontext.h>

namespace emu {
uint3 thread_idx, block_idx, block_dim, grid_dim;

namespace {
struct Fiber {
  ucontext_t ctx;
  std::unique_ptr<char[]> stack;  // not zeroed: pages are touched only as deep as a kernel's frames go
  bool done = false;
};
constexpr std::size_t STACK = 128 * 1024;
std::vector<Fiber> pool;  // one fiber per thread of the largest block so far, reused across launches
ucontext_t scheduler;
Fiber *current = nullptr;
void (*body)(void **) = nullptr;
void **body_args = nullptr;

void fiber_main() {
  body(body_args);
  current->done = true;
}
}  // namespace

void sync_threads() { swapcontext(&current->ctx, &scheduler); }

// Runs `kernel(args)` over the grid; `reverse` runs each block's threads in the opposite order, so that a
// missing barrier shows as a difference between the two orders.
void run(void (*kernel)(void **), void **args, uint3 grid, uint3 block, bool reverse) {
  const unsigned int threads = block.x * block.y * block.z;
  while (pool.size() < threads) {
    pool.emplace_back();
    pool.back().stack.reset(new char[STACK]);
  }
  grid_dim = grid;
  block_dim = block;
  body = kernel;
  body_args = args;
  for (unsigned int bz = 0; bz < grid.z; ++bz)
    for (unsigned int by = 0; by < grid.y; ++by)
      for (unsigned int bx = 0; bx < grid.x; ++bx) {
        for (unsigned int t = 0; t < threads; ++t) {
          Fiber &f = pool[t];
          f.done = false;
          getcontext(&f.ctx);
          f.ctx.uc_stack.ss_sp = f.stack.get();
          f.ctx.uc_stack.ss_size = STACK;
          f.ctx.uc_link = &scheduler;
          makecontext(&f.ctx, fiber_main, 0);
        }
        bool live = true;
        while (live) {
          live = false;
          for (unsigned int k = 0; k < threads; ++k) {
            const unsigned int t = reverse ? threads - 1 - k : k;
            Fiber &f = pool[t];
            if (f.done) continue;
            block_idx = {bx, by, bz};
            thread_idx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            current = &f;
            swapcontext(&scheduler, &f.ctx);
            live = live || !f.done;
          }
        }
      }
}
}  // namespace emu

#include "../../vgae-core/kernels/all_pairs_softplus.cu"
#include "../../vgae-core/kernels/graph.cu"
#include "../../vgae-core/kernels/optim_update.cu"
#include "../../vgae-core/kernels/vae_step.cu"

namespace {
// Argument type tags, as in src/lib.rs's `Arg`.
enum Tag : int { F32_PTR = 0, F64_PTR = 1, U32_PTR = 2, U32 = 3, F32 = 4, U64_PTR = 5 };

template <class P> constexpr int tag_of() {
  using T = std::remove_cv_t<std::remove_pointer_t<P>>;
  if constexpr (std::is_pointer_v<P>) {
    if constexpr (std::is_same_v<T, float>) return F32_PTR;
    if constexpr (std::is_same_v<T, double>) return F64_PTR;
    if constexpr (std::is_same_v<T, unsigned int>) return U32_PTR;
    if constexpr (std::is_same_v<T, unsigned long long>) return U64_PTR;
    return -1;
  } else {
    if constexpr (std::is_same_v<P, unsigned int>) return U32;
    if constexpr (std::is_same_v<P, float>) return F32;
    return -1;
  }
}

template <class... P> struct Signature {
  static constexpr int count = sizeof...(P);
  static constexpr int tags[sizeof...(P) + 1] = {tag_of<P>()..., -2};
};

template <class... P, std::size_t... I>
void call(void (*f)(P...), void **a, std::index_sequence<I...>) {
  f(*static_cast<std::remove_reference_t<P> *>(a[I])...);
}

struct Kernel {
  const char *name;
  int count;
  const int *tags;
  void (*trampoline)(void **);
};

#define KERNEL(f)                                                                                   \
  Kernel {                                                                                          \
    #f, Sig<decltype(f)>::type::count, Sig<decltype(f)>::type::tags, [](void **a) {               \
      call(f, a, std::make_index_sequence<Sig<decltype(f)>::type::count>{});                      \
    }                                                                                               \
  }

template <class F> struct Sig;
template <class... P> struct Sig<void(P...)> {
  using type = Signature<P...>;
};

const Kernel KERNELS[] = {
    KERNEL(all_pairs_softplus_d16_f32), KERNEL(all_pairs_softplus_d32_f32),
    KERNEL(all_pairs_sum_splits_f32),   KERNEL(csr_spmm_f32),
    KERNEL(pair_dot_f32),               KERNEL(pair_dot_bwd_f32),
    KERNEL(adagrad_f32),                KERNEL(adam_f32),
    KERNEL(adagrad_multi_f32),          KERNEL(adam_multi_f32),
    KERNEL(bias_act_f32),               KERNEL(act_grad_sum_f32),
    KERNEL(reparam_f32),                KERNEL(head_grad_f32),
    KERNEL(bernoulli_rows_f32),         KERNEL(gaussian_rows_f32),
    KERNEL(neg_elbo_sum_f32),           KERNEL(column_sum_f32),
};
}  // namespace

// 0: ran. 1: no kernel of that name. 2: wrong argument count (the kernel's in *detail). 3: argument *detail
// has the wrong type.
extern "C" int vgae_emu_launch(const char *name, const unsigned int *grid, const unsigned int *block,
                               void **args, const int *tags, int count, int reverse, int *detail) {
  for (const Kernel &k : KERNELS) {
    if (std::strcmp(k.name, name) != 0) continue;
    if (k.count != count) {
      *detail = k.count;
      return 2;
    }
    for (int i = 0; i < count; ++i)
      if (k.tags[i] != tags[i]) {
        *detail = i;
        return 3;
      }
    emu::run(k.trampoline, args, {grid[0], grid[1], grid[2]}, {block[0], block[1], block[2]}, reverse != 0);
    return 0;
  }
  return 1;
}
