#!/usr/bin/env bash
# Side-by-side benchmark of vgae against PyTorch / PyG references on this machine, in one session (issue 7).
#
#   scripts/bench_reference.sh [--threads 1,2] [--rounds N] [--skip-pubmed-dense-ref] [--skip-vae] [--build]
#                              [--out DIR] [--table-only]   (re-print the table from the JSON files in DIR;
#                                                             pass the run's --threads and --rounds again)
#
# --rounds N repeats every pair N times (round-robin over the whole list, so a slow spell of a shared VM hits
# one round, not one side) and reports each measure's median over rounds with the range of its per-round
# ratios. On a noisy 2-core VM (2026-12-04) one measure's ratio ranged from 4.5x to 8.0x over six passes.
#
# For every configuration, ours and the reference run back to back (interleaved), each in its own process, at
# every thread count in --threads; the table compares each side at its best thread count (both are listed in
# the detail table). Measures:
#   Cora dense     vgae bench one --loss dense    vs scripts/ref_gae_dense.py (PyTorch port of tkipf/gae, N² loss)
#   Cora sampled   vgae bench one --loss sampled  vs scripts/ref_pyg_gae.py   (PyG GAE, sampled negatives)
#   Pubmed dense   epoch and peak RSS, ours vs the dense port (≈ 8 GB, 10-15 s/epoch: few epochs)
#   Pubmed sampled vgae bench one --loss sampled  vs PyG GAE
#   MNIST VAE      vgae vae train --epochs 1 --iwae-k 0 --json vs scripts/vae_reference.py --epochs 1
# All graph runs are GAE with node features; epoch time is the median over measured epochs after warm-up.
#
# Environment: VGAE (binary, default target/release/vgae), VGAE_DATA_DIR (default /work/shared/data or
# ../shared/data), VENV (default .venv-bench), PYTHON (interpreter that creates the venv, default python3).
# The venv is created with --system-site-packages so an installed torch is reused; whatever is missing
# (torch, torch_geometric, numpy, scipy, scikit-learn) is pip-installed from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="1,2"
ROUNDS=1
SKIP_PUBMED_DENSE_REF=0
SKIP_VAE=0
BUILD=0
TABLE_ONLY=0
OUT="runs/bench-ref"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --skip-pubmed-dense-ref) SKIP_PUBMED_DENSE_REF=1; shift ;;
    --skip-vae) SKIP_VAE=1; shift ;;
    --build) BUILD=1; shift ;;
    --table-only) TABLE_ONLY=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# Epoch counts (warm-up + measured); bounded so the whole run stays within a few minutes (Pubmed dense ref
# dominates: ~1 min per thread setting).
CORA_DENSE_OURS="--warmup 2 --epochs 20";   CORA_DENSE_REF="--warmup 2 --epochs 12"
CORA_SAMPLED_OURS="--warmup 2 --epochs 50"; CORA_SAMPLED_REF="--warmup 2 --epochs 22"
PUB_DENSE_OURS="--warmup 1 --epochs 5";     PUB_DENSE_REF="--warmup 1 --epochs 4"
PUB_SAMPLED_OURS="--warmup 2 --epochs 20";  PUB_SAMPLED_REF="--warmup 2 --epochs 12"
TIMEOUT=900

VGAE="${VGAE:-target/release/vgae}"
if [ -z "${VGAE_DATA_DIR:-}" ]; then
  for d in /work/shared/data ../shared/data; do [ -d "$d" ] && VGAE_DATA_DIR="$d" && break; done
fi
export VGAE_DATA_DIR="${VGAE_DATA_DIR:?set VGAE_DATA_DIR to the directory holding planetoid/ and mnist/}"
VENV="${VENV:-.venv-bench}"
PY="$VENV/bin/python"
mkdir -p "$OUT"
LOG="$OUT/log.txt"
[ "$TABLE_ONLY" = 1 ] || : > "$LOG"
say() { echo "$*" | tee -a "$LOG" >&2; }

if [ "$TABLE_ONLY" = 0 ]; then
# ---- Python environment -------------------------------------------------------------------------------------
if [ ! -x "$PY" ]; then
  say "creating $VENV"
  "${PYTHON:-python3}" -m venv --system-site-packages "$VENV"
