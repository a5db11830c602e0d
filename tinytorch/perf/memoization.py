"""Memoization (upstream module 17, ``tinytorch.perf.memoization``): a key/value cache for
GPT generation.

Without a cache, generating token t runs the whole context (t rows) through every block
again. With one, the prompt is run once, position by position, each block's keys and values
are stored, and each new token costs one new query row, one new key and value per block, and
one row of attention over the stored keys: the logits are those of the full forward pass (up
to rounding), so greedy decoding picks the same tokens.

``enable_kv_cache(model)`` makes ``model.generate`` use a cache (upstream's entry point);
``disable_kv_cache(model)`` restores the plain one. ``generate_cached`` is the cached loop.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.embeddings import token_ids
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformer import next_tokens

BYTES_PER_FLOAT32 = 4
MB_TO_BYTES = 1024 * 1024


class KVCache:
    """Per layer, keys and values of shape (batch, heads, max_seq_len, head_dim), filled up to
    ``seq_pos``. ``update`` writes position ``seq_pos``; ``advance`` moves past it (upstream's
    protocol: what ``update`` wrote is visible to ``get`` after ``advance``)."""

    def __init__(self, batch_size: int, max_seq_len: int, num_layers: int, num_heads: int,
                 head_dim: int, dtype: Any = np.float32) -> None:
        for name, size in (("batch_size", batch_size), ("max_seq_len", max_seq_len),
                           ("num_layers", num_layers), ("num_heads", num_heads),
                           ("head_dim", head_dim)):
            if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 0:
                raise ValueError(f"KVCache: {name} must be an int >= 0, got {size!r}")
        self.batch_size, self.max_seq_len, self.num_layers = batch_size, max_seq_len, num_layers
        self.num_heads, self.head_dim = num_heads, head_dim
        self.seq_pos = 0
        shape = (batch_size, num_heads, max_seq_len, head_dim)
        self.caches = [(np.zeros(shape, dtype), np.zeros(shape, dtype))
                       for _ in range(num_layers)]

    def _layer(self, layer_idx: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= layer_idx < self.num_layers:
            raise ValueError(f"KVCache: layer {layer_idx} out of range for {self.num_layers} "
                             "layers")
        return self.caches[layer_idx]

    def update(self, layer_idx: int, key: Any, value: Any) -> None:
        """Store one position's keys and values (batch, heads, 1, head_dim) at ``seq_pos``."""
        keys, values = self._layer(layer_idx)
        if self.seq_pos >= self.max_seq_len:
            raise ValueError(f"KVCache: full ({self.max_seq_len} positions)")
        for name, new in (("key", key), ("value", value)):
            new = np.asarray(new.data if isinstance(new, Tensor) else new)
            if new.shape != keys.shape[:2] + (1, keys.shape[3]):
                raise ValueError(f"KVCache.update: {name} must have shape "
                                 f"{keys.shape[:2] + (1, keys.shape[3])}, got {new.shape}")
            (keys if name == "key" else values)[:, :, self.seq_pos:self.seq_pos + 1] = new

    def get(self, layer_idx: int) -> tuple[Tensor, Tensor]:
        """Keys and values of positions ``0 .. seq_pos - 1``."""
        return tuple(Tensor(c[:, :, :self.seq_pos].copy()) for c in self._layer(layer_idx))

    def through_current(self, layer_idx: int) -> tuple[np.ndarray, np.ndarray]:
        """Views of positions ``0 .. seq_pos`` (the one just written included)."""
        return tuple(c[:, :, :self.seq_pos + 1] for c in self._layer(layer_idx))

    def advance(self) -> None:
        self.seq_pos += 1

    def reset(self) -> None:
        self.seq_pos = 0
        for keys, values in self.caches:
            keys.fill(0)
            values.fill(0)

    def get_memory_usage(self) -> dict[str, float]:
        elements = sum(k.size + v.size for k, v in self.caches)
        total = sum(k.nbytes + v.nbytes for k, v in self.caches)
        return {"total_mb": total / MB_TO_BYTES,
                "per_layer_mb": total / max(self.num_layers, 1) / MB_TO_BYTES,
                "cache_tensors": 2 * self.num_layers, "total_elements": elements}


