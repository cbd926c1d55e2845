"""Runs an ONNX model exported by `lopper export --format onnx` in ONNX Runtime.

    python run_onnx.py MODEL.onnx INPUTS.json OUT.json [--threads N] [--time B,T]

INPUTS.json: {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
(token_type_ids only read when the model takes it). OUT.json gets the model's outputs by name
(nested lists of float32 values), the ONNX checker's verdict and the versions. With --time, the
median latency in ms over 20 runs of a random batch of B sequences of T tokens is added too.

Used by lopper's Rust tests (crates/lopper-model/tests/onnx_runtime.rs) in the venv that
scripts/ort-venv.sh creates; never a dependency of lopper itself.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("inputs")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time", default=None, help="B,T: also time a B x T batch")
    args = ap.parse_args()

    # The full checker: types, shapes and every node against its opset's schema.
    onnx.checker.check_model(args.model, full_check=True)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    with open(args.inputs) as f:
        given = json.load(f)
    feeds = {k: np.asarray(v, dtype=np.int64) for k, v in given.items() if k in wanted}
    missing = wanted - feeds.keys()
    if missing:
        sys.exit(f"run_onnx: the model takes {sorted(missing)}, which {args.inputs} lacks")
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, feeds)
    result = {
        "outputs": {n: o.astype(np.float32).tolist() for n, o in zip(names, outputs)},
        "inputs": sorted(wanted),
        "checker": "ok",
        "versions": {"onnxruntime": ort.__version__, "onnx": onnx.__version__},
    }
    if args.time:
        b, t = (int(x) for x in args.time.split(","))
        rng = np.random.default_rng(0)
        feeds = {"input_ids": rng.integers(1000, 2000, size=(b, t), dtype=np.int64),
                 "attention_mask": np.ones((b, t), dtype=np.int64)}
        if "token_type_ids" in wanted:
            feeds["token_type_ids"] = np.zeros((b, t), dtype=np.int64)
        for _ in range(3):
            session.run(names, feeds)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            session.run(names, feeds)
            times.append((time.perf_counter() - start) * 1e3)
        result["latency_ms"] = {"median": statistics.median(times), "batch": b, "seq": t,
                                "threads": args.threads}
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
