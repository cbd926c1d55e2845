"""Fine-tune with PyTorch + transformers on exactly the examples `lopper train` uses, with the
hyper-parameters of lopper's `standard` strategy, and report the validation score after every
epoch and the test score of the best epoch: the reference that lopper's fine-tuning is held to.

    cargo run -p lopper-cli -- split --task rte --data ../shared/data/glue --out runs/rte-split
    scripts/reference/setup.sh
    .cache/reference-venv/bin/python scripts/reference/finetune.py \
        --split runs/rte-split --model .cache/models/all-MiniLM-L6-v2 --out runs/rte-torch-s0.json

What is the same as `lopper train --strategy standard`: the examples of each set (from
`lopper split`), truncation to 128 tokens with dynamic padding, AdamW (lr 2e-5, weight decay
0.01, eps 1e-8), a linear decay to 0 without warm-up, batch 4, 5 epochs, validation after each
epoch, the test score of the epoch that validated best. What cannot be the same: the random
streams (data order and the new head's initialisation come from torch's generator seeded with
--seed, lopper draws from ChaCha8). What differs by default because it is what transformers
does (each has a flag to make it like lopper): dropout 0.1 in training (--no-dropout),
gradient clipping of the global norm rather than per parameter (--per-param-clip), no weight
decay on biases and LayerNorm weights (--decay-all).
"""

import argparse
import copy
import json
import time

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    get_linear_schedule_with_warmup,
)


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def label_of(example):
    label = example["label"]
    if "Class" in label:
        return label["Class"]
    return label["Score"]


def encode(tok, examples, max_len):
    rows = []
    for e in examples:
        enc = tok(e["text"], e.get("pair"), truncation="longest_first", max_length=max_len)
        rows.append((enc, label_of(e)))
    return rows


def collate(tok, rows, regression):
    batch = tok.pad([r[0] for r in rows], return_tensors="pt")
    dtype = torch.float32 if regression else torch.long
    batch["labels"] = torch.tensor([r[1] for r in rows], dtype=dtype)
    return batch


def score(metric, predictions, labels):
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if metric == "accuracy":
        return float((predictions == labels).mean())
    if metric == "f1":
        tp = float(((predictions == 1) & (labels == 1)).sum())
        fp = float(((predictions == 1) & (labels == 0)).sum())
        fn = float(((predictions == 0) & (labels == 1)).sum())
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    if metric == "matthews":
        from sklearn.metrics import matthews_corrcoef

        return float(matthews_corrcoef(labels, predictions))
    if metric == "spearman":
        from scipy.stats import spearmanr

        return float(spearmanr(predictions, labels).statistic)
    raise SystemExit(f"unknown metric {metric}")


@torch.no_grad()
def evaluate(model, tok, rows, regression, metric, batch_size=32):
    model.eval()
    predictions = []
    for i in range(0, len(rows), batch_size):
        batch = collate(tok, rows[i : i + batch_size], regression)
        batch.pop("labels")
        logits = model(**batch).logits
        if regression:
            predictions.extend(logits[:, 0].tolist())
        else:
            predictions.extend(logits.argmax(-1).tolist())
    return score(metric, predictions, [r[1] for r in rows])


class PerParamClip:
    """Clips each parameter's gradient to the norm on its own (Burn's clipping)."""

    def __init__(self, norm):
        self.norm = norm

    def __call__(self, params):
        for p in params:
            if p.grad is not None:
                torch.nn.utils.clip_grad_norm_([p], self.norm)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", required=True, help="folder written by `lopper split`")
    ap.add_argument("--model", required=True, help="model folder (Hugging Face layout)")
    ap.add_argument("--out", help="write the results here as JSON")
    ap.add_argument("--metric", default="accuracy", choices=["accuracy", "f1", "matthews", "spearman"])
    ap.add_argument("--num-labels", type=int, default=2, help="1 for regression")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-dropout", action="store_true")
    ap.add_argument("--per-param-clip", action="store_true")
    ap.add_argument("--decay-all", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    regression = args.num_labels == 1
    tok = AutoTokenizer.from_pretrained(args.model)
    extra = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0} if args.no_dropout else {}
    model = AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=args.num_labels, **extra
    )
    train = encode(tok, read(f"{args.split}/train.jsonl"), args.max_len)
    valid = encode(tok, read(f"{args.split}/validation.jsonl"), args.max_len)
    test = encode(tok, read(f"{args.split}/test.jsonl"), args.max_len)

    steps_per_epoch = -(-len(train) // args.batch_size)
    total = steps_per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if args.decay_all or not any(k in n for k in no_decay)],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if not args.decay_all and any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, 0, total)
    clip = PerParamClip(args.max_grad_norm) if args.per_param_clip else None
    generator = torch.Generator().manual_seed(args.seed)

    history, best, best_state = [], None, None
    step, seen, train_seconds = 0, 0, 0.0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        t0 = time.perf_counter()
        for i in range(0, len(order), args.batch_size):
            if step >= total:
                break
            batch = collate(tok, [train[j] for j in order[i : i + args.batch_size]], regression)
            loss = model(**batch).loss
            loss.backward()
            if clip:
                clip(model.parameters())
            elif args.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            seen += len(batch["labels"])
        train_seconds += time.perf_counter() - t0
        v = evaluate(model, tok, valid, regression, args.metric)
        history.append({"epoch": epoch, "step": step, "validation": v})
        print(f"epoch {epoch + 1}  step {step}  validation {args.metric} {v:.4f}", flush=True)
        if best is None or v > best[1]:
            best = (epoch, v)
            best_state = copy.deepcopy(model.state_dict())
        if step >= total:
            break
    model.load_state_dict(best_state)
    t = evaluate(model, tok, test, regression, args.metric)
    result = {
        "torch": torch.__version__,
        "threads": args.threads,
        "settings": vars(args),
        "history": history,
        "best_epoch": best[0],
        "test": t,
        "train_seconds": train_seconds,
        "examples_per_second": seen / max(train_seconds, 1e-9),
    }
    print(f"test {args.metric} (best epoch {best[0] + 1}): {t:.4f}; {seen / max(train_seconds, 1e-9):.2f} examples/s")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