fi
need=()
"$PY" -c 'import torch' 2>/dev/null || need+=(torch)
"$PY" -c 'import torch_geometric' 2>/dev/null || need+=(torch_geometric)
"$PY" -c 'import numpy' 2>/dev/null || need+=(numpy)
"$PY" -c 'import scipy' 2>/dev/null || need+=(scipy)
"$PY" -c 'import sklearn' 2>/dev/null || need+=(scikit-learn)
if [ ${#need[@]} -gt 0 ]; then
  say "pip install ${need[*]}"
  "$PY" -m pip install -q "${need[@]}"
fi

# ---- Our binary ---------------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ] || [ ! -x "$VGAE" ]; then
  say "cargo build --release"
  cargo build --release -p vgae-cli
fi

# ---- Runs ---------------------------------------------------------------------------------------------------
# run NAME CMD...: runs CMD, keeps its full output in $OUT/NAME.out and its last JSON line in $OUT/NAME.json.
run() {
  local name="$1"; shift
  local t0=$SECONDS
  if timeout "$TIMEOUT" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"; then
    grep '^{' "$OUT/$name.out" | tail -n 1 > "$OUT/$name.json"
    say "$(printf '%-28s %4ds  %s' "$name" $((SECONDS - t0)) "$(cut -c1-150 "$OUT/$name.json")")"
  else
    say "$name FAILED (exit $?), see $OUT/$name.err"
    echo '{}' > "$OUT/$name.json"
  fi
}
# A private copy of the binary, so that a rebuild during the run (others' cargo builds) cannot change it.
cp "$VGAE" "$OUT/vgae-bin"
BIN="$OUT/vgae-bin"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1) (family $(lscpu | sed -n 's/^CPU family: *//p' | head -1), model $(lscpu | sed -n 's/^Model: *//p' | head -1)), $(nproc) cores; SIMD: $(grep -m1 -o -w 'avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "mem: $(free -g | awk '/Mem:/{print $2}') GB"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "vgae: $("$BIN" --version 2>/dev/null || echo '?'), git $(git describe --always --dirty 2>/dev/null || echo '?'), binary $VGAE built $(date -u -r "$VGAE" '+%Y-%m-%d %H:%M UTC')"
  echo "python: $("$PY" -W ignore -c 'import sys,torch,torch_geometric as g;print(sys.version.split()[0],"torch",torch.__version__,"torch_geometric",g.__version__)')"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" | tee -a "$LOG" >&2

IFS=',' read -r -a TS <<< "$THREADS"
for round in $(seq 1 "$ROUNDS"); do
# One round's files: NAME-tT (one round) or NAME-tT-rK.
R=""; [ "$ROUNDS" = 1 ] || R="-r$round"
for t in "${TS[@]}"; do
  run "cora-dense-ours-t$t$R"   "$BIN" --device cpu --threads "$t" --data-dir "$VGAE_DATA_DIR" bench one --dataset cora --loss dense $CORA_DENSE_OURS
  run "cora-dense-ref-t$t$R"    "$PY" scripts/ref_gae_dense.py --dataset cora --model gae --threads "$t" --quiet $CORA_DENSE_REF
done
for t in "${TS[@]}"; do
  run "cora-sampled-ours-t$t$R" "$BIN" --device cpu --threads "$t" --data-dir "$VGAE_DATA_DIR" bench one --dataset cora --loss sampled $CORA_SAMPLED_OURS
  run "cora-sampled-ref-t$t$R"  "$PY" scripts/ref_pyg_gae.py --dataset cora --model gae --threads "$t" --quiet $CORA_SAMPLED_REF
done
for t in "${TS[@]}"; do
  run "pubmed-dense-ours-t$t$R" "$BIN" --device cpu --threads "$t" --data-dir "$VGAE_DATA_DIR" bench one --dataset pubmed --loss dense $PUB_DENSE_OURS
  if [ "$SKIP_PUBMED_DENSE_REF" = 0 ]; then
    run "pubmed-dense-ref-t$t$R" "$PY" scripts/ref_gae_dense.py --dataset pubmed --model gae --threads "$t" --quiet $PUB_DENSE_REF
  fi
done
for t in "${TS[@]}"; do
  run "pubmed-sampled-ours-t$t$R" "$BIN" --device cpu --threads "$t" --data-dir "$VGAE_DATA_DIR" bench one --dataset pubmed --loss sampled $PUB_SAMPLED_OURS
  run "pubmed-sampled-ref-t$t$R"  "$PY" scripts/ref_pyg_gae.py --dataset pubmed --model gae --threads "$t" --quiet $PUB_SAMPLED_REF
done
if [ "$SKIP_VAE" = 0 ]; then
  for t in "${TS[@]}"; do
    rm -rf "$OUT/vae-ours-run-t$t$R"
    run "vae-ours-t$t$R" "$BIN" --device cpu --threads "$t" --data-dir "$VGAE_DATA_DIR" vae train --dataset mnist --epochs 1 --iwae-k 0 --json --out "$OUT/vae-ours-run-t$t$R"
    run "vae-ref-t$t$R"  "$PY" scripts/vae_reference.py --epochs 1 --threads "$t" --data-dir "$VGAE_DATA_DIR"
  done
fi
done  # rounds
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
fi  # TABLE_ONLY

# ---- Table --------------------------------------------------------------------------------------------------
"$PY" - "$OUT" "$THREADS" "$ROUNDS" <<'EOF' | tee "$OUT/table.md"
import json, os, statistics, sys
out, threads, rounds = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
suffixes = [""] if rounds == 1 else [f"-r{k}" for k in range(1, rounds + 1)]

def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.loads(f.read() or "{}")
    except (OSError, ValueError):
        return {}

def best(prefix, key, sfx):
    """(value, threads) minimising key over the thread counts in one round; (None, None) if not measured."""
    vals = [(load(f"{prefix}-t{t}{sfx}").get(key), t) for t in threads]
    vals = [(v, t) for v, t in vals if v is not None]
    return min(vals) if vals else (None, None)

def fmt(v, ts, unit):
    if v is None:
        return "–"
    s = f"{v * 1000:.1f} ms" if unit == "s" and v < 1 else (f"{v:.2f} s" if unit == "s" else f"{v:.0f} MB")
    return f"{s} (t={'/'.join(sorted(set(ts)))})"

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def span(xs, f):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    return f(statistics.median(xs)) + ("" if len(xs) == 1 else f" ({f(min(xs))}–{f(max(xs))})")

def sides(cfg, key):
    """Per round: ((ours, threads), (reference, threads))."""
    return [(best(f"{cfg}-ours", key, x), best(f"{cfg}-ref", key, x)) for x in suffixes]

def cells(per, unit):
    o = med([a[0] for a, _ in per]); r = med([b[0] for _, b in per])
    return o, r, fmt(o, [a[1] for a, _ in per if a[1]], unit), fmt(r, [b[1] for _, b in per if b[1]], unit)

# Targets: issue 15's (on 2 AVX2 cores) where it sets one, else issue 7's.
rows = []
def speed(label, cfg, target, need):
    per = sides(cfg, "median_epoch_seconds")
    _, _, oc, rc = cells(per, "s")
    ratios = [b[0] / a[0] if a[0] and b[0] else None for a, b in per]
    m = med(ratios)
    ok = "" if m is None else (" ✅" if m >= need else " ❌")
    rows.append((label, oc, rc, span(ratios, lambda v: f"{v:.1f}×"), target + ok))

speed("Cora, dense loss, epoch", "cora-dense", "≥ 12× (issue 15)", 12)
speed("Cora, sampled loss, epoch", "cora-sampled", "≥ 5× (issue 7)", 5)
per = sides("pubmed-dense", "median_epoch_seconds")
o, r, oc, rc = cells(per, "s")
rows.append(("Pubmed, dense loss, epoch", oc, rc, "ours " + span([a[0] for a, _ in per], lambda v: f"{v:.3f} s"),
             "ours ≤ 0.30 s (issue 15)" + ("" if o is None else (" ✅" if o <= 0.30 else " ❌"))))
# peak RSS of the same runs as the epoch times above
rss = med([load(f"pubmed-dense-ours-t{a[1]}{x}").get("peak_rss_mb") if a[1] else None
           for (a, _), x in zip(per, suffixes)])
rows.append(("Pubmed, dense loss, peak RSS", fmt(rss, [a[1] for a, _ in per if a[1]], "MB"), "–", "–",
             "ours ≤ 400 MB (issue 7)" + ("" if rss is None else (" ✅" if rss <= 400 else " ❌"))))
speed("Pubmed, sampled loss, epoch", "pubmed-sampled", "≥ 6× (issue 15)", 6)
per = sides("vae", "train_seconds")
if any(a[0] or b[0] for a, b in per):
    _, _, oc, rc = cells(per, "s")
    fr = [a[0] / b[0] if a[0] and b[0] else None for a, b in per]
    m = med(fr)
    rows.append(("MNIST VAE epoch (batch 100)", oc, rc, "ours = " + span(fr, lambda v: f"{v:.2f}×") + " its time",
                 "ours ≤ 0.6× its time (issue 15)" + ("" if m is None else (" ✅" if m <= 0.6 else " ❌"))))

if rounds > 1:
    print(f"{rounds} rounds: medians over rounds, each side at its best thread count in each round; the ratio's "
          "median, then its range over rounds in brackets. Verdicts use the median.\n")
print("| measure | ours | reference | ratio (reference / ours) | target |")
print("|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")

print("\nAll runs (median epoch seconds; peak RSS MB; reference test AUC is after the few epochs run, not a result):\n")
print("| run | round | threads | median epoch (s) | peak RSS (MB) | epochs measured |")
print("|---|---|---|---|---|---|")
for cfg in ["cora-dense", "cora-sampled", "pubmed-dense", "pubmed-sampled"]:
    for side in ["ours", "ref"]:
        for t in threads:
            for k, x in enumerate(suffixes, 1):
                m = load(f"{cfg}-{side}-t{t}{x}")
                if m:
                    n = m.get("epochs_measured", m.get("epochs", 0))
                    print(f"| {cfg} {side} | {k} | {t} | {m.get('median_epoch_seconds', float('nan')):.4f} | "
                          f"{m.get('peak_rss_mb') or float('nan'):.0f} | {n} |")
for side in ["ours", "ref"]:
    for t in threads:
        for k, x in enumerate(suffixes, 1):
            m = load(f"vae-{side}-t{t}{x}")
            if m:
                print(f"| mnist-vae {side} (1 epoch, train_seconds) | {k} | {t} | "
                      f"{m.get('train_seconds', float('nan')):.3f} | – | 1 |")
EOF
say "results in $OUT (table.md, *.json, machine.txt)"
