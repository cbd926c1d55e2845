#!/usr/bin/env bash
# lopper's speed against PyTorch's, measured in one run on this machine: lopper's `forward` and
# `train_step` benches and their PyTorch counterparts (bench_torch.py, bench_train_torch.py),
# on each thread count given (default 1 and 2), all JSON lines into one file, then the table of
# ratios (ratios.py). Nothing else should run meanwhile: every figure is a wall-clock median.
#
#   scripts/reference/side_by_side.sh [THREADS ...]     # REPS=5 by default
#
# Writes target/bench/side-by-side.jsonl (the raw lines) and prints the markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."

reps="${REPS:-5}"
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
py=.cache/reference-venv/bin/python
scripts/reference/setup.sh >/dev/null
mkdir -p target/bench
out=target/bench/side-by-side.jsonl
: > "$out"
# Build first, so that no build runs while anything is timed.
cargo bench --workspace --profile dev --bench forward --bench train_step --no-run
for t in "${threads[@]}"; do
    echo "== $t thread(s)" >&2
    RAYON_NUM_THREADS="$t" cargo bench --workspace --profile dev --bench forward -- "$reps" | tee -a "$out"
    "$py" scripts/reference/bench_torch.py --threads "$t" --reps "$reps" --json | tee -a "$out"
    plans="$PWD/target/bench/train_step_plans-$t.json"
    RAYON_NUM_THREADS="$t" cargo bench --workspace --profile dev --bench train_step -- "$reps" "$plans" | tee -a "$out"
    "$py" scripts/reference/bench_train_torch.py --threads "$t" --plans "$plans" --json | tee -a "$out"
done
"$py" scripts/reference/ratios.py "$out"
