#!/usr/bin/env bash
# Fidelity of lopper's RFP to Kwon et al. (2022): a `standard` fine-tuned all-MiniLM-L6-v2 on
# MRPC (the paper protocol: 70/30 split of the official train set, the dev set as test; seed
# 0), pruned at MAC constraints 0.9 … 0.5 (Kwon's metric, at the sample's mean length) with
# the Fisher on 2,048 training examples; after the mask search, the rearrangement and the mask
# tuning, the dev (test) accuracy and F1 and each step's time. Resumable: run it again and the
# fine-tuning and every finished budget are skipped (runs/ keeps them). The table it prints is
# the one in results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The workspace's binaries, built as `cargo test --workspace` builds them (dependencies at
# opt-level 3), so that no second Burn build is needed.
cargo build --workspace --bins
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
LOPPER=${LOPPER:-$target_dir/debug/lopper}
DATA=${DATA:-../shared/data/glue}
MODEL=${MODEL:-.cache/models/all-MiniLM-L6-v2}
[ -d "$MODEL" ] || bash scripts/fetch-minilm.sh >/dev/null
"$LOPPER" train --task mrpc --data "$DATA" --model "$MODEL" --strategy standard \
    --epochs 5 --batch-size 4 --seed 0 --out runs/mrpc-standard --quiet
"$LOPPER" baseline rfp --train-run runs/mrpc-standard --constraint macs \
    --budgets 0.9,0.8,0.7,0.6,0.5 --sample 2048 --seed 0 --out runs/mrpc-rfp-macs-2
