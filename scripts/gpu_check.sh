#!/usr/bin/env bash
# GPU checks for a machine with an NVIDIA GPU and a binary built with `--features cuda`
# (see scripts/install-cuda-toolkit.sh). Usage: scripts/gpu_check.sh [path/to/vgae] [data dir]
#  1. parity: the same seed on CPU and CUDA gives the same loss after one step (1e-4 relative) and Cora test
#     AUC / AP within 0.5 points after 200 epochs (VGAE, dense loss; GAE, sampled loss);
#     with CUDA_TEST set, the CUDA kernels' tests (the fused dense loss among them) against the CPU ops;
#     and, with NCCL_TEST set, the NCCL backend's tests with WORLD_SIZE=1;
#  2. benchmark: epoch times for Cora, Citeseer, Pubmed (dense, sampled) and the MNIST VAE on the GPU, and the
#     exact dense loss on SBM graphs of SBM_NODES nodes (default 100000,1000000); the MNIST VAE by the device
#     step (with one optimiser launch for all parameters, and with one each), by autograd and on the CPU
#     (test -ELBO within 1 nat of the CPU's), and PyTorch's VAE, dense port and PyG GAE on the same GPU where
#     a CUDA build of torch is importable;
#  3. Table 1's autoencoder rows on the GPU with TABLE1_SEEDS seeds (default 10; 0 skips it);
#  4. the benchmark of 2 on the same machine's CPU.
# Every step has its own time limit (seconds, STEP_LIMIT, default 240), so one hung step cannot eat the rest;
# SKIP="bench-cpu table1" leaves out the steps whose names start with one of its words.
# CUDA libraries the binary cannot find are looked up under /usr/local, /opt and /usr/lib (a toolkit, or a Python
# venv's nvidia-* wheels). Ran on an H200 on 2026-11-26 (README, Build options and GPUs).
set -uo pipefail
VGAE="${1:-target/release/vgae}"
DATA="${2:-../shared/data}"
OUT="${OUT:-runs/gpu-check}"
DEV="${GPU_DEV:-cuda}" # GPU_DEV=cpu dry-runs the script on a machine without a GPU
LIMIT="${STEP_LIMIT:-240}"
SEEDS="${TABLE1_SEEDS:-10}"
mkdir -p "$OUT"
status=0
step() { # step NAME CMD...: runs CMD under the time limit, logs it, remembers a failure
  local name="$1"; shift
  for s in ${SKIP:-}; do
    case "$name" in "$s"*) echo "== $name: skipped (SKIP)" >&2; return 0 ;; esac
  done
  echo "== $name: $*" >&2
  local t0=$SECONDS
  timeout "$LIMIT" "$@"; local rc=$?
  echo "== $name: rc $rc, $((SECONDS - t0)) s" >&2
  [ "$rc" = 0 ] || status=1
  return "$rc"
}

# Each CUDA library the binary cannot find (cuBLAS, cuRAND, cudart, NVRTC 13 come with the toolkit or with
# a Python venv's nvidia-* wheels, libcuda with the driver) is looked up and added to LD_LIBRARY_PATH.
for lib in $(ldd "$VGAE" | awk '/not found/ {print $1}'); do
  d=$(find /usr/local /opt /usr/lib /usr/lib64 -name "$lib" 2>/dev/null | head -1)
  [ -n "$d" ] && export LD_LIBRARY_PATH="$(dirname "$d")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" || echo "not found: $lib"
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
ldd "$VGAE" | grep -E 'cublas|curand|cudart|nvrtc|libcuda' || true
if [ "$DEV" != cpu ]; then
  nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader -lms 250 > "$OUT/gpu-usage.csv" 2>/dev/null &
  SMI=$!
fi

# 1. parity on Cora: VGAE with the dense loss (CSR product, fused Gram loss) and GAE with the sampled loss
# (pair logits)
for cfg in "vgae dense" "gae sampled"; do
  set -- $cfg
  for side in cpu:cpu "dev:$DEV"; do # (labelled apart, so that GPU_DEV=cpu dry-runs compare two runs)
    lab="${side%%:*}" dev="${side#*:}"
    step "cora-$1-$2-$lab" "$VGAE" --device "$dev" --data-dir "$DATA" train --dataset cora --model "$1" --loss "$2" \
      --epochs 200 --seed 0 --out "$OUT/cora-$1-$2-$lab" --json > "$OUT/cora-$1-$2-$lab.json"
  done
