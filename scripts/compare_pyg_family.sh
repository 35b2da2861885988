#!/usr/bin/env bash
# Ours against PyG's ARGA / ARGVA / linear GAE on the same splits (issue 16).
#
#   scripts/compare_pyg_family.sh [--datasets cora,citeseer,pubmed] [--seeds 10] [--seed-start 0]
#                                 [--models arga,argva,linear-gae] [--epochs 200] [--lr 0.01] [--threads 2]
#                                 [--dense cora,citeseer] [--out DIR] [--table-only]
#
# For every dataset and seed s: `vgae split make <dataset> --seed s` writes DIR/splits/<dataset>-s<s>.safetensors
# (the same split `vgae train --seed s` draws by itself: both seed the split with stream 0 of s), then for
# every model, each in its own process, back to back (which side goes first alternates with the seed, so
# contention from other work on the machine hits both alike):
#   ours  vgae train --dataset D --model M --loss sampled --seed s --epochs E --lr LR --split FILE --json
#   PyG   scripts/pyg_family.py --split FILE --dataset D --model M --seed s --epochs E --lr LR
# and, for the datasets in --dense (default cora,citeseer; "none" for none), ours again with --loss dense (an
# extra column; PyG has no dense loss). Everything runs under `nice -n 5` with --threads on both sides;
# /proc/loadavg is recorded before every run. Test AUC / AP are at the last epoch on both sides; the epoch time
# is the median training step (ours: metrics.jsonl `seconds`; PyG: the script's median_epoch_seconds).
# Results: DIR/<dataset>-<model>-s<seed>-{ours,pyg,ours-dense}.json, DIR/machine.txt, DIR/log.txt, DIR/table.md.
# Runs whose JSON already exists are skipped (so the script can be resumed or extended with more seeds);
# --table-only re-prints the table from DIR.
#
# Environment: VGAE (binary; default /tmp/vgae-pyg/vgae, a private copy so a rebuild cannot change it mid-run),
# VGAE_DATA_DIR (default /work/shared/data), PY (default .venv-bench/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

DATASETS="cora,citeseer,pubmed"
SEEDS=10
SEED_START=0
MODELS="arga,argva,linear-gae"
EPOCHS=200
LR=0.01
THREADS=2
DENSE="cora,citeseer"
OUT="runs/pyg-family"
TABLE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --datasets) DATASETS="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --seed-start) SEED_START="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    --epochs) EPOCHS="$2"; shift 2 ;;
    --lr) LR="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --dense) DENSE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --table-only) TABLE_ONLY=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

VGAE="${VGAE:-/tmp/vgae-pyg/vgae}"
export VGAE_DATA_DIR="${VGAE_DATA_DIR:-/work/shared/data}"
PY="${PY:-.venv-bench/bin/python}"
TIMEOUT=3600
mkdir -p "$OUT/splits" "$OUT/rundirs"
LOG="$OUT/log.txt"
say() { echo "$*" | tee -a "$LOG" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

if [ "$TABLE_ONLY" = 0 ]; then
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores (nproc), family $(lscpu | sed -n 's/^CPU family: *//p' | head -1) model $(lscpu | sed -n 's/^Model: *//p' | head -1), avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no) (ours picks its AVX-512F kernel builds at run time when present)"
  echo "mem: $(free -g | awk '/Mem:/{print $2}') GB"
  echo "vgae: $("$VGAE" --version 2>/dev/null || echo '?'), binary $VGAE sha256 $(sha256sum "$VGAE" | cut -c1-16), mtime $(date -u -r "$VGAE" '+%Y-%m-%d %H:%M UTC'), repo git $(git describe --always --dirty 2>/dev/null || echo '?')"
  echo "python: $("$PY" -W ignore -c 'import sys,torch,torch_geometric as g;print(sys.version.split()[0],"torch",torch.__version__,"torch_geometric",g.__version__)' 2>/dev/null)"
  echo "settings: epochs $EPOCHS, lr $LR, threads $THREADS, nice -n 5"
} >> "$OUT/machine.txt"
say "$(tail -n 6 "$OUT/machine.txt")"

