"""The table of lopper ÷ PyTorch ratios from the JSON lines of one side_by_side.sh run.

    python scripts/reference/ratios.py target/bench/side-by-side.jsonl

Pairs each lopper line (backend flex or tch; kernels "lopper", or "gemm" for the matrix products
alone) with the PyTorch line of the same bench, case and thread count. The sliced sub-network
is set against the reference's masked forward (what the paper's code runs) and against
transformers' physically pruned model; the training steps of every strategy against the same
steps in PyTorch, which masks. Higher is better for lopper everywhere (throughputs).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

# lopper case -> the PyTorch cases it is compared with.
VERSUS = {
    "forward: 50% sliced": ["forward: 50% masked", "forward: 50% pruned (transformers)"],
    "forward+backward: 50% sliced": ["forward+backward: 50% masked"],
}


def rate(line):
    """The line's throughput; for the cases timed in seconds only (one layer's attention, the
    optimizer step alone), runs per second, so that higher stays better."""
    for key in ("examples_per_second", "gflops", "elements_per_second"):
        if line.get(key):
            return line[key]
    return 1.0 / line["seconds"] if line.get("seconds") else None


def fmt(x):
    return f"{x:.4g}" if x else "—"


def main():
    lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
    torch = {}
    ours = defaultdict(dict)  # (bench, case, threads) -> kernels -> rate
    for l in lines:
        key = (l["bench"], l["case"], l["threads"])
        if str(l.get("backend", "")).startswith("torch"):
            torch[key] = rate(l)
        else:
            ours[key][l.get("kernels", "lopper")] = rate(l)
    print("| bench | case | threads | Burn's ops | lopper | PyTorch | lopper ÷ PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for (bench, case, threads), by in ours.items():
        mine = by.get("lopper", by.get("gemm"))
        refs = VERSUS.get(case, [case])
        for ref in refs:
            t = torch.get((bench, ref, threads))
            if t is None and ref != case:
                continue
            burn = by.get("burn")
            label = case if ref == case else f"{case} vs {ref}"
            ratio = f"{mine / t:.2f}×" if t and mine else "—"
            print(f"| {bench} | {label} | {threads} | {fmt(burn)} | {fmt(mine)} | {fmt(t)} | {ratio} |")


if __name__ == "__main__":
    main()
