#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted bytes with AFL++ through cargo-afl (stable Rust).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]      (default: 60 s, every target)
#   FUZZ_EXECS=1000000 scripts/fuzz.sh 0 [TARGET ...]      (each target until a million executions)
#
# Needs `cargo install cargo-afl` (it builds AFL++ itself) and ../shared/data (or VGAE_DATA_DIR) for the
# seeds: the real Planetoid, IDX and MAT files where they are small, plus inputs made here (a small edge list,
# its split, a tiny checkpoint and its config, the shipped grid files, small IDX and MAT files). Each target
# runs under a 1 s hang timeout and a 512 MB address-space limit (AFL's -m). Prints one line per target:
# executions, executions per second, crashes, hangs. Crashing and hanging inputs are copied to
# fuzz/regressions/<target>/: commit them; crates/vgae-core/tests/fuzz_regressions.rs replays every file there.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
data=${VGAE_DATA_DIR:-../shared/data}
work=${FUZZ_WORK:-target/fuzz}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(pickle_csr pickle_onehot pickle_graph test_index idx mat edge_list split checkpoint run_config grid)
fi
[ -d "$data/planetoid" ] || { echo "fuzz.sh: no planetoid/ under $data (set VGAE_DATA_DIR)" >&2; exit 1; }

cargo afl build --release --manifest-path fuzz/Cargo.toml 2>&1 | tail -1
cargo build --release -p vgae-cli 2>&1 | tail -1
bin=fuzz/target/release/vgae-fuzz
vgae=target/release/vgae

# Seeds, made fresh each run (never committed: they come from ../shared/data).
rm -rf "$work/seeds" && mkdir -p "$work/seeds"
seed() { mkdir -p "$work/seeds/$1"; cp "${@:2}" "$work/seeds/$1/"; }
p=$data/planetoid
seed pickle_csr "$p/ind.cora.x"
seed pickle_onehot "$p/ind.citeseer.y" "$p/ind.pubmed.y"
mkdir -p "$work/seeds/pickle_graph"
python3 - "$work/seeds/pickle_graph/small.graph" <<'EOF'
import collections, pickle, sys
g = collections.defaultdict(list, {0: [1, 2], 1: [0, 3], 2: [0], 3: [1, 3]})
open(sys.argv[1], "wb").write(pickle.dumps(g, protocol=2))
EOF
seed test_index "$p/ind.cora.test.index" "$p/ind.citeseer.test.index"
mkdir -p "$work/seeds/idx"
cp "$data/mnist/t10k-labels-idx1-ubyte.gz" "$work/seeds/idx/"
python3 - "$data/mnist/t10k-images-idx3-ubyte.gz" "$work/seeds/idx" <<'EOF'
import gzip, struct, sys
raw = gzip.open(sys.argv[1]).read()
small = struct.pack(">IIII", 0x803, 3, 28, 28) + raw[16:16 + 3 * 784]
open(sys.argv[2] + "/three-images-idx3-ubyte", "wb").write(small)
open(sys.argv[2] + "/three-images-idx3-ubyte.gz", "wb").write(gzip.compress(small))
EOF
"$bin" seeds "$work/seeds/mat"
mkdir -p "$work/seeds/edge_list"
printf 'source,target,weight\n0,1,1.5\n1,2,2\n2,0,0.5\n2,3,1\n' > "$work/seeds/edge_list/weighted.csv"
printf '# a comment\n"Smith, John"\tJane\nJane\tBob\nBob\t"Smith, John"\n' > "$work/seeds/edge_list/quoted.tsv"
printf '1 2\n2 3\n3 4\n4 1\n1 3\n' > "$work/seeds/edge_list/plain.txt"
python3 -c "
import random
r = random.Random(0)
print('\n'.join(f'{u},{v}' for u, v in {(min(a, b), max(a, b)) for a, b in ((r.randrange(40), r.randrange(40)) for _ in range(160)) if a != b}))
" > "$work/graph.csv"
mkdir -p "$work/seeds/split" "$work/seeds/checkpoint" "$work/seeds/run_config" "$work/seeds/grid"
"$vgae" --quiet split make "$work/graph.csv" --seed 0 --out "$work/seeds/split/graph.split.safetensors" > /dev/null
rm -rf "$work/run"
"$vgae" --quiet train --dataset "$work/graph.csv" --features none --hidden 4 --latent 2 --epochs 2 \
  --out "$work/run" > /dev/null
cp "$work/run/model.safetensors" "$work/seeds/checkpoint/"
cp "$work/run/config.json" "$work/seeds/run_config/"
cp grids/*.toml "$work/seeds/grid/"

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
printf '%-14s %12s %10s %8s %6s\n' target executions execs/s crashes hangs
found=0
for t in "${targets[@]}"; do
  out="$work/out/$t"
  rm -rf "$out" && mkdir -p "$work/out"
  if [ -n "${FUZZ_EXECS:-}" ]; then limit=(-E "$FUZZ_EXECS"); else limit=(-V "$secs"); fi
  VGAE_FUZZ_TARGET=$t cargo afl fuzz -i "$work/seeds/$t" -o "$out" "${limit[@]}" -t 1000 -m 512 -- "$bin" \
    > "$work/$t.log" 2>&1 || { echo "fuzz.sh: afl-fuzz failed on $t (see $work/$t.log)" >&2; exit 1; }
  stats="$out/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  printf '%-14s %12s %10s %8s %6s\n' "$t" "$(get execs_done)" "$(get execs_per_sec)" \
    "$(get saved_crashes)" "$(get saved_hangs)"
  for kind in crashes hangs; do
    for f in "$out"/default/$kind/id*; do
      [ -e "$f" ] || continue
      mkdir -p "fuzz/regressions/$t"
      cp "$f" "fuzz/regressions/$t/$(sha256sum "$f" | cut -c1-16)"
      found=$((found + 1))
    done
  done
done
if [ "$found" -gt 0 ]; then
  echo "fuzz.sh: $found crashing or hanging inputs, copied to fuzz/regressions/" >&2
  exit 1
fi
