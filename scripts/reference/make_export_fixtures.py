"""Writes tests/fixtures/reference/export-hf.json: what transformers computes from the `hf`
exports (`lopper export --format hf`) of narrowed sub-networks of the real all-MiniLM-L6-v2,
on the bare encoder and with a sequence-classification head.

Regenerate, from the repository root, after `cargo build`:

    scripts/reference/setup.sh && .cache/reference-venv/bin/python scripts/reference/make_export_fixtures.py

The script runs `target/debug/lopper export` (or $LOPPER) itself; the Rust test
crates/lopper-model/tests/exports.rs exports the same sub-networks, runs lopper's sliced
sub-network and compares with the outputs recorded here (1e-4). The classification model is
all-MiniLM-L6-v2 under a 3-label BertForSequenceClassification config; lopper draws its head
from seed 0, as `lopper export` does, and the test draws the same. Deterministic: float32,
CPU, one thread, eval mode.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "reference" / "export-hf.json"
MAX_LEN = 32
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# Per-layer heads and units (original indices); None drops the layer. Layers of different
# widths, a dropped layer in the middle, scattered indices: what the padding and pruned_heads
# must get right.
NARROW = {
    "layers": [
        {"heads": list(range(12)), "units": list(range(1536))},
        {"heads": [1, 3, 5, 6, 7, 9, 10], "units": list(range(0, 1536, 2))[:700]},
        {"heads": [8, 10, 11], "units": list(range(5, 1536, 4))[:300]},
        None,
        {"heads": [0, 1, 2, 3, 4, 5, 7, 8, 9], "units": list(range(100, 1300))},
        {"heads": [2, 11], "units": list(range(64))},
    ]
}
# Every layer at one width (the small space's shape): no padding at all.
UNIFORM = {
    "layers": [{"heads": list(range(6)), "units": list(range(768))}] * 4 + [None, None]
}

TEXTS = [
    ("a quiet, devastating film about grief", None),
    ("The best thing I saw this year.", "Was it any good?"),
    ("short", None),
]


def versions() -> dict:
    names = ["torch", "transformers", "tokenizers", "safetensors", "numpy"]
    out = {"python": sys.version.split()[0]}
    out.update({n: md.version(n) for n in names})
    return out


def lopper_export(model: Path, subnet: dict, out: Path, work: Path) -> None:
    spec = work / "subnet.json"
    spec.write_text(json.dumps(subnet))
    exe = os.environ.get("LOPPER", str(ROOT / "target" / "debug" / "lopper"))
    subprocess.run(
        [exe, "export", "--model", str(model), "--subnet", f"@{spec}", "--out", str(out), "--format", "hf"],
        check=True,
    )


def main() -> None:
    minilm = Path(
        subprocess.run(["bash", str(ROOT / "scripts" / "fetch-minilm.sh")], check=True,
                       capture_output=True, text=True).stdout.strip().splitlines()[-1]
    )
    minilm = (ROOT / minilm).resolve()
    tok = AutoTokenizer.from_pretrained(str(minilm))
    enc = tok([t for t, _ in TEXTS], [p or "" for _, p in TEXTS], padding=True, truncation=True,
              max_length=MAX_LEN, return_tensors="np")
    # A single sentence is tokenized without its pair: redo those rows alone.
    rows = [tok(t, p, truncation=True, max_length=MAX_LEN) for t, p in TEXTS]
    seq = max(len(r["input_ids"]) for r in rows)
    inputs = {k: [r[k] + [0] * (seq - len(r[k])) for r in rows]
              for k in ["input_ids", "token_type_ids", "attention_mask"]}
    del enc

    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cls_src = work / "minilm-cls"
        cls_src.mkdir()
        for f in minilm.iterdir():
            if f.is_file() and f.name != "config.json":
                os.symlink(f, cls_src / f.name)
        config = json.loads((minilm / "config.json").read_text())
        config.update({"architectures": ["BertForSequenceClassification"], "num_labels": 3})
        config.pop("id2label", None)
        config.pop("label2id", None)
        (cls_src / "config.json").write_text(json.dumps(config))

        for name, source, subnet, head in [
            ("bare-narrow", minilm, NARROW, False),
            ("bare-uniform", minilm, UNIFORM, False),
            ("cls-narrow", cls_src, NARROW, True),
        ]:
            out = work / name
            lopper_export(source, subnet, out, work)
            exported = json.loads((out / "config.json").read_text())
            cls = AutoModelForSequenceClassification if head else AutoModel
            model = cls.from_pretrained(str(out), attn_implementation="eager").eval()
            layers = model.bert.encoder.layer if head else model.encoder.layer
            feeds = {k: torch.tensor(np.asarray(v, dtype=np.int64)) for k, v in inputs.items()}
            with torch.no_grad():
                result = model(**feeds)
            output = result.logits if head else result.last_hidden_state
            cases.append({
                "name": name,
                "source": "minilm-cls" if head else "minilm",
                "subnet": subnet,
                "output": "logits" if head else "last_hidden_state",
                "values": np.round(output.numpy().astype(np.float64), 7).tolist(),
                "config": {k: exported[k] for k in ["num_hidden_layers", "intermediate_size", "pruned_heads", "lopper_units"]},
                "transformers_heads": [l.attention.self.num_attention_heads for l in layers],
                "transformers_units": [l.intermediate.dense.out_features for l in layers],
                "weights_bytes": (out / "model.safetensors").stat().st_size,
            })
            print(f"{name}: {cases[-1]['transformers_heads']} heads, {cases[-1]['transformers_units']} units",
                  file=sys.stderr)

    fixture = {
        "format_version": 1,
        "generator": {
            "script": "scripts/reference/make_export_fixtures.py",
            "versions": versions(),
            "attn_implementation": "eager",
            "dtype": "float32",
        },
        "tolerance": 1e-4,
        "max_len": MAX_LEN,
        "inputs": inputs,
        "cases": cases,
    }
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
