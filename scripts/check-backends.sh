#!/usr/bin/env bash
# Runs lopper-model's tests (the PyTorch reference fixtures included) on Burn's libtorch
# backend (feature `tch`) instead of the default pure-Rust Flex backend.
#
#   scripts/check-backends.sh              # build and run `cargo test -p lopper-model` on tch
#   scripts/check-backends.sh --clippy     # also clippy (-D warnings) with the tch feature first
#   scripts/check-backends.sh -- FILTER    # arguments after `--` go to the test binaries
#
# libtorch comes from PyPI's torch==2.9.0 (the version torch-sys 0.22 expects), found through
# Python (LIBTORCH_USE_PYTORCH=1): the reference venv of scripts/reference/setup.sh is reused
# when it holds that torch, otherwise .cache/tch-venv is created with torch alone (several GB:
# PyPI's Linux torch wheel pulls the nvidia-*-cu12 packages). Everything runs on the CPU.
#
# The build goes to its own target directory (default target/tch, or CARGO_TARGET_DIR) so the
# Flex build in target/ is not invalidated. The log is tee'd to .cache/check-backends.log; the
# last line is a summary of the test counts. Exit status: clippy's if it failed, else cargo test's.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

torch_pin="2.9.0"
run_clippy=0
test_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --clippy) run_clippy=1 ;;
        --) shift; test_args=("$@"); break ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-backends.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

mkdir -p .cache
log=".cache/check-backends.log"
: > "$log"
say() { echo "check-backends: $*" | tee -a "$log" >&2; }

# The installed torch version of a venv, or nothing.
torch_version() {
    "$1/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true
}

# 1. A venv with torch==2.9.0.
venv=""
for candidate in "${TCH_VENV:-}" .cache/reference-venv .cache/tch-venv; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/python" ] || continue
    version="$(torch_version "$candidate")"
    if [ "${version%%+*}" = "$torch_pin" ]; then
        venv="$candidate"
        break
    fi
done
if [ -z "$venv" ]; then
    venv="${TCH_VENV:-.cache/tch-venv}"
    say "creating $venv with torch==$torch_pin (large download)"
    if [ ! -x "$venv/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "torch==$torch_pin"
fi
venv="$(cd "$venv" && pwd)"

# 2. The environment torch-sys and the test binaries need.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
torch_lib="$(python -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/tch}"

say "venv $venv (torch $(torch_version "$venv"))"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
say "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

features=(-p lopper-model --no-default-features --features tch)
start=$(date +%s)
clippy_status=0

if [ "$run_clippy" = 1 ]; then
    say "cargo clippy ${features[*]} --all-targets -- -D warnings"
    cargo clippy "${features[@]}" --all-targets -- -D warnings 2>&1 | tee -a "$log" \
        || clippy_status=$?
    [ "$clippy_status" = 0 ] || say "clippy failed (exit $clippy_status); running the tests anyway"
fi

# --show-output prints the passing tests' stdout too (the worst max-abs-diff lines).
say "cargo test ${features[*]} --no-fail-fast -- --show-output ${test_args[*]:-}"
test_status=0
cargo test "${features[@]}" --no-fail-fast -- --show-output "${test_args[@]}" 2>&1 \
    | tee -a "$log" || test_status=$?
status=$clippy_status
[ "$status" != 0 ] || status=$test_status

# 3. The summary: the sums over every `test result:` line of the run.
elapsed=$(( $(date +%s) - start ))
read -r passed failed ignored binaries < <(
    grep -E '^test result: ' "$log" | awk '
        { for (i = 1; i <= NF; i++) {
              if ($(i + 1) ~ /^passed;?$/)  p += $i
              if ($(i + 1) ~ /^failed;?$/)  f += $i
              if ($(i + 1) ~ /^ignored;?$/) g += $i
          }
          n++ }
        END { printf "%d %d %d %d\n", p, f, g, n }'
)
diffs="$(grep -E '^[A-Za-z].*max abs diff' "$log" || true)"
if [ -n "$diffs" ]; then
    while IFS= read -r line; do say "$line"; done <<< "$diffs"
fi
if [ "$test_status" = 0 ]; then verdict="tests ok"; else verdict="tests FAILED (exit $test_status)"; fi
if [ "$run_clippy" = 1 ]; then
    if [ "$clippy_status" = 0 ]; then verdict+=", clippy ok"; else verdict+=", clippy FAILED"; fi
fi
say "summary: tch backend $verdict: $passed passed, $failed failed, $ignored ignored in $binaries test binaries, ${elapsed}s (log: $log)"
exit "$status"
