"""Attention (upstream's ``tinytorch.core.attention``): scaled dot-product attention and
multi-head self-attention, composed of Tensor operations so autograd needs nothing new.

Mask convention (upstream's): a mask holds 1 (or True) where a query may attend to a key
and 0 where it may not; it broadcasts against the (..., queries, keys) scores. Blocked
scores become -inf before the softmax, so they get exactly zero weight and no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.activations import softmax
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor, where


def create_causal_mask(seq_len: int) -> Tensor:
    """(1, seq_len, seq_len) lower-triangular ones: query ``t`` attends to keys ``<= t``."""
    return Tensor(np.tril(np.ones((1, seq_len, seq_len), dtype=np.float32)))


def _allowed(mask: Any, scores_shape: tuple[int, ...]) -> np.ndarray:
    allowed = np.asarray(mask.data if isinstance(mask, Tensor) else mask) != 0
    try:
        np.broadcast_shapes(allowed.shape, scores_shape)
    except ValueError:
        raise ValueError(f"attention mask of shape {allowed.shape} does not broadcast against "
                         f"the scores (..., queries, keys) {scores_shape}") from None
    return allowed


def scaled_dot_product_attention(Q: Tensor, K: Tensor, V: Tensor, mask: Any = None,
                                 causal: bool = False) -> tuple[Tensor, Tensor]:
    """``softmax(Q K^T / sqrt(d) + blocked) V`` over the last two dims; returns the output
    (..., queries, d_v) and the attention weights (..., queries, keys)."""
    if Q.ndim < 2 or K.ndim != Q.ndim or V.ndim != Q.ndim:
        raise ValueError(f"attention expects Q, K, V of equal rank >= 2, got shapes "
                         f"{Q.shape}, {K.shape}, {V.shape}")
    if Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"attention: Q {Q.shape} and K {K.shape} must share the last dim, "
                         f"K and V {V.shape} the number of keys")
    scores = (Q @ K.transpose(-2, -1)) * (1.0 / np.sqrt(Q.shape[-1]))
    allowed = None
    if mask is not None:
        allowed = _allowed(mask, scores.shape)
    if causal:
        below = np.tril(np.ones(scores.shape[-2:], dtype=bool))
        allowed = below if allowed is None else allowed & below
    if allowed is not None:
        if not np.all(np.any(np.broadcast_to(allowed, scores.shape), axis=-1)):
            raise ValueError("attention mask blocks every key for some query")
        scores = where(allowed, scores, -np.inf)
    weights = softmax(scores, -1)
    return weights @ V, weights


class MultiHeadAttention(Module):
    """Self-attention with ``num_heads`` heads of ``embed_dim // num_heads`` dims: project
    to queries, keys and values (``q_proj``, ``k_proj``, ``v_proj``), split the last dim
    into heads (``(B, T, H, d) -> (B, H, T, d)``), attend per head, merge in the inverse
    order and project (``out_proj``)."""

    def __init__(self, embed_dim: int, num_heads: int) -> None:
        for name, size in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"MultiHeadAttention: {name} must be a positive int, "
                                 f"got {size!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention: embed_dim {embed_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.q_proj = Linear(embed_dim, embed_dim)
        self.k_proj = Linear(embed_dim, embed_dim)
        self.v_proj = Linear(embed_dim, embed_dim)
        self.out_proj = Linear(embed_dim, embed_dim)

    def _split(self, x: Tensor) -> Tensor:
        batch, seq, _ = x.shape
        return x.reshape(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor, mask: Any = None, causal: bool = False) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention({self.embed_dim}, {self.num_heads}) expects "
                             f"input (batch, seq, {self.embed_dim}), got shape {x.shape}")
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
            if mask.ndim == 3:  # (batch, queries, keys): the same mask for every head
                mask = mask[:, None]
        heads, _ = scaled_dot_product_attention(
            self._split(self.q_proj(x)), self._split(self.k_proj(x)),
            self._split(self.v_proj(x)), mask=mask, causal=causal)
        batch, seq = x.shape[:2]
        merged = heads.transpose(1, 2).reshape(batch, seq, self.embed_dim)
        return self.out_proj(merged)
