"""Token embeddings (upstream's ``tinytorch.core.embeddings``): a lookup table whose rows
are learned. Repeated ids in a batch add their gradients into the same row, as in torch."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor


class EmbeddingFunction(Function):
    def forward(self, weight: np.ndarray) -> np.ndarray:
        self.rows = weight.shape[0]
        return weight[self.params["ids"]]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        # Row r of the table sums the gradients of every position holding id r: one
        # bincount over (id, column) slots, far faster than np.add.at (it sums in float64,
        # then the table takes the gradient's dtype).
        width = grad.shape[-1]
        slots = self.params["ids"].reshape(-1, 1) * width + np.arange(width)
        table = np.bincount(slots.reshape(-1), weights=grad.reshape(-1),
                            minlength=self.rows * width)
        return (table.reshape(self.rows, width).astype(grad.dtype, copy=False),)


def token_ids(ids: Any, vocab_size: int) -> np.ndarray:
    """Integer ids (a Tensor of integral floats, as upstream's float32 Tensors hold them, or
    any integer array) as int64, each checked against the vocabulary."""
    array = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise TypeError("Embedding: token ids must be integers")
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"Embedding: token ids must be integers, got dtype {array.dtype}")
    bad = (array < 0) | (array >= vocab_size)
    if np.any(bad):
        raise IndexError(f"Embedding: token id {array[bad][0]} is out of range for a "
                         f"vocabulary of {vocab_size}")
    return array.astype(np.int64)


class Embedding(Module):
    """``weight[ids]``: one ``embed_dim`` row per id; weight initialised N(0, 1) as torch."""

    def __init__(self, vocab_size: int, embed_dim: int) -> None:
        for name, size in (("vocab_size", vocab_size), ("embed_dim", embed_dim)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {size!r}")
        self.vocab_size, self.embed_dim = int(vocab_size), int(embed_dim)
        self.weight = Tensor(np.random.normal(0.0, 1.0, (self.vocab_size, self.embed_dim))
                             .astype(np.float32), requires_grad=True)

    def forward(self, ids: Any) -> Tensor:
        return EmbeddingFunction.apply(self.weight, ids=token_ids(ids, self.vocab_size))


class PositionalEncoding(Module):
    """Learned positions: adds row ``t`` of ``position_embeddings`` (max_seq_len, embed_dim)
    to position ``t`` of a (batch, seq, embed_dim) input."""

    def __init__(self, max_seq_len: int, embed_dim: int) -> None:
        for name, size in (("max_seq_len", max_seq_len), ("embed_dim", embed_dim)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"PositionalEncoding: {name} must be a positive int, "
                                 f"got {size!r}")
        self.max_seq_len, self.embed_dim = int(max_seq_len), int(embed_dim)
        limit = np.sqrt(2.0 / self.embed_dim)
        self.position_embeddings = Tensor(
            np.random.uniform(-limit, limit, (self.max_seq_len, self.embed_dim))
            .astype(np.float32), requires_grad=True)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[2] != self.embed_dim:
            raise ValueError(f"PositionalEncoding expects input (batch, seq, {self.embed_dim}), "
                             f"got shape {x.shape}")
        if x.shape[1] > self.max_seq_len:
            raise ValueError(f"PositionalEncoding: sequence length {x.shape[1]} exceeds "
                             f"max_seq_len {self.max_seq_len}")
        return x + self.position_embeddings[: x.shape[1]]


def create_sinusoidal_embeddings(max_seq_len: int, embed_dim: int) -> Tensor:
    """The fixed encodings of "Attention is all you need": even dims ``sin(p w_i)``, odd
    dims ``cos(p w_i)``, with ``w_i = 10000 ** (-2i / embed_dim)`` for the pair ``i``."""
    positions = np.arange(max_seq_len, dtype=np.float64)[:, None]
    rates = np.exp(-np.log(10000.0) * np.arange(0, embed_dim, 2) / embed_dim)
    table = np.zeros((max_seq_len, embed_dim))
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates[: embed_dim // 2])
    return Tensor(table.astype(np.float32))
