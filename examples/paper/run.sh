#!/usr/bin/env bash
# Runs `paper` (examples/paper) with its arguments, built as `cargo test --workspace` builds the
# workspace (dependencies at opt-level 3): a workspace-wide build, so that Burn is not built a
# second time with other features, as `cargo run -p paper` would.
#   examples/paper/run.sh methods --scale reduced --tasks mrpc --seeds 0
#   examples/paper/run.sh report
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --workspace --bins --quiet
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
exec "$target_dir/debug/paper" "$@"
