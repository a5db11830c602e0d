"""Torch twins of the attention stack: ``F.scaled_dot_product_attention`` (a boolean mask,
True where a query may attend), ``F.multi_head_attention_forward`` with TinyTorch's four
projections mapped onto torch's packed ``in_proj`` (Linear weights are (in, out) in
TinyTorch, so each is transposed), learned and sinusoidal positions, the MLP and the pre-norm
transformer block built from them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf


def _mask(allowed: Any) -> torch.Tensor | None:
    return None if allowed is None else torch.as_tensor(np.asarray(allowed, dtype=bool))


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
              allowed: Any = None) -> torch.Tensor:
    return tf.scaled_dot_product_attention(q, k, v, attn_mask=_mask(allowed))


def attention_weights(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                      allowed: Any = None) -> torch.Tensor:
    """The weights torch's attention uses: ``softmax(q k^T / sqrt(d))`` with blocked scores
    at -inf (``v`` is unused; it is an input so the call matches the output's entry)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if allowed is not None:
        scores = scores.masked_fill(~_mask(allowed), float("-inf"))
    return torch.softmax(scores, dim=-1)


def multi_head_attention(x: torch.Tensor, wq: torch.Tensor, bq: torch.Tensor,
                         wk: torch.Tensor, bk: torch.Tensor, wv: torch.Tensor,
                         bv: torch.Tensor, wo: torch.Tensor, bo: torch.Tensor, *,
                         num_heads: int, allowed: Any = None) -> torch.Tensor:
    """Self-attention of (batch, seq, embed) input through torch's own multi-head code."""
    seq_first = x.transpose(0, 1)
    mask = _mask(allowed)
    out, _ = tf.multi_head_attention_forward(
        seq_first, seq_first, seq_first, x.shape[-1], num_heads,
        torch.cat([wq.T, wk.T, wv.T]), torch.cat([bq, bk, bv]), None, None, False, 0.0,
        wo.T, bo, training=False, need_weights=False,
        attn_mask=None if mask is None else ~mask)  # torch: True = *not* allowed here
    return out.transpose(0, 1)


def add_positions(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Learned positional encoding: row ``t`` of the table added at position ``t``."""
    return x + table[: x.shape[1]]


def sinusoidal(max_seq_len: int, embed_dim: int) -> np.ndarray:
    """sin on even dims, cos on odd dims, of ``p / 10000 ** (2i / embed_dim)``."""
    position = torch.arange(max_seq_len, dtype=torch.float64)[:, None]
    pair = torch.arange(0, embed_dim, 2, dtype=torch.float64)
    angle = position / torch.pow(torch.tensor(10000.0, dtype=torch.float64), pair / embed_dim)
    table = torch.zeros(max_seq_len, embed_dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : embed_dim // 2])
    return table.numpy()


def mlp(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
        b2: torch.Tensor) -> torch.Tensor:
    """``linear2(gelu(linear1(x)))`` with the exact GELU."""
    return tf.linear(tf.gelu(tf.linear(x, w1.T, b1)), w2.T, b2)


def transformer_block(x: torch.Tensor, *params: torch.Tensor, num_heads: int,
                      allowed: Any = None) -> torch.Tensor:
    """Pre-norm: ``x + mha(ln1(x))``, then ``+ mlp(ln2(x))``. ``params`` in TinyTorch's
    order: the attention's eight, ln1's weight and bias, ln2's, the MLP's four."""
    attn, ln1, ln2, feed = params[:8], params[8:10], params[10:12], params[12:16]
    dim = (x.shape[-1],)
    x = x + multi_head_attention(tf.layer_norm(x, dim, *ln1), *attn, num_heads=num_heads,
                                 allowed=allowed)
    return x + mlp(tf.layer_norm(x, dim, *ln2), *feed)
