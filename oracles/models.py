"""Torch twins of whole TinyTorch models, built from a dict of parameter arrays named as
TinyTorch names them (``blocks.1.ln2.weight``) and laid out as TinyTorch keeps them (a Linear
weight is (in, out)). Every named piece is a torch module, so a caller can hook each one and
compare a target model with its twin module by module (see ``properties.divergence``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf


def _param(array: np.ndarray) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(np.array(array, dtype=np.float64)))


class Linear(torch.nn.Module):
    """``x @ weight + bias`` with TinyTorch's (in, out) weight."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        super().__init__()
        self.weight = _param(weight)
        self.bias = None if bias is None else _param(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight
        return out if self.bias is None else out + self.bias


class LayerNorm(torch.nn.Module):
    def __init__(self, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = _param(weight), _param(bias), eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tf.layer_norm(x, tuple(self.weight.shape), self.weight, self.bias, self.eps)


class Embedding(torch.nn.Module):
    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.weight = _param(weight)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return tf.embedding(ids.long(), self.weight)


class GELU(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tf.gelu(x)


class MultiHeadAttention(torch.nn.Module):
    """Self-attention: projections, heads split as (B, T, H, d) -> (B, H, T, d), torch's
    ``scaled_dot_product_attention`` per head, merged back, projected."""

    def __init__(self, params: Mapping[str, np.ndarray], prefix: str, num_heads: int) -> None:
        super().__init__()
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self, name, Linear(params[f"{prefix}{name}.weight"],
                                       params[f"{prefix}{name}.bias"]))
        self.num_heads = num_heads

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
        batch, seq, embed = x.shape
        head = embed // self.num_heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(batch, seq, self.num_heads, head).transpose(1, 2)

        out = tf.scaled_dot_product_attention(split(self.q_proj(x)), split(self.k_proj(x)),
                                              split(self.v_proj(x)), attn_mask=allowed)
        return self.out_proj(out.transpose(1, 2).reshape(batch, seq, embed))


class MLP(torch.nn.Module):
    def __init__(self, params: Mapping[str, np.ndarray], prefix: str) -> None:
        super().__init__()
        self.linear1 = Linear(params[f"{prefix}linear1.weight"], params[f"{prefix}linear1.bias"])
        self.gelu = GELU()
        self.linear2 = Linear(params[f"{prefix}linear2.weight"], params[f"{prefix}linear2.bias"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.gelu(self.linear1(x)))


class TransformerBlock(torch.nn.Module):
    """Pre-norm: ``x + attention(ln1(x))``, then ``x + mlp(ln2(x))``."""

    def __init__(self, params: Mapping[str, np.ndarray], prefix: str, num_heads: int) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(params, f"{prefix}attention.", num_heads)
        self.ln1 = LayerNorm(params[f"{prefix}ln1.weight"], params[f"{prefix}ln1.bias"])
        self.ln2 = LayerNorm(params[f"{prefix}ln2.weight"], params[f"{prefix}ln2.bias"])
        self.mlp = MLP(params, f"{prefix}mlp.")

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attention(self.ln1(x), allowed)
        return x + self.mlp(self.ln2(x))


class GPT(torch.nn.Module):
    """Token + learned position embeddings, causal pre-norm blocks, final LayerNorm, a
    bias-free head: logits (batch, seq, vocab)."""

    def __init__(self, params: Mapping[str, np.ndarray], num_layers: int, num_heads: int) -> None:
        super().__init__()
        self.token_embedding = Embedding(params["token_embedding.weight"])
        self.position_embedding = Embedding(params["position_embedding.weight"])
        self.blocks = torch.nn.ModuleList(
            TransformerBlock(params, f"blocks.{i}.", num_heads) for i in range(num_layers))
        self.ln_f = LayerNorm(params["ln_f.weight"], params["ln_f.bias"])
        self.lm_head = Linear(params["lm_head.weight"], None)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        seq = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(seq)[None, :])
        allowed = causal(seq)
        for block in self.blocks:
            x = block(x, allowed)
        return self.lm_head(self.ln_f(x))


def causal(seq: int) -> torch.Tensor:
    """True where query ``t`` may attend to key ``s``: ``s <= t``."""
    return torch.ones(seq, seq, dtype=torch.bool).tril()


def gpt_parameter_shapes(vocab: int, embed: int, num_layers: int,
                         max_seq_len: int) -> dict[str, tuple[int, ...]]:
    """Every GPT parameter's TinyTorch name and shape, in upstream's order."""
    shapes: dict[str, tuple[int, ...]] = {"token_embedding.weight": (vocab, embed),
                                          "position_embedding.weight": (max_seq_len, embed)}
    for i in range(num_layers):
        p = f"blocks.{i}."
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{p}attention.{name}.weight"] = (embed, embed)
            shapes[f"{p}attention.{name}.bias"] = (embed,)
        for name in ("ln1", "ln2"):
            shapes[f"{p}{name}.weight"] = shapes[f"{p}{name}.bias"] = (embed,)
        shapes[f"{p}mlp.linear1.weight"], shapes[f"{p}mlp.linear1.bias"] = (embed, 4 * embed), \
            (4 * embed,)
        shapes[f"{p}mlp.linear2.weight"], shapes[f"{p}mlp.linear2.bias"] = (4 * embed, embed), \
            (embed,)
    shapes["ln_f.weight"] = shapes["ln_f.bias"] = (embed,)
    shapes["lm_head.weight"] = (embed, vocab)
    return shapes


class CNN(torch.nn.Module):
    """A chain of torch layers named ``layers.0``, ``layers.1``, ... from a spec of
    (kind, config) pairs and the TinyTorch-named parameters."""

    def __init__(self, spec: list[tuple[str, dict[str, Any]]],
                 params: Mapping[str, np.ndarray]) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(*(_cnn_layer(kind, config, params, f"layers.{i}.")
                                            for i, (kind, config) in enumerate(spec)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class _Conv2d(torch.nn.Module):
    def __init__(self, weight: np.ndarray, bias: np.ndarray, **geometry: Any) -> None:
        super().__init__()
        self.weight, self.bias, self.geometry = _param(weight), _param(bias), geometry

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tf.conv2d(x, self.weight, self.bias, **self.geometry)


class _BatchNorm2d(torch.nn.Module):
    """Training-mode batch normalisation (the statistics of the batch)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.weight, self.bias = _param(weight), _param(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tf.batch_norm(x, None, None, self.weight, self.bias, training=True)


def _cnn_layer(kind: str, config: dict[str, Any], params: Mapping[str, np.ndarray],
               prefix: str) -> torch.nn.Module:
    if kind == "Conv2d":
        return _Conv2d(params[f"{prefix}weight"], params[f"{prefix}bias"], **config)
    if kind == "BatchNorm2d":
        return _BatchNorm2d(params[f"{prefix}weight"], params[f"{prefix}bias"])
    if kind == "Linear":
        return Linear(params[f"{prefix}weight"], params[f"{prefix}bias"])
    if kind == "ReLU":
        return torch.nn.ReLU()
    if kind == "Tanh":
        return torch.nn.Tanh()
    if kind == "MaxPool2d":
        return torch.nn.MaxPool2d(**config)
    if kind == "AvgPool2d":
        return torch.nn.AvgPool2d(**config)
    if kind == "Flatten":
        return torch.nn.Flatten()
    raise ValueError(f"no torch twin for a {kind} layer")