def create_kv_cache(batch_size: int, max_seq_len: int, num_layers: int, num_heads: int,
                    head_dim: int) -> KVCache:
    return KVCache(batch_size, max_seq_len, num_layers, num_heads, head_dim)


def _split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    batch, seq, dim = x.shape
    return x.reshape(batch, seq, heads, dim // heads).transpose(0, 2, 1, 3)


def _cached_attention(block_index: int, attention: Any, h: Tensor, cache: KVCache) -> Tensor:
    """One query row per sequence: its key and value join the cache, it attends to every
    stored position (all earlier, so no mask is needed)."""
    heads = attention.num_heads
    q = _split_heads(attention.q_proj(h).data, heads)
    cache.update(block_index, _split_heads(attention.k_proj(h).data, heads),
                 _split_heads(attention.v_proj(h).data, heads))
    keys, values = cache.through_current(block_index)
    scores = q @ keys.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    out = (weights @ values).transpose(0, 2, 1, 3)
    return attention.out_proj(Tensor(out.reshape(h.shape).astype(h.dtype)))


def cached_step(model: Any, ids: np.ndarray, cache: KVCache) -> np.ndarray:
    """Logits (batch, vocab) for one new token per sequence at position ``cache.seq_pos``;
    the cache then holds that position."""
    position = np.full((ids.shape[0], 1), cache.seq_pos)
    x = model.token_embedding(ids[:, None]) + model.position_embedding(position)
    for i, block in enumerate(model.blocks):
        x = x + _cached_attention(i, block.attention, block.ln1(x), cache)
        x = x + block.mlp(block.ln2(x))
    cache.advance()
    return model.lm_head(model.ln_f(x)).data[:, -1]


def generate_cached(model: Any, prompt_tokens: Any, max_new_tokens: int = 50,
                    temperature: float = 1.0) -> Tensor:
    """``model.generate`` with a KV cache: the same tokens (greedy, ``temperature=0``) or the
    same sampling (NumPy's global generator, one draw per sequence per step)."""
    ids = token_ids(prompt_tokens, model.vocab_size)
    ids = ids[None, :] if ids.ndim == 1 else ids
    if temperature < 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature!r}")
    if ids.shape[1] == 0:
        raise ValueError("generate: the prompt is empty")
    if ids.shape[1] + max_new_tokens - 1 > model.max_seq_len:
        raise ValueError(f"generate with a KV cache: prompt ({ids.shape[1]}) + new tokens "
                         f"({max_new_tokens}) exceed max_seq_len {model.max_seq_len}; the "
                         "cache holds positions, it cannot slide the window")
    dtype = model.token_embedding.weight.dtype
    cache = KVCache(ids.shape[0], model.max_seq_len, len(model.blocks), model.num_heads,
                    model.embed_dim // model.num_heads, dtype)
    model._kv_cache = cache
    with no_grad():
        for t in range(ids.shape[1]):
            logits = cached_step(model, ids[:, t], cache)
        for step in range(max_new_tokens):
            nxt = next_tokens(logits, temperature, model.vocab_size)
            ids = np.concatenate([ids, nxt[:, None]], axis=1)
            if step + 1 < max_new_tokens:
                logits = cached_step(model, nxt, cache)
    return Tensor(ids.astype(np.float32))


def enable_kv_cache(model: Any) -> KVCache:
    """Make ``model.generate`` cache keys and values; returns the (empty) cache, which each
    ``generate`` call refills for its batch."""
    for name in ("embed_dim", "num_heads", "max_seq_len", "blocks"):
        if not hasattr(model, name):
            raise AttributeError(f"enable_kv_cache: the model has no '{name}' (a GPT is "
                                 "needed)")
    if model.embed_dim % model.num_heads:
        raise ValueError(f"enable_kv_cache: embed_dim {model.embed_dim} is not divisible by "
                         f"num_heads {model.num_heads}")
    model._kv_cache = KVCache(1, model.max_seq_len, len(model.blocks), model.num_heads,
                              model.embed_dim // model.num_heads)
    model._cache_enabled = True
    model.generate = lambda prompt_tokens, max_new_tokens=50, temperature=1.0: (
        generate_cached(model, prompt_tokens, max_new_tokens, temperature))
    return model._kv_cache


def disable_kv_cache(model: Any) -> None:
    vars(model).pop("generate", None)
    vars(model).pop("_kv_cache", None)
    model._cache_enabled = False
