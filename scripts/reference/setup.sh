#!/usr/bin/env bash
# Creates (idempotently) the Python reference environment used by scripts/reference/*.py:
# a venv at .cache/reference-venv (git-ignored) with pinned torch, transformers,
# sentence-transformers, safetensors and numpy from PyPI.
#
#   scripts/reference/setup.sh            # create or reuse, then print the installed versions
#   REFERENCE_VENV=/some/dir scripts/reference/setup.sh
#
# PyPI's torch wheel for Linux x86-64 depends on the nvidia-*-cu12 packages (several GB);
# PyPI serves no CPU-only build of torch under any name, so they come along. The scripts
# only ever run on the CPU. A stamp file records the pins: re-running with the same pins does
# nothing but print the versions.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${REFERENCE_VENV:-.cache/reference-venv}"
python="${PYTHON:-python3.11}"

# Pins, verified together (torch 2.9.0 was released with transformers 4.57.x; transformers
# 5 also dropped head_mask handling in BERT, which the fixtures do not rely on anyway).
pins=(
    "torch==2.9.0"
    "transformers==4.57.6"
    "tokenizers==0.22.2"
    "safetensors==0.6.2"
    "numpy==2.3.4"
    "sentence-transformers==5.1.2"
    # The exports' checks (make_export_fixtures.py, examples/own-data/check.py).
    "onnxruntime==1.31.1"
    "onnx==1.23.2"
)
stamp="$venv/.lopper-reference-pins"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ]; then
    echo "reference venv up to date: $venv" >&2
else
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "${pins[@]}"
    printf '%s' "${pins[*]}" > "$stamp"
fi

"$venv/bin/python" - <<'PY'
import importlib.metadata as md
import sys
print(f"python {sys.version.split()[0]}")
for name in ["torch", "transformers", "tokenizers", "safetensors", "numpy", "sentence-transformers", "onnxruntime", "onnx", "scipy", "scikit-learn", "huggingface-hub"]:
    try:
        print(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name} (not installed)")
PY
