"""Attention (upstream's ``tinytorch.core.attention``): scaled dot-product attention and
multi-head self-attention.

Mask convention (upstream's): a mask holds 1 (or True) where a query may attend to a key
and 0 where it may not; it broadcasts against the (..., queries, keys) scores. Blocked
scores become -inf before the softmax, so they get exactly zero weight and no gradient.

Three nodes make the attention core: the scores ``Q K^T / sqrt(d)`` with the mask applied
(one node, :class:`AttentionScoresFunction`), the softmax over the keys, and the product
with ``V``. Splitting the heads and merging them back are one node each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.activations import softmax
from tinytorch.core.autograd import Function, unbroadcast
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor, _check_matmul


class AttentionScoresFunction(Function):
    """``Q K^T * scale`` over the last two dims, set to -inf where ``blocked`` (a fixed
    boolean array that broadcasts against the scores, or None). Backward: the gradient of
    the scores, zeroed where blocked and scaled, goes to ``Q`` through ``K`` and to ``K``
    through ``Q`` (each summed back over broadcast batch dims)."""

    def forward(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        self.q, self.k = q, k
        scores = np.matmul(q, np.swapaxes(k, -1, -2))
        scores *= self.params["scale"]
        if self.params["blocked"] is not None:
            np.copyto(scores, -np.inf, where=self.params["blocked"])
        return scores

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        g = grad * self.params["scale"]
        if self.params["blocked"] is not None:
            np.copyto(g, 0, where=self.params["blocked"])
        q_wants, k_wants = (t.requires_grad for t in self.inputs)
        grad_q = unbroadcast(np.matmul(g, self.k), self.q.shape) if q_wants else None
        grad_k = unbroadcast(np.matmul(np.swapaxes(g, -1, -2), self.q), self.k.shape) \
            if k_wants else None
        return grad_q, grad_k


class SplitHeadsFunction(Function):
    """(batch, seq, heads * d) -> (batch, heads, seq, d): a reshape and a transpose."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch, seq, _ = x.shape
        return x.reshape(batch, seq, self.params["heads"], -1).transpose(0, 2, 1, 3)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        batch, heads, seq, d = grad.shape
        return (grad.transpose(0, 2, 1, 3).reshape(batch, seq, heads * d),)


class MergeHeadsFunction(Function):
    """(batch, heads, seq, d) -> (batch, seq, heads * d): the inverse of the split."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch, heads, seq, d = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, seq, heads * d)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        batch, seq, _ = grad.shape
        return (grad.reshape(batch, seq, self.params["heads"], -1).transpose(0, 2, 1, 3),)


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
    _check_matmul(Q.shape, K.shape[:-2] + K.shape[:-3:-1])  # Q @ K^T: its errors, as before
    shape = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2])
    allowed = None
    if mask is not None:
        allowed = _allowed(mask, shape)
    if causal:
        below = np.tril(np.ones(shape[-2:], dtype=bool))
        allowed = below if allowed is None else allowed & below
    if allowed is not None:
        _check_every_query_sees_a_key(allowed, shape)
    scores = AttentionScoresFunction.apply(
        Q, K, scale=float(1.0 / np.sqrt(Q.shape[-1])),
        blocked=None if allowed is None else ~allowed)
    weights = softmax(scores, -1)
    return weights @ V, weights


def _check_every_query_sees_a_key(allowed: np.ndarray, shape: tuple[int, ...]) -> None:
    """Raise unless every row of the scores (of ``shape``) keeps a key. The mask is
    reduced over the keys at its own (broadcastable) size, not at the scores' size."""
    if np.broadcast_shapes(allowed.shape, shape) != shape:
        np.broadcast_to(allowed, shape)  # raises NumPy's error, as it always did
    padded = allowed.reshape((1,) * (len(shape) - allowed.ndim) + allowed.shape)
    per_row = np.any(np.broadcast_to(padded, padded.shape[:-1] + shape[-1:]), axis=-1)
    if not np.all(np.broadcast_to(per_row, shape[:-1])):
        raise ValueError("attention mask blocks every key for some query")


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
        return SplitHeadsFunction.apply(x, heads=self.num_heads)

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
        return self.out_proj(MergeHeadsFunction.apply(heads, heads=self.num_heads))