# run NAME CMD...: CMD's last JSON line, with the load average before it, into $OUT/NAME.json.
run() {
  local name="$1"; shift
  if [ -s "$OUT/$name.json" ]; then return 0; fi
  local t0=$SECONDS la
  la="$(load)"
  if timeout "$TIMEOUT" nice -n 5 "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"; then
    grep '^{' "$OUT/$name.out" | tail -n 1 | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
d["loadavg_before"] = sys.argv[1]
d["wall_seconds"] = int(sys.argv[2])
rd = d.get("run_dir")
if rd:  # ours: the median training step from metrics.jsonl
    import numpy as np
    s = [json.loads(l)["seconds"] for l in open(rd + "/metrics.jsonl")]
    d["median_epoch_seconds"] = float(np.median(s))
print(json.dumps(d))' "$la" $((SECONDS - t0)) > "$OUT/$name.json.tmp" && mv "$OUT/$name.json.tmp" "$OUT/$name.json"
    say "$(printf '%-34s %4ds load %-15s %s' "$name" $((SECONDS - t0)) "$la" \
      "$("$PY" -c 'import json,sys;d=json.load(open(sys.argv[1]));print("AUC %.4f AP %.4f epoch %.4f s" % (d["test_auc"], d["test_ap"], d["median_epoch_seconds"]))' "$OUT/$name.json")")"
  else
    say "$name FAILED (exit $?), see $OUT/$name.err"
  fi
}

IFS=',' read -r -a DS <<< "$DATASETS"
IFS=',' read -r -a MS <<< "$MODELS"
for ds in "${DS[@]}"; do
  for ((s = SEED_START; s < SEED_START + SEEDS; s++)); do
    split="$OUT/splits/$ds-s$s.safetensors"
    [ -s "$split" ] || nice -n 5 "$VGAE" -q --device cpu --threads "$THREADS" split make "$ds" --seed "$s" --out "$split" >> "$LOG"
    for m in "${MS[@]}"; do
      ours=(run "$ds-$m-s$s-ours" "$VGAE" -q --device cpu --threads "$THREADS" train --dataset "$ds" --model "$m"
            --loss sampled --seed "$s" --epochs "$EPOCHS" --lr "$LR" --split "$split" --json
            --out "$OUT/rundirs/$ds-$m-s$s-ours" --overwrite)
      pyg=(run "$ds-$m-s$s-pyg" "$PY" scripts/pyg_family.py --split "$split" --dataset "$ds" --model "$m"
           --seed "$s" --epochs "$EPOCHS" --lr "$LR" --threads "$THREADS" --quiet)
      if [ $((s % 2)) = 0 ]; then "${ours[@]}"; "${pyg[@]}"; else "${pyg[@]}"; "${ours[@]}"; fi
      if [[ ",$DENSE," == *",$ds,"* ]]; then
        run "$ds-$m-s$s-ours-dense" "$VGAE" -q --device cpu --threads "$THREADS" train --dataset "$ds" --model "$m" \
            --loss dense --seed "$s" --epochs "$EPOCHS" --lr "$LR" --split "$split" --json \
            --out "$OUT/rundirs/$ds-$m-s$s-ours-dense" --overwrite
      fi
    done
  done
done
echo "load after: $(load) at $(date -u '+%H:%M UTC')" >> "$OUT/machine.txt"
fi  # TABLE_ONLY

# ---- Table --------------------------------------------------------------------------------------------------
"$PY" - "$OUT" <<'EOF' | tee "$OUT/table.md"
import glob, json, os, re, sys
import numpy as np
out = sys.argv[1]
runs = {}
for p in glob.glob(os.path.join(out, "*.json")):
    m = re.match(r"(\w+)-([\w-]+)-s(\d+)-(ours-dense|ours|pyg)\.json$", os.path.basename(p))
    if m:
        with open(p) as f:
            runs[(m[1], m[2], int(m[3]), m[4])] = json.load(f)