done
python3 - "$OUT" "$DEV" <<'PY' || status=1
import json, sys
out, dev = sys.argv[1], sys.argv[2]
ok = True
for cfg in ("vgae-dense", "gae-sampled"):
    run = {side: f"{out}/cora-{cfg}-{side}" for side in ("cpu", "dev")}
    first = {s: json.loads(open(f"{r}/metrics.jsonl").readline())["loss"] for s, r in run.items()}
    res = {s: json.load(open(f"{r}.json")) for s, r in run.items()}
    rel = abs(first["cpu"] - first["dev"]) / abs(first["cpu"])
    print(f"{cfg}: loss after one step: cpu {first['cpu']:.6f} {dev} {first['dev']:.6f} relative diff {rel:.2e} (need <= 1e-4)")
    ok &= rel <= 1e-4
    for k in ("test_auc", "test_ap"):
        d = 100 * abs(res["cpu"][k] - res["dev"][k])
        print(f"{cfg}: {k}: cpu {100*res['cpu'][k]:.2f} {dev} {100*res['dev'][k]:.2f} diff {d:.2f} points (need <= 0.5)")
        ok &= d <= 0.5
    print(f"{cfg}: seconds per epoch: cpu {res['cpu']['seconds_per_epoch']:.4f} {dev} {res['dev']['seconds_per_epoch']:.4f}")
