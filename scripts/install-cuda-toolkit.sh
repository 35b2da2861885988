#!/usr/bin/env bash
# Sets up a CUDA 13.0 toolkit from the NVIDIA wheels on PyPI (no GPU, no driver, no root needed), so that
#   source <(scripts/install-cuda-toolkit.sh --env)   # or: eval "$(scripts/install-cuda-toolkit.sh --env)"
#   cargo build --release --features cuda
# works on a CPU-only machine. The binary then runs on any machine with an NVIDIA driver for CUDA >= 13.0.
#
#   scripts/install-cuda-toolkit.sh [--prefix DIR] [--env]
#     --prefix DIR   where to install (default: $HOME/.cache/vgae-cuda-13.0)
#     --env          only print the environment lines (installs first if needed)
# Environment it sets: CUDA_HOME, CUDA_PATH, PATH (nvcc), LIBRARY_PATH (link-time .so files and a libcuda stub),
# LD_LIBRARY_PATH (cuBLAS / cuRAND / cudart 13 at run time; libcuda.so.1 itself comes from the GPU driver),
# CUDA_COMPUTE_CAP (default 90 = H100/H200; override before running for other GPUs, e.g. 80 for A100),
# CUDARC_CUDA_VERSION=13000. Every wheel is pinned to 13.0: an unpinned nvidia-nvvm (cicc) resolves to a newer
# release whose PTX the 13.0 ptxas rejects ("Unsupported .version 9.5").
set -euo pipefail
PREFIX="${HOME}/.cache/vgae-cuda-13.0"
ENV_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --env) ENV_ONLY=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CUDA="$PREFIX/cuda"
log() { if [ "$ENV_ONLY" = 0 ]; then echo "$@"; else echo "$@" >&2; fi; }

if [ ! -x "$CUDA/bin/nvcc" ]; then
  log "installing CUDA 13.0 wheels into $PREFIX ..."
  python3 -m pip install --quiet --disable-pip-version-check --target "$PREFIX/site" \
    "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-crt==13.0.*" "nvidia-cuda-runtime==13.0.*" \
    "nvidia-cuda-cccl==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-cuda-nvrtc==13.0.*" "nvidia-cublas==13.0.*" "nvidia-curand==10.4.0.*" >&2
  # One CUDA_HOME-shaped tree: bin/, include/, lib64/ gathered from the wheels' folders.
  mkdir -p "$CUDA/bin" "$CUDA/include" "$CUDA/lib64/stubs" "$CUDA/nvvm"
  for d in "$PREFIX"/site/nvidia/*/ "$PREFIX"/site/nvidia/cu13/; do
    [ -d "$d" ] || continue
    [ -d "$d/bin" ] && cp -rs "$d/bin/." "$CUDA/bin/" 2>/dev/null || true
    [ -d "$d/include" ] && cp -rs "$d/include/." "$CUDA/include/" 2>/dev/null || true
    [ -d "$d/nvvm" ] && cp -rs "$d/nvvm/." "$CUDA/nvvm/" 2>/dev/null || true
    for lib in "$d"/lib/*.so* "$d"/lib64/*.so*; do
      [ -e "$lib" ] || continue
      ln -sf "$lib" "$CUDA/lib64/$(basename "$lib")"
      base=$(basename "$lib" | sed -E 's/\.so(\..*)?$//')
      [ -e "$CUDA/lib64/$base.so" ] || ln -sf "$lib" "$CUDA/lib64/$base.so"
    done
  done
  # nvcc looks for its own pieces relative to itself: resolve the symlink so they are found.
  if [ -L "$CUDA/bin/nvcc" ]; then
    real=$(readlink -f "$CUDA/bin/nvcc"); rm "$CUDA/bin/nvcc"; cp "$real" "$CUDA/bin/nvcc"
  fi
  chmod +x "$CUDA"/bin/* 2>/dev/null || true
  # libcuda.so comes with the driver, not the toolkit wheels: link against a stub with its soname; at run
  # time the driver's real libcuda.so.1 is loaded instead.
  syms=$(grep -rhoE '\bcu[A-Z][A-Za-z0-9_]*\b' "$CUDA/include/cuda.h" | sort -u)
  { for s in $syms; do echo "void $s(void) {}"; done; } > "$CUDA/lib64/stubs/cuda_stub.c"
  gcc -shared -fPIC -o "$CUDA/lib64/stubs/libcuda.so" -Wl,-soname,libcuda.so.1 "$CUDA/lib64/stubs/cuda_stub.c" 2>/dev/null
  log "nvcc: $("$CUDA/bin/nvcc" --version | tail -2 | head -1)"
fi

# NCCL for `--features nccl` (cudarc links libnccl at build time): pinned to 2.30, the release whose API
# cudarc's `nccl` feature binds; added to an earlier install that lacks it.
if [ ! -e "$CUDA/lib64/libnccl.so" ]; then
  log "installing NCCL 2.30 into $PREFIX ..."
  # Its own --target: pip replaces a target's whole top-level `nvidia/` folder, which holds the toolkit.
  python3 -m pip install --quiet --disable-pip-version-check --target "$PREFIX/nccl-site" --no-deps \
    "nvidia-nccl-cu13==2.30.*" >&2
  for lib in "$PREFIX"/nccl-site/nvidia/nccl/lib/libnccl.so* "$PREFIX"/nccl-site/nvidia/cu13/lib/libnccl.so*; do
    [ -e "$lib" ] || continue
    ln -sf "$lib" "$CUDA/lib64/$(basename "$lib")"
    [ -e "$CUDA/lib64/libnccl.so" ] || ln -sf "$lib" "$CUDA/lib64/libnccl.so"
  done
  [ -e "$CUDA/lib64/libnccl.so" ] || { echo "no libnccl.so in the nvidia-nccl-cu13 wheel" >&2; exit 1; }
fi

cat <<ENV
export CUDA_HOME="$CUDA"
export CUDA_PATH="$CUDA"
export PATH="$CUDA/bin:\$PATH"
export LIBRARY_PATH="$CUDA/lib64:$CUDA/lib64/stubs:\${LIBRARY_PATH:-}"
export LD_LIBRARY_PATH="$CUDA/lib64:\${LD_LIBRARY_PATH:-}"
export CUDA_COMPUTE_CAP="\${CUDA_COMPUTE_CAP:-90}"
export CUDARC_CUDA_VERSION=13000
ENV
