"""Times the training steps of lopper's `train_step` bench in PyTorch + transformers on the same
machine, and prints the ratio to lopper's figures.

    cargo bench -p lopper-train --bench train_step          # writes target/train_step_plans.json
    .cache/reference-venv/bin/python scripts/reference/bench_train_torch.py [--threads 1] [--plans FILE]

The plans file holds the batch (8 x 128 seeded ids, labels) and, per strategy, the members every
timed step trained (sub-network and loss), as lopper drew them. Each step here does what the
paper's reference code does: every member runs the whole BertForSequenceClassification with its
sub-network applied by masks (masking.py: unkept heads and units multiplied by 0; a layer with
no head / no unit / dropped is skipped, which is cheaper than the reference, which multiplies
those by 0 too), the full network without hooks; the member's loss (cross-entropy, or
T^2 KL(teacher/T || student/T) + cross-entropy with the step's first member as the detached
teacher) is back-propagated, gradients accumulate, then gradient clipping (1.0) and one AdamW
step (lr 2e-5, weight decay 0.01). torch.set_num_threads(--threads); one warm-up step, then the
plan's steps; median examples/s. Dropout off (eval mode), as in lopper.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masking import masked  # noqa: E402

import transformers  # noqa: E402
from transformers import BertForSequenceClassification  # noqa: E402

transformers.logging.set_verbosity_error()
ROOT = Path(__file__).resolve().parents[2]


def is_full(subnet, L, H, I):
    return all(
        k is not None and len(k["heads"]) == H and len(k["units"]) == I for k in subnet["layers"]
    ) and len(subnet["layers"]) == L


def step(model, opt, ids, mask, labels, members, T=10.0):
    cfg = model.config
    teacher = None
    for m in members:
        subnet = None if is_full(m["subnet"], cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size) else m["subnet"]
        with masked(model.bert, subnet):
            logits = model(input_ids=ids, attention_mask=mask).logits
        loss = F.cross_entropy(logits, labels)
        if m["loss"] == "distill":
            log_t = F.log_softmax(teacher / T, -1)
            log_s = F.log_softmax(logits / T, -1)
            loss = loss + (log_t.exp() * (log_t - log_s)).sum(-1).mean() * T * T
        if teacher is None:
            teacher = logits.detach()
        loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plans", default=str(ROOT / "target/train_step_plans.json"))
    ap.add_argument("--model", default=str(ROOT / ".cache/models/all-MiniLM-L6-v2"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON line per case (the table goes to stderr)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    plans = json.loads(Path(args.plans).read_text())
    ids = torch.tensor(plans["input_ids"])
    mask = torch.ones_like(ids)
    labels = torch.tensor(plans["labels"])
    batch = ids.shape[0]
    ours = plans.get("lopper_examples_per_second", {})
    out = sys.stderr if args.json else sys.stdout
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {batch} x {ids.shape[1]}; lopper: {plans.get('backend', '?')}", file=out)
    print(f"{'strategy':<14} {'members':>8} {'step (s)':>10} {'examples/s':>11} {'lopper':>9} {'lopper/torch':>13}", file=out)
    results = {}
    for name, steps in plans["strategies"].items():
        model = BertForSequenceClassification.from_pretrained(args.model, num_labels=2)
        model.eval()  # no dropout, as in lopper
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01, eps=1e-8)
        step(model, opt, ids, mask, labels, steps[0])
        times = []
        for members in steps:
            t0 = time.perf_counter()
            step(model, opt, ids, mask, labels, members)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        eps = batch / med
        members = sum(len(s) for s in steps) / len(steps)
        lo = ours.get(name)
        ratio = f"{lo / eps:13.2f}" if lo else f"{'-':>13}"
        lo_s = f"{lo:9.2f}" if lo else f"{'-':>9}"
        print(f"{name:<14} {members:>8.1f} {med:>10.3f} {eps:>11.2f} {lo_s} {ratio}", file=out)
        results[name] = {"torch_examples_per_second": eps, "lopper_examples_per_second": lo}
        if args.json:
            # One line per case with the keys lopper's train_step bench prints.
            print(json.dumps({
                "bench": "train_step", "case": name, "backend": f"torch {torch.__version__}",
                "threads": args.threads, "batch": batch, "seq_len": int(ids.shape[1]),
                "members_per_step": members, "seconds_per_step": med, "examples_per_second": eps,
            }), flush=True)


if __name__ == "__main__":
    main()
