#!/usr/bin/env bash
# Cross-compiles the portable SIMD kernels (scripts/aarch64: the kernel sources of vgae-core alone) for
# aarch64 and runs their tests under qemu-user, so that the NEON path is checked against the scalar one on an
# x86 machine. Correctness only: emulated timings mean nothing.
#
#   scripts/aarch64_kernels.sh        (installs Debian's gcc-aarch64-linux-gnu and qemu-user if missing)
set -euo pipefail
cd "$(dirname "$0")/aarch64"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  apt-get install -y -q gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
fi
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo test --release --target aarch64-unknown-linux-gnu -- --nocapture
# The same tests natively, for every x86 path this CPU has.
cargo test --release -- --nocapture
