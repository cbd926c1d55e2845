"""Sub-network ("masked mode") semantics on Hugging Face BERT/RoBERTa encoders, shared by
make_fixtures.py and bench_torch.py.

A sub-network is the JSON form of lopper's `Subnet`:

    {"layers": [{"heads": [0, 1, ...], "units": [0, 2, ...]}, null, ...]}

one entry per encoder layer; `null` drops the layer, otherwise ascending unique head indices
(0..num_attention_heads) and FFN unit indices (0..intermediate_size).

Semantics, applied to an unchanged `BertModel`/`RobertaModel` with forward hooks and
per-instance method overrides (transformers' `head_mask` is not used: it is gone in
transformers 5, where BertModel swallows it in **kwargs and ignores it):

* kept layer, unkept heads: the head's slice (head_dim columns) of the self-attention context
  is zeroed before `attention.output.dense`, i.e. its attention probabilities are multiplied
  by 0;
* kept layer with NO head: the whole attention block (including `attention.output.LayerNorm`)
  is skipped: its output is its input hidden state;
* unkept FFN units: the post-GELU activation of `intermediate` is multiplied by 0 for them;
* kept layer with NO unit: the whole FFN block (including `output.LayerNorm`) is skipped: the
  layer's output is the attention block's output;
* dropped layer (`null`): skipped, its output is its input.

`pruned_forward` computes the same thing independently, from the raw state dict, by gathering
the kept rows/columns of the weights ("pruned mode"); make_fixtures.py checks that both agree.
"""

from __future__ import annotations

import contextlib
import math
import types

import torch


def full_subnet(num_layers: int, num_heads: int, intermediate: int) -> dict:
    return {
        "layers": [
            {"heads": list(range(num_heads)), "units": list(range(intermediate))}
            for _ in range(num_layers)
        ]
    }


def validate_subnet(subnet: dict, num_layers: int, num_heads: int, intermediate: int) -> None:
    layers = subnet["layers"]
    assert len(layers) == num_layers, (len(layers), num_layers)
    for keep in layers:
        if keep is None:
            continue
        assert set(keep) == {"heads", "units"}, keep.keys()
        for key, bound in (("heads", num_heads), ("units", intermediate)):
            idx = keep[key]
            assert all(isinstance(i, int) for i in idx)
            assert idx == sorted(set(idx)), f"{key} not ascending/unique"
            assert all(0 <= i < bound for i in idx), f"{key} out of range"


def _skip_layer(self, hidden_states, *args, **kwargs):
    return (hidden_states,)


def _skip_attention(self, hidden_states, *args, **kwargs):
    return (hidden_states,)


def _skip_ffn(self, attention_output):
    return attention_output


@contextlib.contextmanager
def masked(encoder, subnet: dict | None):
    """Applies `subnet` to `encoder` (a BertModel or RobertaModel) for the duration of the
    `with` block. `None` means the full network (no hooks)."""
    if subnet is None:
        yield encoder
        return
    cfg = encoder.config
    num_heads = cfg.num_attention_heads
    head_dim = cfg.hidden_size // num_heads
    layers = encoder.encoder.layer
    validate_subnet(subnet, len(layers), num_heads, cfg.intermediate_size)
    handles = []
    overridden = []  # (object, attribute name)

    def override(obj, name, fn):
        setattr(obj, name, types.MethodType(fn, obj))
        overridden.append((obj, name))

    param = next(encoder.parameters())
    try:
        for layer, keep in zip(layers, subnet["layers"]):
            if keep is None:
                override(layer, "forward", _skip_layer)
                continue
            heads, units = keep["heads"], keep["units"]
            if not heads:
                override(layer.attention, "forward", _skip_attention)
            elif len(heads) < num_heads:
                col = torch.zeros(num_heads, dtype=param.dtype, device=param.device)
                col[heads] = 1
                col = col.repeat_interleave(head_dim)

                def pre(_module, args, col=col):
                    return (args[0] * col,) + tuple(args[1:])

                handles.append(layer.attention.output.dense.register_forward_pre_hook(pre))
            if not units:
                override(layer, "feed_forward_chunk", _skip_ffn)
            elif len(units) < cfg.intermediate_size:
                unit_mask = torch.zeros(cfg.intermediate_size, dtype=param.dtype, device=param.device)
                unit_mask[units] = 1

                def post(_module, _args, out, unit_mask=unit_mask):
                    return out * unit_mask

                handles.append(layer.intermediate.register_forward_hook(post))
        yield encoder
    finally:
        for h in handles:
            h.remove()
        for obj, name in overridden:
            delattr(obj, name)


