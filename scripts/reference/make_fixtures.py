"""Writes the PyTorch/transformers reference fixtures that lopper's Rust BERT/RoBERTa encoder is
tested against (tests/fixtures/reference/).

Regenerate, from the repository root:

    scripts/reference/setup.sh && .cache/reference-venv/bin/python scripts/reference/make_fixtures.py

(setup.sh makes the pinned venv; the script runs scripts/fetch-minilm.sh itself to get the
all-MiniLM-L6-v2 checkpoint into .cache/models/.) Deterministic: fixed seeds, float32, CPU,
one thread, eval mode, torch.use_deterministic_algorithms(True); re-running with the pinned
versions rewrites identical files.

Outputs (see scripts/reference/README.md for the field-by-field format):
  minilm.json                     the real all-MiniLM-L6-v2 under 7 sub-networks
  tiny-bert/, tiny-bert.json      a seeded random 3-layer BertModel (safetensors + config)
  tiny-bert-cls/                  the same encoder inside BertForSequenceClassification (3 labels)
  tiny-bert-bin/                  the tiny BERT as pytorch_model.bin (torch.save of its state dict)
  tiny-roberta/, tiny-roberta.json  a seeded random 3-layer RobertaModel

Sub-network ("masked mode") semantics are in masking.py; every case is checked against an
independent float64 "pruned mode" computation from the raw weights.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import json
import os
import random
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors import safe_open  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masking import full_subnet, masked, pruned_forward, validate_subnet  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "reference"
MAX_LEN = 32
SEED = 20240611
FORMAT_VERSION = 1

# Tolerances the generator itself enforces.
TOL_PRUNED = 1e-4  # float32 HF masked mode vs float64 pruned-mode reference
TOL_CROSS = 2e-5  # eager vs sdpa, head_mask vs hooks, padded vs unpadded rows, ST vs ours

torch.manual_seed(SEED)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    RobertaConfig,
    RobertaModel,
)

transformers.logging.set_verbosity_error()


# --------------------------------------------------------------------------------------------
# helpers


def r7(x):
    """Nested lists of floats rounded to 7 significant digits."""
    a = np.asarray(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.float64)
    if a.ndim == 0:
        return float(f"{a:.7g}")
    return [r7(v) for v in a] if a.ndim > 1 else [float(f"{v:.7g}") for v in a]


def versions():
    out = {"python": sys.version.split()[0]}
    for name in ["torch", "transformers", "tokenizers", "safetensors", "numpy", "sentence-transformers"]:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def max_abs(a, b) -> float:
    return float((a.detach().double() - b.detach().double()).abs().max())


def tensor_list(path: Path):
    with safe_open(str(path), "pt") as f:
        return [
            {"name": k, "shape": list(f.get_slice(k).get_shape()), "dtype": f.get_slice(k).get_dtype()}
            for k in sorted(f.keys())
        ]


def dump(obj, path: Path):
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.1f} KiB)")


def mean_pool(h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def batch_tensors(inp):
    return (
        torch.tensor(inp["input_ids"]),
        torch.tensor(inp["token_type_ids"]),
        torch.tensor(inp["attention_mask"]),
    )


def run_masked(model, inp, subnet, head_mask=None):
    ids, tt, am = batch_tensors(inp)
    with torch.no_grad(), masked(model, subnet):
        out = model(input_ids=ids, token_type_ids=tt, attention_mask=am, head_mask=head_mask)
    return out.last_hidden_state, out.pooler_output


def check_against_pruned(model, kind, inp, subnet, h, pooled, label):
    sd = {k: v for k, v in model.state_dict().items()}
    ids, tt, am = batch_tensors(inp)
    h64, p64 = pruned_forward(sd, model.config, kind, ids, tt, am, subnet)
    # All positions, padded ones included: their hidden states are well defined (the query
    # attends to the unpadded keys) and HF's finfo.min additive mask equals a -inf mask.
    d_h = max_abs(h, h64)
    d_p = max_abs(pooled, p64)
    assert d_h < TOL_PRUNED and d_p < TOL_PRUNED, (label, d_h, d_p)
    return max(d_h, d_p)


def check_head_mask(model, inp, subnet, h_ref, label):
    """Cross-check the head hooks against transformers' own head_mask (attention probs * 0),
    where head_mask can express the sub-network (kept layers with >= 1 head)."""
    cfg = model.config
    L, Hn = cfg.num_hidden_layers, cfg.num_attention_heads
    hm = torch.ones(L, Hn)
    alt = {"layers": []}
    for i, keep in enumerate(subnet["layers"]):
        if keep is None or not keep["heads"]:
            alt["layers"].append(keep)
            continue
        hm[i] = 0
        hm[i, keep["heads"]] = 1
        alt["layers"].append({"heads": list(range(Hn)), "units": keep["units"]})
    h_alt, _ = run_masked(model, inp, alt, head_mask=hm)
    am = torch.tensor(inp["attention_mask"]).bool()
    d = float((h_alt - h_ref)[am].abs().max())
    assert d < TOL_CROSS, (label, "head_mask vs hooks", d)
    return d


# --------------------------------------------------------------------------------------------
# a) all-MiniLM-L6-v2

SINGLES = [
    "The quick brown fox jumps over the lazy dog.",
    "Structural pruning removes whole attention heads and feed-forward units.",
    "Café déjà vu: HELLO, World!!",
    # longer than 32 tokens: truncated
    "This deliberately long sentence keeps going well past the thirty-two token limit so that "
    "truncation has to cut it, which the Rust tokenizer and encoder must reproduce exactly.",
]
PAIRS = [
    ("How do I prune a BERT model?", "Drop the heads and units that matter least."),
    # long pair: longest-first truncation takes tokens from the longer side
    (
        "A short question?",
        "An answer that is much longer than the question and therefore loses its tail when the "
        "pair is truncated to thirty-two tokens with the longest-first strategy.",
    ),
]


def tokenize_minilm(model_dir: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    configured = {"padding": tok.padding, "truncation": tok.truncation}
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LEN)  # strategy longest_first, stride 0
    hf_tok = AutoTokenizer.from_pretrained(str(model_dir))

    inputs = []

    def add(name, text, pair):
        enc = tok.encode(text, pair) if pair is not None else tok.encode(text)
        hf = hf_tok(text, pair, truncation=True, max_length=MAX_LEN, padding=False)
        assert enc.ids == hf["input_ids"], (name, enc.ids, hf["input_ids"])
        assert enc.type_ids == hf["token_type_ids"]
        assert enc.attention_mask == hf["attention_mask"]
        inputs.append(
            {
                "name": name,
                "text": [text],
                "pair": [pair],
                "tokens": [enc.tokens],
                "input_ids": [enc.ids],
                "token_type_ids": [enc.type_ids],
                "attention_mask": [enc.attention_mask],
            }
        )

    for i, s in enumerate(SINGLES):
        add(f"single_{i}", s, None)
    for i, (a, b) in enumerate(PAIRS):
        add(f"pair_{i}", a, b)

    # Padded batch: pair_0 and single_0 (different lengths) padded together with id 0.
    rows = [inputs[len(SINGLES)], inputs[0]]
    width = max(len(r["input_ids"][0]) for r in rows)
    padded = {k: [] for k in ["text", "pair", "tokens", "input_ids", "token_type_ids", "attention_mask"]}
    for r in rows:
        n = width - len(r["input_ids"][0])
        padded["text"].append(r["text"][0])
        padded["pair"].append(r["pair"][0])
        padded["tokens"].append(r["tokens"][0] + ["[PAD]"] * n)
        padded["input_ids"].append(r["input_ids"][0] + [0] * n)
        padded["token_type_ids"].append(r["token_type_ids"][0] + [0] * n)
        padded["attention_mask"].append(r["attention_mask"][0] + [0] * n)
    assert 0 in padded["attention_mask"][1]
    inputs.append({"name": "padded_batch", "same_as": [rows[0]["name"], rows[1]["name"]], **padded})
    return inputs, configured


def minilm_cases(L, H, I, rng: random.Random):
    full = full_subnet(L, H, I)["layers"]

    def fl():
        return {"heads": list(range(H)), "units": list(range(I))}

    def rnd_heads(lo=2, hi=H - 2):
        while True:
            hs = sorted(rng.sample(range(H), rng.randint(lo, hi)))
            if hs != list(range(len(hs))):
                return hs

    def rnd_units(lo=int(0.25 * I), hi=int(0.6 * I)):
        return sorted(rng.sample(range(I), rng.randint(lo, hi)))

    cases = [("full", {"layers": [dict(k) for k in full]})]
    cases.append(("prefix_half", {"layers": [{"heads": list(range(H // 2)), "units": list(range(I // 2))} for _ in range(L)]}))
    z = [fl() for _ in range(L)]
    z[2]["heads"] = []
    cases.append(("zero_heads_layer", {"layers": z}))
    z = [fl() for _ in range(L)]
    z[3]["units"] = []
    cases.append(("zero_units_layer", {"layers": z}))
    z = [fl() for _ in range(L)]
    z[1] = None
    cases.append(("dropped_layer", {"layers": z}))

    # non_prefix: every kept layer non-prefix; layer 4 dropped, layer 2 without heads.
    npl = [{"heads": [1, 4, 5, 9], "units": sorted(rng.sample(range(I), 600))}]
    for _ in range(1, L):
        npl.append({"heads": rnd_heads(), "units": rnd_units()})
    npl[4] = None
    npl[2]["heads"] = []
    cases.append(("non_prefix", {"layers": npl}))

    # mixed: one layer of each kind, in seeded order.
    kinds = ["full", "prefix", "random", "zero_heads", "zero_units", "dropped"]
    rng.shuffle(kinds)
    mixed = []
    for kind in kinds:
        if kind == "full":
            mixed.append(fl())
        elif kind == "prefix":
            mixed.append({"heads": list(range(rng.randint(1, H - 1))), "units": list(range(rng.randint(1, I - 1)))})
        elif kind == "random":
            mixed.append({"heads": rnd_heads(1, H - 1), "units": rnd_units(1, I - 1)})
        elif kind == "zero_heads":
            mixed.append({"heads": [], "units": rnd_units()})
        elif kind == "zero_units":
            mixed.append({"heads": rnd_heads(), "units": []})
        else:
            mixed.append(None)
    cases.append(("mixed", {"layers": mixed, "kinds": kinds}))
    return cases


def make_minilm():
    model_dir = ROOT / subprocess.run(
        [str(ROOT / "scripts" / "fetch-minilm.sh")], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.strip().splitlines()[-1]
    print(f"model: {model_dir}")
    model = BertModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    model_sdpa = BertModel.from_pretrained(str(model_dir), attn_implementation="sdpa").eval()
    cfg = model.config
    L, H, I = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size
    inputs, configured = tokenize_minilm(model_dir)
    rng = random.Random(SEED)
    cases = minilm_cases(L, H, I, rng)

    stats = {}
    out_cases = []
    single_results = {}
    for name, subnet in cases:
        kinds = subnet.pop("kinds", None)
        validate_subnet(subnet, L, H, I)
        outputs = []
        worst = 0.0
        for idx, inp in enumerate(inputs):
            h, pooled = run_masked(model, inp, subnet)
            worst = max(worst, check_against_pruned(model, "bert", inp, subnet, h, pooled, (name, inp["name"])))
            stats.setdefault("head_mask_vs_hooks", 0.0)
            stats["head_mask_vs_hooks"] = max(stats["head_mask_vs_hooks"], check_head_mask(model, inp, subnet, h, name))
            h_s, _ = run_masked(model_sdpa, inp, subnet)
            am = torch.tensor(inp["attention_mask"])
            d = float((h_s - h)[am.bool()].abs().max())
            assert d < TOL_CROSS, (name, inp["name"], "sdpa vs eager", d)
            stats["sdpa_vs_eager"] = max(stats.get("sdpa_vs_eager", 0.0), d)
            cls = h[:, 0]
            mp = mean_pool(h, am)
            o = {"input": inp["name"], "cls": r7(cls), "mean_pooled": r7(mp), "pooler_output": r7(pooled)}
            if name == "full":
                if idx < 3:
                    o["last_hidden_state"] = r7(h)
                o["sentence_embedding"] = r7(F.normalize(mp, p=2, dim=1))
            outputs.append(o)
            single_results[(name, inp["name"])] = (cls, mp, pooled)
        # padded rows must reproduce the unpadded inputs
        pb = inputs[-1]
        cls_b, mp_b, p_b = single_results[(name, "padded_batch")]
        for row, src in enumerate(pb["same_as"]):
            cls_s, mp_s, p_s = single_results[(name, src)]
            d = max(max_abs(cls_b[row], cls_s[0]), max_abs(mp_b[row], mp_s[0]), max_abs(p_b[row], p_s[0]))
            assert d < TOL_CROSS, (name, "padded vs unpadded", d)
            stats["padded_vs_unpadded"] = max(stats.get("padded_vs_unpadded", 0.0), d)
        c = {"name": name, "subnet": subnet, "max_abs_diff_vs_float64_pruned": float(f"{worst:.3g}"), "outputs": outputs}
        if kinds:
            c["layer_kinds"] = kinds
        out_cases.append(c)
        print(f"  case {name}: max |f32 masked - f64 pruned| = {worst:.2e}")

    # Masking a head must change the output.
    one = full_subnet(L, H, I)
    one["layers"][0]["heads"] = [h for h in range(H) if h != 3]
    h_full, _ = run_masked(model, inputs[0], None)
    h_one, _ = run_masked(model, inputs[0], one)
    assert max_abs(h_full, h_one) > 1e-3, "masking head 3 of layer 0 changed nothing"
    # ... and the full sub-network equals the unmasked model exactly.
    h_sub, _ = run_masked(model, inputs[0], full_subnet(L, H, I))
    assert torch.equal(h_full, h_sub)

    # sentence-transformers agreement on the single sentences (same truncation to 32).
    st_diff = None
    try:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(model_dir), device="cpu")
        st.max_seq_length = MAX_LEN
        singles = [inp for inp in inputs if inp["name"].startswith("single_")]
        emb = torch.tensor(st.encode([inp["text"][0] for inp in singles], convert_to_numpy=True))
        ours = torch.stack([F.normalize(single_results[("full", inp["name"])][1], p=2, dim=1)[0] for inp in singles])
        st_diff = max_abs(emb, ours)
        assert st_diff < 1e-5, ("sentence-transformers", st_diff)
        print(f"  sentence-transformers encode vs ours: {st_diff:.2e}")
    except ImportError:
        print("  sentence-transformers not installed: skipped")

    for k, v in stats.items():
        print(f"  {k}: {v:.2e}")
    doc = {
        "format_version": FORMAT_VERSION,
        "generator": {
            "script": "scripts/reference/make_fixtures.py",
            "regenerate": "scripts/reference/setup.sh && .cache/reference-venv/bin/python scripts/reference/make_fixtures.py",
            "versions": versions(),
            "attn_implementation": "eager",
            "dtype": "float32",
            "seed": SEED,
        },
        "model": {
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "dir": str(model_dir.relative_to(ROOT)),
            "fetch": "scripts/fetch-minilm.sh",
            "safetensors_sha256": sha256(model_dir / "model.safetensors"),
            "kind": "bert",
            "config": {
                k: getattr(cfg, k)
                for k in [
                    "vocab_size",
                    "hidden_size",
                    "num_hidden_layers",
                    "num_attention_heads",
                    "intermediate_size",
                    "max_position_embeddings",
                    "type_vocab_size",
                    "layer_norm_eps",
                    "pad_token_id",
                    "hidden_act",
                ]
            },
        },
        "tokenizer": {
            "file": "tokenizer.json",
            "configured_in_file": configured,
            "used": {"padding": None, "truncation": {"max_length": MAX_LEN, "strategy": "longest_first", "stride": 0}},
        },
        "pooling": "sentence_embedding = L2-normalise(mean of last_hidden_state over attention_mask == 1)",
        "checks": {
            "max_abs_head_mask_vs_hooks": float(f"{stats['head_mask_vs_hooks']:.3g}"),
            "max_abs_sdpa_vs_eager": float(f"{stats['sdpa_vs_eager']:.3g}"),
            "max_abs_padded_vs_unpadded": float(f"{stats['padded_vs_unpadded']:.3g}"),
            "max_abs_sentence_transformers_vs_sentence_embedding": None if st_diff is None else float(f"{st_diff:.3g}"),
        },
        "tolerance": 1e-4,
        "inputs": inputs,
        "cases": out_cases,
    }
    dump(doc, OUT / "minilm.json")


# --------------------------------------------------------------------------------------------
# b) tiny random BERT / RoBERTa

TINY = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=3,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    initializer_range=0.02,
)


def randomise(model, gen: torch.Generator):
    """Re-draws every parameter so that the tiny model exercises everything: Xavier-ish linear
    weights (non-uniform attention), non-trivial biases and LayerNorm affine parameters,
    embeddings (including the padding rows) N(0, 1)."""
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            elif "embeddings" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)


def tiny_inputs(kind: str, rng: random.Random, max_len: int):
    if kind == "bert":
        cls, sep, pad, lo = 2, 3, 0, 5
    else:
        cls, sep, pad, lo = 0, 2, 1, 3  # <s>, </s>, <pad>; content ids avoid them
    vocab = TINY["vocab_size"]

    def seq(n, split=None):
        ids = [cls] + [rng.randrange(lo, vocab) for _ in range(n - 2)] + [sep]
        tt = [0] * n
        if split is not None and kind == "bert":
            ids[split] = sep
            tt = [0] * (split + 1) + [1] * (n - split - 1)
        return ids, tt

    inputs = []

    def add(name, rows):
        width = max(len(ids) for ids, _ in rows)
        inp = {"name": name, "input_ids": [], "token_type_ids": [], "attention_mask": []}
        for ids, tt in rows:
            n = width - len(ids)
            inp["input_ids"].append(ids + [pad] * n)
            inp["token_type_ids"].append(tt + [0] * n)
            inp["attention_mask"].append([1] * len(ids) + [0] * n)
        inputs.append(inp)

    add("short", [seq(5)])
    add("pair" if kind == "bert" else "medium", [seq(13, split=6)])
    add("max_len", [seq(max_len)])
    add("padded_batch", [seq(11), seq(4)])
    return inputs


def tiny_cases(rng: random.Random):
    L, H, I = TINY["num_hidden_layers"], TINY["num_attention_heads"], TINY["intermediate_size"]

    def fl():
        return {"heads": list(range(H)), "units": list(range(I))}

    cases = [("full", full_subnet(L, H, I))]
    z = [fl() for _ in range(L)]
    z[1]["heads"] = []
    cases.append(("zero_heads_layer", {"layers": z}))
    z = [fl() for _ in range(L)]
    z[2]["units"] = []
    cases.append(("zero_units_layer", {"layers": z}))
    z = [fl() for _ in range(L)]
    z[1] = None
    cases.append(("dropped_layer", {"layers": z}))
    npl = [
        {"heads": [1, 3], "units": sorted(rng.sample(range(I), 20))},
        None,
        {"heads": [], "units": sorted(rng.sample(range(1, I), 15))},
    ]
    cases.append(("non_prefix", {"layers": npl}))
    return cases


def make_tiny(kind: str):
    gen = torch.Generator().manual_seed(SEED + (1 if kind == "bert" else 2))
    rng = random.Random(SEED + (1 if kind == "bert" else 2))
    if kind == "bert":
        cfg = BertConfig(**TINY, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0)
        model = BertModel(cfg, add_pooling_layer=True)
        max_len = TINY["max_position_embeddings"]
    else:
        cfg = RobertaConfig(
            **TINY, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2
        )
        model = RobertaModel(cfg, add_pooling_layer=True)
        max_len = TINY["max_position_embeddings"] - cfg.pad_token_id - 1  # positions start at pad+1
    randomise(model, gen)
    model.eval()
    name = f"tiny-{kind}"
    model_dir = OUT / name
    model.save_pretrained(str(model_dir), safe_serialization=True)
    # Reload what was written so the fixture describes the files, not the in-memory model.
    cls_model_cls = BertModel if kind == "bert" else RobertaModel
    model = cls_model_cls.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    clf = None
    if kind == "bert":
        ccfg = BertConfig(**TINY, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, num_labels=3)
        clf = BertForSequenceClassification(ccfg)
        clf.bert.load_state_dict(model.state_dict())
        with torch.no_grad():
            clf.classifier.weight.copy_(torch.randn(clf.classifier.weight.shape, generator=gen) / 32**0.5)
            clf.classifier.bias.copy_(0.2 * torch.randn(3, generator=gen))
        clf.save_pretrained(str(OUT / "tiny-bert-cls"), safe_serialization=True)
        clf = BertForSequenceClassification.from_pretrained(str(OUT / "tiny-bert-cls"), attn_implementation="eager").eval()
        # The same weights as a PyTorch pickle checkpoint (no safetensors in that folder), to test
        # loading .bin files.
        bin_dir = OUT / "tiny-bert-bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.contiguous() for k, v in model.state_dict().items()}, str(bin_dir / "pytorch_model.bin"))
        (bin_dir / "config.json").write_text((model_dir / "config.json").read_text())

    inputs = tiny_inputs(kind, rng, max_len)
    cases = tiny_cases(rng)
    out_cases = []
    for cname, subnet in cases:
        validate_subnet(subnet, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size)
        outputs = []
        worst = 0.0
        for inp in inputs:
            h, pooled = run_masked(model, inp, subnet)
            worst = max(worst, check_against_pruned(model, kind, inp, subnet, h, pooled, (kind, cname, inp["name"])))
            check_head_mask(model, inp, subnet, h, (kind, cname))
            o = {"input": inp["name"], "last_hidden_state": r7(h), "pooler_output": r7(pooled)}
            if clf is not None:
                ids, tt, am = batch_tensors(inp)
                with torch.no_grad(), masked(clf.bert, subnet):
                    logits = clf(input_ids=ids, token_type_ids=tt, attention_mask=am).logits
                    ref = F.linear(pooled, clf.classifier.weight, clf.classifier.bias)
                assert max_abs(logits, ref) < 1e-6
                o["logits"] = r7(logits)
            outputs.append(o)
        out_cases.append(
            {"name": cname, "subnet": subnet, "max_abs_diff_vs_float64_pruned": float(f"{worst:.3g}"), "outputs": outputs}
        )
        print(f"  {name} case {cname}: max |f32 masked - f64 pruned| = {worst:.2e}")

    # Masking a head changes the output here too.
    one = full_subnet(cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size)
    one["layers"][0]["heads"] = [0, 1, 3]
    assert max_abs(run_masked(model, inputs[1], None)[0], run_masked(model, inputs[1], one)[0]) > 1e-3

    doc = {
        "format_version": FORMAT_VERSION,
        "generator": {
            "script": "scripts/reference/make_fixtures.py",
            "regenerate": "scripts/reference/setup.sh && .cache/reference-venv/bin/python scripts/reference/make_fixtures.py",
            "versions": versions(),
            "attn_implementation": "eager",
            "dtype": "float32",
            "seed": SEED,
        },
        "model": {
            "dir": name,
            "kind": kind,
            "class": type(model).__name__,
            "config": {
                k: getattr(cfg, k)
                for k in [
                    "vocab_size",
                    "hidden_size",
                    "num_hidden_layers",
                    "num_attention_heads",
                    "intermediate_size",
                    "max_position_embeddings",
                    "type_vocab_size",
                    "layer_norm_eps",
                    "pad_token_id",
                    "hidden_act",
                ]
            },
            "max_sequence_length": max_len,
            "tensors": tensor_list(model_dir / "model.safetensors"),
        },
        "tolerance": 1e-4,
        "inputs": inputs,
        "cases": out_cases,
    }
    if clf is not None:
        doc["classifier_model"] = {
            "dir": "tiny-bert-cls",
            "class": "BertForSequenceClassification",
            "num_labels": 3,
            "logits": "classifier(pooler_output); the encoder weights under the bert. prefix equal tiny-bert's",
            "tensors": tensor_list(OUT / "tiny-bert-cls" / "model.safetensors"),
        }
    if kind == "roberta":
        doc["model"]["position_ids"] = (
            "cumsum(input_ids != pad_token_id) * (input_ids != pad_token_id) + pad_token_id: "
            "non-pad tokens get pad_token_id+1, pad_token_id+2, ...; pad tokens get pad_token_id"
        )
    dump(doc, OUT / f"{name}.json")
    for p in sorted((model_dir).iterdir()):
        print(f"    {p.relative_to(ROOT)} {p.stat().st_size / 1024:.1f} KiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["minilm", "tiny"], help="generate only one part")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("versions:", json.dumps(versions()))
    if args.only in (None, "tiny"):
        make_tiny("bert")
        make_tiny("roberta")
    if args.only in (None, "minilm"):
        make_minilm()


if __name__ == "__main__":
    main()
