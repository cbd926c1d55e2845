"""Checks the two exports of the worked example (examples/own-data/run.sh) with the tools a
user deploys with: the `hf` export loaded by transformers, the `onnx` export run by ONNX
Runtime, on every snippet of the test CSV. Prints their agreement, both accuracies beside
lopper's own (eval.json), the file sizes against the unpruned model, and ONNX Runtime's latency
of the pruned against the unpruned model at batch 8 x 64 on 2 threads.

    python check.py RUN_DIR TEST_CSV UNPRUNED_DIR

RUN_DIR holds export/ (hf), export-onnx/, full-onnx/ (the unpruned fine-tuned network as ONNX)
and eval.json; UNPRUNED_DIR is the fine-tuned checkpoint (its model.safetensors is the size
the pruned model is compared with). Runs in scripts/reference/setup.sh's venv (torch,
transformers, onnxruntime).
"""

import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

MAX_LEN = 64
LABELS = ["negative", "positive"]


def session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def latency_ms(s: ort.InferenceSession, batch: int, seq: int, runs: int = 50) -> float:
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(1000, 20000, size=(batch, seq), dtype=np.int64),
             "attention_mask": np.ones((batch, seq), dtype=np.int64)}
    if "token_type_ids" in {i.name for i in s.get_inputs()}:
        feeds["token_type_ids"] = np.zeros((batch, seq), dtype=np.int64)
    for _ in range(5):
        s.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        s.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def main() -> None:
    run, test_csv, unpruned = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    hf_dir, onnx_path, full_onnx = run / "export", run / "export-onnx" / "model.onnx", run / "full-onnx" / "model.onnx"
    with open(test_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["review"] for r in rows]
    labels = np.array([LABELS.index(r["sentiment"]) for r in rows])

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(str(hf_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(hf_dir)).eval()
    pruned = session(onnx_path, 2)
    hf_logits, ort_logits = [], []
    for i in range(0, len(texts), 64):
        enc = tok(texts[i:i + 64], padding=True, truncation=True, max_length=MAX_LEN, return_tensors="np")
        with torch.no_grad():
            hf_logits.append(model(**{k: torch.tensor(v) for k, v in enc.items()}).logits.numpy())
        feeds = {k: v.astype(np.int64) for k, v in enc.items() if k in {x.name for x in pruned.get_inputs()}}
        ort_logits.append(pruned.run(["logits"], feeds)[0])
    hf_logits, ort_logits = np.concatenate(hf_logits), np.concatenate(ort_logits)
    diff = float(np.abs(hf_logits - ort_logits).max())
    acc_hf = float((hf_logits.argmax(1) == labels).mean())
    acc_ort = float((ort_logits.argmax(1) == labels).mean())
    lopper = json.loads((run / "eval.json").read_text())

    full = session(full_onnx, 2)
    lat_pruned, lat_full = latency_ms(pruned, 8, 64), latency_ms(full, 8, 64)
    result = {
        "test_examples": len(texts),
        "max_abs_logit_diff_transformers_vs_onnxruntime": diff,
        "accuracy_transformers_hf_export": acc_hf,
        "accuracy_onnxruntime_onnx_export": acc_ort,
        "accuracy_lopper_eval": lopper["score"],
        "mb_unpruned_safetensors": mb(unpruned / "model.safetensors"),
        "mb_hf_export": mb(hf_dir / "model.safetensors"),
        "mb_unpruned_onnx": mb(full_onnx),
        "mb_onnx_export": mb(onnx_path),
        "ort_ms_unpruned_8x64_2threads": lat_full,
        "ort_ms_pruned_8x64_2threads": lat_pruned,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "onnxruntime": ort.__version__},
    }
    print(f"transformers (hf export) vs ONNX Runtime (onnx export), {len(texts)} test snippets: "
          f"max |logit difference| {diff:.2e}")
    print(f"test accuracy: transformers {acc_hf:.4f}, ONNX Runtime {acc_ort:.4f}, lopper eval {lopper['score']:.4f}")
    print(f"sizes: unpruned {result['mb_unpruned_safetensors']:.1f} MB safetensors / {result['mb_unpruned_onnx']:.1f} MB ONNX; "
          f"pruned {result['mb_hf_export']:.1f} MB hf / {result['mb_onnx_export']:.1f} MB ONNX")
    print(f"ONNX Runtime, batch 8 x 64, 2 threads: unpruned {lat_full:.1f} ms, pruned {lat_pruned:.1f} ms "
          f"({lat_full / lat_pruned:.2f}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