# --------------------------------------------------------------------------------------------
# Independent "pruned mode" reference, straight from the state dict.


def _ln(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def _gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def position_ids(kind: str, input_ids: torch.Tensor, pad_token_id: int) -> torch.Tensor:
    if kind == "roberta":
        # RoBERTa: positions count the non-pad tokens from pad_token_id + 1; pad tokens (by id,
        # not by attention mask) get position pad_token_id.
        m = (input_ids != pad_token_id).long()
        return torch.cumsum(m, dim=1) * m + pad_token_id
    return torch.arange(input_ids.shape[1]).unsqueeze(0).expand_as(input_ids)


def pruned_forward(sd, cfg, kind, input_ids, token_type_ids, attention_mask, subnet, dtype=torch.float64):
    """Returns (last_hidden_state, pooler_output) computed by gathering the kept weights."""
    g = lambda k: sd[k].to(dtype)  # noqa: E731
    eps = cfg.layer_norm_eps
    H = cfg.num_attention_heads
    d = cfg.hidden_size // H
    pos = position_ids(kind, input_ids, cfg.pad_token_id)
    x = g("embeddings.word_embeddings.weight")[input_ids]
    x = x + g("embeddings.position_embeddings.weight")[pos]
    x = x + g("embeddings.token_type_embeddings.weight")[token_type_ids]
    x = _ln(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), eps)
    key_ok = attention_mask.bool()[:, None, None, :]  # B,1,1,S
    B, S, _ = x.shape
    for i, keep in enumerate(subnet["layers"]):
        if keep is None:
            continue
        p = f"encoder.layer.{i}."
        heads, units = keep["heads"], keep["units"]
        if heads:
            cols = torch.tensor([h * d + j for h in heads for j in range(d)])
            h_n = len(heads)

            def proj(name):
                w = g(p + f"attention.self.{name}.weight")[cols]
                b = g(p + f"attention.self.{name}.bias")[cols]
                return (x @ w.T + b).view(B, S, h_n, d).transpose(1, 2)  # B,h,S,d

            q, k, v = proj("query"), proj("key"), proj("value")
            scores = q @ k.transpose(-1, -2) / math.sqrt(d)
            scores = scores.masked_fill(~key_ok, float("-inf"))
            probs = torch.softmax(scores, dim=-1)
            ctx = (probs @ v).transpose(1, 2).reshape(B, S, h_n * d)
            wo = g(p + "attention.output.dense.weight")[:, cols]
            out = ctx @ wo.T + g(p + "attention.output.dense.bias")
            x = _ln(out + x, g(p + "attention.output.LayerNorm.weight"), g(p + "attention.output.LayerNorm.bias"), eps)
        if units:
            u = torch.tensor(units)
            hmid = _gelu(x @ g(p + "intermediate.dense.weight")[u].T + g(p + "intermediate.dense.bias")[u])
            out = hmid @ g(p + "output.dense.weight")[:, u].T + g(p + "output.dense.bias")
            x = _ln(out + x, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"), eps)
    pooled = torch.tanh(x[:, 0] @ g("pooler.dense.weight").T + g("pooler.dense.bias"))
    return x, pooled
