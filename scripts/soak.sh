#!/usr/bin/env bash
# Soak test of kill safety (not in CI): SIGKILLs a `vgae train` run at N random moments (default 100), each
# time checking that every checkpoint on disk verifies (`vgae eval --verify-only`) and resuming; at the end the
# run's result.json, metrics.jsonl and final tensors must equal those of an uninterrupted run.
#
#   scripts/soak.sh [KILLS] [SEED]
#
# Random moments are drawn from SEED (default 1) over the uninterrupted run's measured duration, so some kills
# land mid-write; the counts of kills that hit a live process are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-100}
seed=${2:-1}
cargo build --release -p vgae-cli 2>&1 | tail -1
vgae=$PWD/target/release/vgae
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(train --dataset cora --model vgae --epochs 300 --checkpoint-every 1 --keep-last 2 --quiet --json)

start=$(date +%s.%N)
"$vgae" "${args[@]}" --out "$work/a" > /dev/null
total=$(echo "$(date +%s.%N) - $start" | bc)
echo "uninterrupted run: ${total} s"

verify_all() {
  [ -d "$1" ] || return 0 # killed before the run directory existed
  find "$1" -name '*.safetensors' ! -name '.*' -print0 | while IFS= read -r -d '' f; do
    "$vgae" --quiet eval --verify-only "$f" > /dev/null || { echo "soak: $f does not verify" >&2; exit 1; }
  done
}

RANDOM=$seed
hit=0
restarts=0
b=$work/b
for i in $(seq 1 "$kills"); do
  if [ -f "$b/result.json" ]; then
    # Finished: start over so every kill lands in a live run.
    rm -rf "$b"
    restarts=$((restarts + 1))
  fi
  if [ -f "$b/checkpoints/latest" ]; then
    "$vgae" --quiet resume "$b" > /dev/null 2>&1 &
  else
    rm -rf "$b"
    "$vgae" "${args[@]}" --out "$b" > /dev/null 2>&1 &
  fi
  pid=$!
  # A moment in [0, total): RANDOM is 0..32767.
  sleep "$(echo "scale=4; $total * $RANDOM / 32768" | bc)"
  if kill -9 "$pid" 2> /dev/null; then
    hit=$((hit + 1))
  fi
  wait "$pid" 2> /dev/null || true
  verify_all "$b"
done
# Finish the last run and compare it with the uninterrupted one.
if [ ! -f "$b/result.json" ]; then
  if [ -f "$b/checkpoints/latest" ]; then
    "$vgae" --quiet resume "$b" > /dev/null
  else
    rm -rf "$b"
    "$vgae" "${args[@]}" --out "$b" > /dev/null
  fi
fi
verify_all "$b"
python3 - "$work/a" "$b" <<'EOF'
import json, sys
a, b = sys.argv[1], sys.argv[2]
ra, rb = (json.load(open(f"{d}/result.json")) for d in (a, b))
keys = ["test_auc", "test_ap", "val_auc", "val_ap", "best_epoch", "best_test_auc", "epochs"]
bad = [k for k in keys if ra[k] != rb[k]]
ma, mb = (open(f"{d}/metrics.jsonl").read() for d in (a, b))
# Loss and AUC columns only: the per-epoch seconds differ between runs.
strip = lambda t: [{k: v for k, v in json.loads(l).items() if "seconds" not in k} for l in t.splitlines()]
if bad or strip(ma) != strip(mb):
    sys.exit(f"soak: the resumed run differs from the uninterrupted one: {bad or 'metrics.jsonl'}")
print("final run equals the uninterrupted one (result.json, metrics.jsonl)")
EOF
cmp <("$vgae" --quiet embed "$work/a" --out "$work/a.csv" > /dev/null; cat "$work/a.csv") \
    <("$vgae" --quiet embed "$b" --out "$work/b.csv" > /dev/null; cat "$work/b.csv") \
  && echo "final embeddings are bit-identical"
echo "soak: $kills kills ($hit hit a live process, $restarts finished runs restarted), every checkpoint verified"
