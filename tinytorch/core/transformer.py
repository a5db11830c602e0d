"""Transformer building blocks (upstream's ``tinytorch.core.transformer``): LayerNorm, MLP,
the pre-norm TransformerBlock and a GPT (decoder-only language model) with ``generate``.

LayerNorm's backward goes through the mean and the variance (both depend on every input of
the row): ``dx = (g - mean(g) - y mean(g y)) / std`` with ``g = dL/dy * weight`` and ``y`` the
normalised input, over the normalised dims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.activations import GELU
from tinytorch.core.attention import MultiHeadAttention, create_causal_mask
from tinytorch.core.autograd import Function, no_grad
from tinytorch.core.embeddings import Embedding, token_ids
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor

__all__ = ["GPT", "MLP", "LayerNorm", "TransformerBlock", "create_causal_mask"]


class LayerNormFunction(Function):
    """One node for the whole normalisation. Rows are the input's normalised dims flattened
    (``(rows, n)``); each row's sums are matrix-vector products, which NumPy runs far faster
    than reductions over a short last axis. ``normed`` and ``inv_std`` keep the input's
    shape (``inv_std`` with the normalised dims as 1s)."""

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        self.axes = tuple(range(x.ndim - weight.ndim, x.ndim))
        n = weight.size
        rows = x.reshape(-1, n)
        # rows @ average: each row's mean (float16 is averaged in float32, as np.mean does)
        self.average = np.full(n, 1.0 / n, dtype=np.result_type(x.dtype, np.float32))
        centered = rows - (rows @ self.average)[:, None]
        inv_std = 1.0 / np.sqrt((centered * centered) @ self.average + self.params["eps"])
        centered *= inv_std[:, None]
        self.normed = centered.reshape(x.shape)
        self.inv_std = inv_std.reshape(x.shape[:x.ndim - weight.ndim] + (1,) * weight.ndim)
        self.weight = weight
        out = centered * weight.reshape(n)
        if out.dtype == np.result_type(out, bias):
            out += bias.reshape(n)
        else:
            out = out + bias.reshape(n)
        return out.reshape(x.shape).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.weight.size
        upstream = grad.reshape(-1, n)
        normed = self.normed.reshape(-1, n)
        g = np.multiply(upstream, self.weight.reshape(n),  # the dtype all the terms promote to
                        dtype=np.result_type(upstream, self.weight, normed, self.inv_std))
        mean_g = g @ self.average
        mean_gy = np.einsum("ij,ij->i", g, normed) * (1.0 / n)
        g -= mean_g[:, None]
        g -= normed * mean_gy[:, None]
        g *= self.inv_std.reshape(-1, 1)
        grad_w = np.einsum("ij,ij->j", upstream, normed).reshape(self.weight.shape)
        grad_b = upstream.sum(axis=0).reshape(self.weight.shape)
        return g.reshape(grad.shape), grad_w, grad_b


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift
    (``weight`` ones and ``bias`` zeros at first, as torch)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
                            for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got "
                             f"{normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.normalized_shape, self.eps = tuple(int(n) for n in shape), float(eps)
        self.weight = Tensor(np.ones(self.normalized_shape, np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(self.normalized_shape, np.float32), requires_grad=True)

    def forward(self, x: Tensor) -> Tensor:
        n = len(self.normalized_shape)
        if x.ndim < n or x.shape[x.ndim - n:] != self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}) expects input whose last "
                             f"dims are {self.normalized_shape}, got shape {x.shape}")
        return LayerNormFunction.apply(x, self.weight, self.bias, eps=self.eps)


class MLP(Module):
    """The position-wise feed-forward network: ``linear2(gelu(linear1(x)))``, hidden width
    ``4 * embed_dim`` unless given. ``dropout_prob`` is accepted for upstream's signature and
    unused (as upstream's)."""

    def __init__(self, embed_dim: int, hidden_dim: int | None = None,
                 dropout_prob: float = 0.1) -> None:
        self.embed_dim = embed_dim
        self.hidden_dim = 4 * embed_dim if hidden_dim is None else hidden_dim
        self.linear1 = Linear(embed_dim, self.hidden_dim)
        self.gelu = GELU()
        self.linear2 = Linear(self.hidden_dim, embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.gelu(self.linear1(x)))


class TransformerBlock(Module):
    """Pre-norm block: ``x + attention(ln1(x), mask)``, then ``x + mlp(ln2(x))``."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: float = 4,
                 dropout_prob: float = 0.1) -> None:
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln1 = LayerNorm(embed_dim)
        self.ln2 = LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, int(embed_dim * mlp_ratio), dropout_prob)

    def forward(self, x: Tensor, mask: Any = None) -> Tensor:
        x = x + self.attention(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


def next_tokens(logits: np.ndarray, temperature: float, vocab_size: int) -> np.ndarray:
    """One token id per row of ``logits`` (batch, vocab): the arg-max when ``temperature`` is 0,
    else a draw from ``softmax(logits / temperature)`` with NumPy's global generator (shared
    by the plain and the cached generation loops, so both consume the generator alike)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1)
    z = logits / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([np.random.choice(vocab_size, p=row) for row in p])


class GPT(Module):
    """Token and (learned) position embeddings, ``num_layers`` causal blocks, a final
    LayerNorm and a bias-free head to vocabulary logits (batch, seq, vocab_size)."""

    def __init__(self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int,
                 max_seq_len: int = 1024) -> None:
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"GPT: num_layers must be an int >= 0, got {num_layers!r}")
        self.vocab_size, self.embed_dim, self.num_layers = vocab_size, embed_dim, num_layers
        self.num_heads, self.max_seq_len = num_heads, max_seq_len
        self.token_embedding = Embedding(vocab_size, embed_dim)
        self.position_embedding = Embedding(max_seq_len, embed_dim)
        self.blocks = [TransformerBlock(embed_dim, num_heads) for _ in range(num_layers)]
        self.ln_f = LayerNorm(embed_dim)
        self.lm_head = Linear(embed_dim, vocab_size, bias=False)

    def forward(self, tokens: Any) -> Tensor:
        ids = token_ids(tokens, self.vocab_size)
        if ids.ndim != 2:
            raise ValueError(f"GPT expects token ids of shape (batch, seq), got {ids.shape}")
        seq = ids.shape[1]
        if seq > self.max_seq_len:
            raise ValueError(f"GPT: sequence length {seq} exceeds max_seq_len "
                             f"{self.max_seq_len}")
        x = self.token_embedding(ids) + self.position_embedding(np.arange(seq)[None, :])
        mask = create_causal_mask(seq)
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.ln_f(x))

    def generate(self, prompt_tokens: Any, max_new_tokens: int = 50,
                 temperature: float = 1.0) -> Tensor:
        """Append ``max_new_tokens`` tokens to each prompt row, one at a time, each from the
        logits of the last position (the context cut to ``max_seq_len``): sampled from
        ``softmax(logits / temperature)`` with NumPy's global generator, or the arg-max when
        ``temperature`` is 0 (greedy decoding, deterministic)."""
        ids = token_ids(prompt_tokens, self.vocab_size)
        ids = ids[None, :] if ids.ndim == 1 else ids
        if temperature < 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0, got {temperature!r}")
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self.forward(ids[:, -self.max_seq_len:]).data[:, -1]
                nxt = next_tokens(logits, temperature, self.vocab_size)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
        return Tensor(ids.astype(np.float32))
