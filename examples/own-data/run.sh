#!/usr/bin/env bash
# The worked example of "your own data in, standard models out" (book: Deploying a pruned
# model): the movie-review snippets written out as CSV files of one's own, pruned with the
# demo's settings (examples/own-data/pipeline.toml), exported in both standard formats, the
# `hf` export loaded by transformers and the `onnx` one run by ONNX Runtime.
#
#   examples/own-data/run.sh          (resumable: run it again after a kill)
#
# Needs scripts/reference/setup.sh's venv (torch, transformers, onnxruntime) for the check;
# everything before the check is lopper alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --workspace --bins
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lopper="$target_dir/debug/lopper"
bash scripts/fetch-minilm.sh >/dev/null
reviews="$(bash scripts/fetch-movie-reviews.sh | tail -n 1)"
python3 examples/own-data/write_csv.py "$reviews/movieReviewSnippets_GroundTruth.txt" .cache/data/reviews-csv

# Train, search, select, export (hf) and evaluate: one pipeline file.
"$lopper" run examples/own-data/pipeline.toml
run=runs/own-data
# The same sub-network as ONNX, and the unpruned fine-tuned network as ONNX to compare with.
"$lopper" export --format onnx --model "$run/train/best" --subnet "@$run/selected.json" --out "$run/export-onnx"
"$lopper" export --format onnx --model "$run/train/best" --subnet full --out "$run/full-onnx"

scripts/reference/setup.sh >/dev/null
.cache/reference-venv/bin/python examples/own-data/check.py "$run" .cache/data/reviews-csv/test.csv "$run/train/best"
