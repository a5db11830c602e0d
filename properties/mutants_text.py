"""The text-stack catalog: LayerNorm and Embedding bugs. ``tests/test_ops.py`` must kill them
through the layer_norm and embedding entries."""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import mutant


def _layer_norm_stats_constant(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        _, grad_w, grad_b = orig(self, grad)
        return grad * self.weight * self.inv_std, grad_w, grad_b  # mean, variance: constants

    return backward


mutant("layer_norm_stats_constant", "op:layer_norm",
       "LayerNorm backward treats the mean and the variance as constants (dx = g w / std)",
       transformer__LayerNormFunction__backward=_layer_norm_stats_constant)


def _embedding_repeats_overwrite(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        table = np.zeros((self.rows, grad.shape[-1]), dtype=grad.dtype)
        table[self.params["ids"].reshape(-1)] = grad.reshape(-1, grad.shape[-1])
        return (table,)

    return backward


mutant("embedding_repeats_overwrite", "op:embedding",
       "Embedding backward assigns each id's gradient to its row: repeated ids overwrite "
       "instead of adding up",
       embeddings__EmbeddingFunction__backward=_embedding_repeats_overwrite)
