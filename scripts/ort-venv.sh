#!/usr/bin/env bash
# Creates (idempotently) the small Python environment the ONNX export is checked in: a venv at
# .cache/ort-venv (git-ignored) with pinned onnxruntime, onnx (its checker) and numpy from
# PyPI. The tests call it the way they fetch the model; Python is never a dependency of
# lopper itself, only of this check.
#
#   scripts/ort-venv.sh        # create or reuse; prints the venv's python on its last line
#   ORT_VENV=/some/dir scripts/ort-venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ORT_VENV:-.cache/ort-venv}"
python="${PYTHON:-python3}"
pins=(
    "onnxruntime==1.31.1"
    "onnx==1.23.2"
    "numpy==2.3.4"
)
stamp="$venv/.lopper-ort-pins"

if ! { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ]; }; then
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" >&2
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "${pins[@]}" >&2
    printf '%s' "${pins[*]}" > "$stamp"
fi
echo "$venv/bin/python"
