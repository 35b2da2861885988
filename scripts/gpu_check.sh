#!/usr/bin/env bash
# GPU checks of issue 8, for a machine with an NVIDIA GPU and a binary built with `--features cuda`
# (see scripts/install-cuda-toolkit.sh). Usage: scripts/gpu_check.sh [path/to/vgae] [data dir]
#  1. parity: the same seed on CPU and CUDA gives the same loss after one step (1e-4 relative) and Cora VGAE
#     test AUC / AP within 0.5 points after 200 epochs;
#  2. benchmark: epoch times for Cora, Citeseer, Pubmed (dense, sampled) and the MNIST VAE on the GPU.
set -euo pipefail
VGAE="${1:-target/release/vgae}"
DATA="${2:-../shared/data}"
OUT="${OUT:-runs/gpu-check}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

for dev in cpu cuda; do
  "$VGAE" --device "$dev" train --dataset cora --model vgae --epochs 200 --seed 0 --out "$OUT/cora-$dev" --json > "$OUT/cora-$dev.json"
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
first = {d: json.loads(open(f"{out}/cora-{d}/metrics.jsonl").readline())["loss"] for d in ("cpu", "cuda")}
res = {d: json.load(open(f"{out}/cora-{d}.json")) for d in ("cpu", "cuda")}
rel = abs(first["cpu"] - first["cuda"]) / abs(first["cpu"])
print(f"loss after one step: cpu {first['cpu']:.6f} cuda {first['cuda']:.6f} relative diff {rel:.2e} (need <= 1e-4)")
ok = rel <= 1e-4
for k in ("test_auc", "test_ap"):
    d = 100 * abs(res["cpu"][k] - res["cuda"][k])
    print(f"{k}: cpu {100*res['cpu'][k]:.2f} cuda {100*res['cuda'][k]:.2f} diff {d:.2f} points (need <= 0.5)")
    ok &= d <= 0.5
print("PARITY", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY

"$VGAE" --device cuda --data-dir "$DATA" bench planetoid --epochs 20 --vae --out "$OUT/bench"
/usr/bin/time -v "$VGAE" --device cuda --data-dir "$DATA" reproduce table1 --seeds 10 --out "$OUT/table1" 2>&1 | tail -30
