"""Times all-MiniLM-L6-v2 on the CPU with PyTorch + transformers: the baseline lopper's Rust
encoder is compared with.

    scripts/reference/setup.sh && .cache/reference-venv/bin/python scripts/reference/bench_torch.py [--threads 2] [--json]

Batch 32 x length 128 of seeded random token ids (all attended), eval mode, float32,
torch.set_num_threads(--threads). Cases:

  full_forward           the whole network, torch.no_grad()
  masked_forward         a 50 %-heads / 50 %-units sub-network (seeded random, non-prefix, every
                         layer 6 of 12 heads and 768 of 1536 units) applied in masked mode with
                         the hooks of masking.py, as the paper's reference code does: the full
                         computation runs and the masked parts are multiplied by 0
  full_forward_backward  the whole network plus backward of last_hidden_state.sum()
  masked_forward_backward  the same sub-network plus backward of last_hidden_state.sum() w.r.t. all weights
  pruned_forward         (extra) the same sub-network physically pruned (transformers'
                         prune_heads + sliced FFN weights): what pruning buys over masking

Before them, the matrix products alone at the encoder's three linear shapes for the batch
(GFLOP/s of torch.matmul), as lopper's forward bench prints them.

Each case: 2 warm-up runs, then --reps (>= 5) timed runs; reports the median sequences/s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masking import masked  # noqa: E402

import transformers  # noqa: E402
from transformers import BertModel  # noqa: E402

transformers.logging.set_verbosity_error()
ROOT = Path(__file__).resolve().parents[2]


def half_subnet(L, H, I, gen):
    layers = []
    for _ in range(L):
        heads = sorted(torch.randperm(H, generator=gen)[: H // 2].tolist())
        units = sorted(torch.randperm(I, generator=gen)[: I // 2].tolist())
        layers.append({"heads": heads, "units": units})
    return {"layers": layers}


def pruned_copy(model, subnet):
    m = copy.deepcopy(model)
    H = m.config.num_attention_heads
    m.prune_heads({i: [h for h in range(H) if h not in keep["heads"]] for i, keep in enumerate(subnet["layers"])})
    for layer, keep in zip(m.encoder.layer, subnet["layers"]):
        u = torch.tensor(keep["units"])
        inter, out = layer.intermediate.dense, layer.output.dense
        new_inter = nn.Linear(inter.in_features, len(u))
        new_out = nn.Linear(len(u), out.out_features)
        with torch.no_grad():
            new_inter.weight.copy_(inter.weight[u])
            new_inter.bias.copy_(inter.bias[u])
            new_out.weight.copy_(out.weight[:, u])
            new_out.bias.copy_(out.bias)
        layer.intermediate.dense, layer.output.dense = new_inter, new_out
    return m.eval()


def time_case(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa")
    ap.add_argument("--json", action="store_true", help="print one JSON line per case instead of a table")
    ap.add_argument("--model-dir", default=None, help="default: what scripts/fetch-minilm.sh prints")
    args = ap.parse_args()
    assert args.reps >= 5, "at least 5 timed repetitions"

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model_dir = args.model_dir or str(
        ROOT
        / subprocess.run(
            [str(ROOT / "scripts" / "fetch-minilm.sh")], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout.strip().splitlines()[-1]
    )
    model = BertModel.from_pretrained(model_dir, attn_implementation=args.attn).eval()
    cfg = model.config
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, cfg.vocab_size, (args.batch, args.seq_len), generator=gen)
    ids[:, 0], ids[:, -1] = 101, 102
    am = torch.ones_like(ids)
    tt = torch.zeros_like(ids)
    subnet = half_subnet(cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size, gen)
    pruned = pruned_copy(model, subnet)

    def fwd(m, sub):
        def run():
            with torch.no_grad(), masked(m, sub):
                return m(input_ids=ids, attention_mask=am, token_type_ids=tt).last_hidden_state

        return run

    def fwd_bwd(sub):
        def run():
            for p in model.parameters():
                p.grad = None
            with masked(model, sub):
                out = model(input_ids=ids, attention_mask=am, token_type_ids=tt).last_hidden_state
            out.sum().backward()

        return run

    # The pruned copy computes what masked mode computes.
    diff = float((fwd(model, subnet)() - fwd(pruned, None)()).abs().max())
    assert diff < 1e-4, diff

    cases = [
        ("full_forward", fwd(model, None)),
        ("masked_forward", fwd(model, subnet)),
        ("full_forward_backward", fwd_bwd(None)),
        ("masked_forward_backward", fwd_bwd(subnet)),
        ("pruned_forward", fwd(pruned, None)),
    ]
    # The matrix products alone at the encoder's linear shapes for the whole batch (what
    # lopper's forward bench prints as "matmul [m, k] x [k, n]").
    gemm_lines = []
    rows = args.batch * args.seq_len
    for m, k, n in [(rows, 384, 384), (rows, 384, 1536), (rows, 1536, 384)]:
        a = torch.randn(m, k, generator=gen)
        b = torch.randn(k, n, generator=gen)
        med = statistics.median(time_case(lambda: a @ b, args.warmup, args.reps))
        gemm_lines.append({"case": f"matmul [{m}, {k}] x [{k}, {n}]", "seconds": round(med, 5),
                           "gflops": round(2 * m * k * n / med / 1e9, 1)})
        if not args.json:
            print(f"  matmul [{m}, {k}] x [{k}, {n}]: {gemm_lines[-1]['gflops']} GFLOP/s", file=sys.stderr)

    results = []
    for name, fn in cases:
        times = time_case(fn, args.warmup, args.reps)
        med = statistics.median(times)
        results.append(
            {
                "case": name,
                "median_s": round(med, 4),
                "seq_per_s": round(args.batch / med, 2),
                "times_s": [round(t, 4) for t in times],
            }
        )
        if not args.json:
            print(f"  {name}: {args.batch / med:.1f} seq/s", file=sys.stderr)

    meta = {
        "model": "all-MiniLM-L6-v2",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": args.threads,
        "batch": args.batch,
        "seq_len": args.seq_len,
        "attn_implementation": args.attn,
        "warmup": args.warmup,
        "reps": args.reps,
        "subnet": "50 % heads / 50 % units per layer, seeded random",
        "loadavg_at_end": os.getloadavg(),
        "results": results,
    }
    if args.json:
        # One line per case with the keys lopper's forward bench prints (its case names).
        names = {
            "full_forward": "forward: full",
            "masked_forward": "forward: 50% masked",
            "full_forward_backward": "forward+backward: full",
            "masked_forward_backward": "forward+backward: 50% masked",
            "pruned_forward": "forward: 50% pruned (transformers)",
        }
        for g in gemm_lines:
            print(json.dumps({"bench": "forward", "case": g["case"], "kernels": "torch",
                              "backend": f"torch {torch.__version__}", "threads": args.threads,
                              "seconds": g["seconds"], "gflops": g["gflops"]}))
        for r in results:
            print(json.dumps({
                "bench": "forward", "case": names.get(r["case"], r["case"]),
                "backend": f"torch {torch.__version__}", "threads": args.threads,
                "batch": args.batch, "seq_len": args.seq_len, "reps": args.reps,
                "seconds_per_batch": r["median_s"], "examples_per_second": r["seq_per_s"],
                "loadavg_at_end": meta["loadavg_at_end"],
            }))
    else:
        print(f"all-MiniLM-L6-v2, batch {args.batch} x {args.seq_len}, {args.threads} threads, torch {torch.__version__}, "
              f"transformers {transformers.__version__}, attn {args.attn}, median of {args.reps}")
        print(f"{'case':<26}{'median s':>10}{'seq/s':>10}")
        for g in gemm_lines:
            print(f"{g['case']:<34} {g['gflops']:>8.1f} GFLOP/s")
        for r in results:
            print(f"{r['case']:<26}{r['median_s']:>10.3f}{r['seq_per_s']:>10.1f}")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in meta['loadavg_at_end'])}")


if __name__ == "__main__":
    main()