order_ds = ["cora", "citeseer", "pubmed"]
order_m = ["arga", "argva", "linear-gae", "linear-vgae"]
cells = sorted({(d, m) for d, m, _, _ in runs}, key=lambda c: (order_ds.index(c[0]), order_m.index(c[1])))
names = {"arga": "ARGA", "argva": "ARGVA", "linear-gae": "Linear GAE", "linear-vgae": "Linear VGAE"}

def ms(v):
    v = np.asarray(v) * 100
    return f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0:.2f}"

print("Test AUC / AP in % at the last epoch, mean ± sample std (ddof 1) over the seeds that both sides ran on the")
print("same split; diff = ours − PyG (means, points); pass: ours ≥ PyG − 0.5 on AUC and on AP. Epoch = median")
print("training step per run, then the median over runs; ratio = median over seeds of (PyG epoch / ours epoch),")
print("both measured back to back in the same invocation; fastest runs = the smallest PyG epoch over the seeds")
print("divided by the smallest of ours (the least disturbed run of each side, when other work shares the cores).\n")
print("| dataset | model | seeds | ours AUC | PyG AUC | diff | ours AP | PyG AP | diff | pass | ours epoch (ms) | PyG epoch (ms) | PyG / ours | fastest runs PyG / ours |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
fails = []
for d, m in cells:
    seeds = sorted(s for (dd, mm, s, side) in runs if dd == d and mm == m and side == "ours" and (d, m, s, "pyg") in runs)
    if not seeds:
        continue
    o = [runs[(d, m, s, "ours")] for s in seeds]
    p = [runs[(d, m, s, "pyg")] for s in seeds]
    oa, pa = [r["test_auc"] for r in o], [r["test_auc"] for r in p]
    op, pp = [r["test_ap"] for r in o], [r["test_ap"] for r in p]
    da, dp = 100 * (np.mean(oa) - np.mean(pa)), 100 * (np.mean(op) - np.mean(pp))
    ok = da >= -0.5 and dp >= -0.5
    if not ok:
        fails.append(f"{d} {names[m]}")
    oe = [r["median_epoch_seconds"] for r in o]
    pe = [r["median_epoch_seconds"] for r in p]
    ratio = np.median([b / a for a, b in zip(oe, pe)])
    print(f"| {d} | {names[m]} | {len(seeds)} | {ms(oa)} | {ms(pa)} | {da:+.2f} | {ms(op)} | {ms(pp)} | {dp:+.2f} | "
          f"{'✅' if ok else '❌'} | {1000 * np.median(oe):.1f} | {1000 * np.median(pe):.1f} | {ratio:.2f}× | "
          f"{min(pe) / min(oe):.2f}× |")
print()
dense = [(d, m) for d, m in cells if any((d, m, s, "ours-dense") in runs for s in range(1000))]
if dense:
    print("Ours with the dense loss (weighted BCE over all N² pairs; PyG has no such loss), same splits and seeds:\n")
    print("| dataset | model | seeds | ours dense AUC | ours dense AP | ours dense epoch (ms) |")
    print("|---|---|---|---|---|---|")
    for d, m in dense:
        r = [runs[k] for k in sorted(runs) if k[:2] == (d, m) and k[3] == "ours-dense"]
        print(f"| {d} | {names[m]} | {len(r)} | {ms([x['test_auc'] for x in r])} | {ms([x['test_ap'] for x in r])} | "
              f"{1000 * np.median([x['median_epoch_seconds'] for x in r]):.1f} |")
    print()
loads = [float(r["loadavg_before"].split()[0]) for r in runs.values() if "loadavg_before" in r]
if loads:
    print(f"1-minute load average before the {len(loads)} runs: min {min(loads):.2f}, median {np.median(loads):.2f}, "
          f"max {max(loads):.2f} (2 cores).")
print("Cells below PyG − 0.5: " + (", ".join(fails) if fails else "none") + ".")
EOF