print("PARITY", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY

# 1a. the CUDA kernels against the CPU ops, the fused dense loss among them (bit-for-bit repeats, row ranges):
# the test binary of `cargo test --release -p vgae-core --features cuda --test cuda --no-run`, as CUDA_TEST.
if [ -n "${CUDA_TEST:-}" ]; then
  step "cuda-kernels" "$CUDA_TEST" --test-threads 1
fi

# 1b. NCCL with WORLD_SIZE=1 (collectives and the split dense loss on this GPU): the test binary of a
# `cargo test --release -p vgae-nccl --features nccl --no-run` build, given as NCCL_TEST (needs libnccl.so.2,
# from scripts/install-cuda-toolkit.sh or a venv's nvidia-nccl-cu13 wheel).
if [ -n "${NCCL_TEST:-}" ]; then
  step "nccl-world-1" "$NCCL_TEST" --test-threads 1
fi

# 2. benchmarks on the GPU
step "bench-$DEV" "$VGAE" --device "$DEV" --data-dir "$DATA" bench planetoid --epochs 20 --vae --out "$OUT/bench-$DEV"
cat "$OUT/bench-$DEV"/*.md 2>/dev/null
# 2b. the exact (dense) loss on SBM graphs, by the fused kernel (its cost grows as nodes²), and the sampled one
step "sbm-$DEV" "$VGAE" --device "$DEV" bench scaling --nodes "${SBM_NODES:-100000,1000000}" --dense-max 1000000 \
  --epochs 2 --out "$OUT/sbm-$DEV"
cat "$OUT/sbm-$DEV"/*.md 2>/dev/null

# 2c. the MNIST VAE for VAE_EPOCHS epochs (default 3): by the hand-derived device step, the same with one
# optimiser launch per parameter (VGAE_CUDA_UPDATE=each, what the one-launch update replaced), by autograd
# (VGAE_VAE_STEP=autograd, the path before it) on the same GPU, and on this machine's CPU
VE="${VAE_EPOCHS:-3}"
for mode in "$DEV-device" "$DEV-each" "$DEV-autograd" cpu; do
  dev="${mode%%-*}" update=all
  [ "${mode#*-}" = each ] && update=each
  step "vae-$mode" env VGAE_VAE_STEP="${mode#*-}" VGAE_CUDA_UPDATE="$update" "$VGAE" --device "$dev" --data-dir "$DATA" \
    vae train --dataset mnist --epochs "$VE" --iwae-k 0 --json --out "$OUT/vae-$mode" > "$OUT/vae-$mode.json"
done
# 2d. PyTorch on the same GPU (the MNIST VAE, the dense port and PyG's GAE on Pubmed), when a CUDA build of
# torch is importable: the device machine has no internet to install one.
TORCH_OK=0
if python3 -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  TORCH_OK=1
  step "vae-torch-$DEV" python3 scripts/vae_reference.py --device cuda --epochs "$VE" --data-dir "$DATA" > "$OUT/vae-torch.jsonl"
  step "dense-torch-$DEV" python3 scripts/ref_gae_dense.py --dataset pubmed --device cuda --epochs 30 --warmup 5 \
    --data-dir "$DATA" --quiet > "$OUT/dense-torch.jsonl"
  step "pyg-torch-$DEV" python3 scripts/ref_pyg_gae.py --dataset pubmed --device cuda --epochs 60 --warmup 10 \
    --data-dir "$DATA" --quiet > "$OUT/pyg-torch.jsonl"
else
  echo "PyTorch with CUDA is not importable here: the same-GPU PyTorch rows are skipped" >&2
fi
python3 - "$OUT" "$DEV" "$TORCH_OK" <<'PY' || status=1
import json, sys
out, dev, torch_ok = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def load(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
runs = {m: load(f"{out}/vae-{m}.json") for m in (f"{dev}-device", f"{dev}-each", f"{dev}-autograd", "cpu")}
for m, r in runs.items():
    if r:
        print(f"VAE {m}: epoch seconds {r['epoch_seconds']}, test -ELBO {r['test_neg_elbo']:.3f}")
a, c, e = runs[f"{dev}-device"], runs["cpu"], runs[f"{dev}-each"]
if a and e:
    print(f"VAE one optimiser launch per parameter / one for all, fastest epochs: "
          f"{min(e['epoch_seconds']) / min(a['epoch_seconds']):.3f}x")
ok = bool(a and c) and abs(a["test_neg_elbo"] - c["test_neg_elbo"]) <= 1.0
if a and c:
    print(f"VAE device step vs CPU: test -ELBO differs by {abs(a['test_neg_elbo'] - c['test_neg_elbo']):.3f} nats (need <= 1)")
if torch_ok:
    lines = [json.loads(l) for l in open(f"{out}/vae-torch.jsonl") if l.strip()]
    t = [l["seconds"] for l in lines if "epoch" in l]
    print(f"VAE PyTorch {dev}: epoch seconds {t}, test -ELBO {lines[-1]['test_neg_elbo']:.3f}")
    if a and t:
        print(f"VAE ratio PyTorch / ours, fastest epochs: {min(t) / min(a['epoch_seconds']):.2f}x")
    for name in ("dense", "pyg"):
        r = [json.loads(l) for l in open(f"{out}/{name}-torch.jsonl") if l.strip()]
        if r:
            print(f"{name} PyTorch {dev} on Pubmed: {r[-1]['median_epoch_seconds']:.5f} s/epoch, AUC {r[-1]['test_auc']:.4f}")
print("VAE PARITY", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY

# 3. Table 1's autoencoder rows (the baselines run on the CPU whatever the device)
if [ "$SEEDS" != 0 ]; then
  TIME=(); [ -x /usr/bin/time ] && TIME=(/usr/bin/time -v)
  step "table1-$DEV" "${TIME[@]}" "$VGAE" --device "$DEV" --data-dir "$DATA" reproduce table1 --seeds "$SEEDS" \
    --models gae-x,vgae-x,gae,vgae --out "$OUT/table1" 2> "$OUT/table1-time.txt"
  grep -E 'Elapsed|Maximum resident|rror' "$OUT/table1-time.txt"
  cat "$OUT/table1/table1.md" 2>/dev/null
fi
# 4. the same benchmark on this machine's CPU, for the ratio
step "bench-cpu" "$VGAE" --device cpu --data-dir "$DATA" bench planetoid --epochs 20 --vae --out "$OUT/bench-cpu"
cat "$OUT/bench-cpu"/*.md 2>/dev/null
[ -n "${SMI:-}" ] && kill "$SMI" 2>/dev/null
[ -s "$OUT/gpu-usage.csv" ] && echo "peak GPU memory (MiB): $(cut -d, -f2 "$OUT/gpu-usage.csv" | tr -dc '0-9\n' | sort -n | tail -1)"
echo "GPU CHECK $([ $status = 0 ] && echo OK || echo FAILED)"
exit $status
