#!/usr/bin/env bash
# What a GPU session runs, built on a CPU machine beforehand: a GPU machine's minutes are few, and building
# the cuda feature takes ~20 min on 2 cores. Packs the CUDA `vgae`, the CUDA kernel tests and the NCCL tests
# (xz-compressed: Candle's embedded PTX is most of each binary) and the datasets scripts/gpu_check.sh reads
# into .gpu-bundle/ (ignored by git; about 40 MB), for the device tool's `carry`, whose limit of 64 MiB
# includes the working tree (~14 MB).
#
#   scripts/gpu_bundle.sh [data dir]   # here: build (CARGO_TARGET_DIR, default ../target-cuda) and pack
#   scripts/gpu_bundle.sh --run        # on the GPU machine: unpack to /tmp/gpu, run gpu_check.sh
#
# The CUDA binaries link the driver's libcuda.so.1, so they start only on a machine with the driver.
#
# --run passes its environment on (OUT, STEP_LIMIT, TABLE1_SEEDS, SBM_NODES, VAE_EPOCHS).
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=.gpu-bundle

unpack() { # unpack DIR: binaries and data of the bundle into DIR
  mkdir -p "$1"
  for f in vgae cuda-tests nccl-tests; do
    [ -f "$BUNDLE/$f.xz" ] && xz -dc "$BUNDLE/$f.xz" > "$1/$f" && chmod +x "$1/$f"
  done
  rm -rf "$1/data" && cp -r "$BUNDLE/data" "$1/data"
}

case "${1:-}" in
  --run)
    unpack /tmp/gpu
    export CUDA_TEST=/tmp/gpu/cuda-tests
    [ -x /tmp/gpu/nccl-tests ] && export NCCL_TEST=/tmp/gpu/nccl-tests
    # The image's NCCL comes with its PyTorch (nvidia-nccl wheel); gpu_check.sh finds the other libraries.
    nccl=$(find /opt /usr -name 'libnccl.so.2' 2>/dev/null | head -1 || true)
    [ -n "$nccl" ] && export LD_LIBRARY_PATH="$(dirname "$nccl")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    exec scripts/gpu_check.sh /tmp/gpu/vgae /tmp/gpu/data
    ;;
esac

DATA="${1:-../shared/data}"
eval "$(scripts/install-cuda-toolkit.sh --env)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target-cuda}"
# The executable of each `cargo test --no-run` target, from cargo's JSON messages.
test_exe() {
  cargo test --release --no-run --message-format=json "$@" |
    python3 -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("executable") and m.get("profile", {}).get("test"):
        print(m["executable"])' | tail -1
}
cargo build --release --features cuda -p vgae-cli
cuda=$(test_exe -p vgae-core --features cuda --test cuda)
nccl=$(test_exe -p vgae-nccl --features nccl --test nccl)
rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/data"
grep -qx "/$BUNDLE/" .git/info/exclude 2>/dev/null || echo "/$BUNDLE/" >> .git/info/exclude
for pair in "vgae:$CARGO_TARGET_DIR/release/vgae" "cuda-tests:$cuda" "nccl-tests:$nccl"; do
  name="${pair%%:*}" src="${pair#*:}"
  strip -o "$BUNDLE/$name" "$src"
  xz -9 -T0 "$BUNDLE/$name" && xz -t "$BUNDLE/$name.xz"
done
# MNIST (the VAE), the Planetoid files and Pubmed's reconstructed allx (the graph benchmarks and Table 1).
cp -r "$DATA/mnist" "$DATA/planetoid" "$BUNDLE/data/"
mkdir -p "$BUNDLE/data/pubmed-allx-approx"
cp "$DATA/pubmed-allx-approx/ind.pubmed.allx.approx6sig" "$BUNDLE/data/pubmed-allx-approx/"
chmod -R u+w "$BUNDLE"
total=$(du -sb "$BUNDLE" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
echo "bundle: $((total / 1048576)) MiB, working tree: $((tree / 1048576)) MiB (the carry limit is 64 MiB together)"
[ $((total + tree)) -lt $((64 * 1048576)) ] || { echo "too large to carry" >&2; exit 1; }
