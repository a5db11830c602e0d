"""KV-cache laws: cached greedy generation picks the tokens uncached generation picks, each
cached step feeds one new row per sequence through the attention projections, and the
cache's update/advance/get protocol returns exactly what was stored.

Greedy decoding is an arg-max, a kink: the cached and the full forward pass round
differently, so two logits within rounding of each other may swap. Where the sequences
first part, the cached token must then be within the model tolerance of the best logit of
the full forward pass (a tie, stated as the convention); anything farther is a wrong token.
The model's head has distinct weights (``gpt_cases(distinct_logits=True)``), so exact ties
do not arise by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from properties import systems, target
from properties.models import GPTCase, build_gpt, gpt_cases, model_tolerance
from properties.report import fail, replayable
from properties.strategies import Sample


@dataclass(frozen=True)
class CacheCase:
    gpt: GPTCase
    prompt: np.ndarray  # (batch, length) ids
    new_tokens: int

    def sample(self) -> Sample:
        return Sample((self.prompt,), {"model": self.gpt.describe(),
                                       "new_tokens": self.new_tokens})


@st.composite
def cache_cases(draw: st.DrawFn) -> CacheCase:
    """A prompt and a number of new tokens such that every forward pass fits ``max_seq_len``
    (the last one runs on prompt + new - 1 tokens)."""
    gpt = draw(gpt_cases(max_layers=2, distinct_logits=True))
    length = draw(st.integers(1, gpt.max_seq_len), label="prompt length")
    new = draw(st.integers(1, gpt.max_seq_len - length + 1), label="new tokens")
    prompt = draw(hnp.arrays(np.int64, (gpt.ids.shape[0], length),
                             elements=st.integers(0, gpt.vocab - 1)), label="prompt")
    return CacheCase(gpt, prompt, new)


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    differ = np.flatnonzero(np.any(a != b, axis=0))
    return int(differ[0]) if differ.size else None


@replayable
def check_cached_generation_equals_uncached(case: CacheCase) -> None:
    model = build_gpt(case.gpt, target.get().compute_dtype())
    seen = check_cache_keeps_tokens(model, case.prompt, case.new_tokens, case.sample())
    check_one_new_row_per_step(case, seen, len(model.blocks))


def check_cache_keeps_tokens(model: Any, prompt: np.ndarray, new_tokens: int,
                             sample: Sample) -> list[tuple[int, ...]]:
    """Greedy generation with the model's KV cache enabled gives the tokens it gives without
    (up to ties, see the module docstring); returns the input shapes each block's query
    projection saw during the cached run."""
    tt = target.get()
    plain = systems.generate(model, prompt, new_tokens)
    with systems.kv_cache(model):
        projections = [block.attention.q_proj for block in model.blocks]
        with systems.rows_seen(projections) as seen:
            cached = systems.generate(model, prompt, new_tokens)
    if cached.shape != plain.shape:
        fail("kv_cache", "cached = uncached", f"cached generation gave shape {cached.shape}, "
             f"uncached {plain.shape}", sample)
    t = _first_difference(cached, plain)
    if t is not None:
        logits = tt.array(model(tt.tensor(cached[:, :t].astype(np.float32))))[:, -1]
        best = logits.max(axis=-1)
        picked = logits[np.arange(len(logits)), cached[:, t]]
        tol = model_tolerance(logits.dtype)
        if np.any(best - picked > tol.atol + tol.rtol * np.abs(best)):
            fail("kv_cache", "cached = uncached", f"with the cache, position {t} is token "
                 f"{cached[:, t].tolist()}; without it {plain[:, t].tolist()}", sample,
                 f"  uncached: {plain.tolist()}\n  cached:   {cached.tolist()}\n  logits of the "
                 f"full forward at position {t - 1}: {np.round(logits, 6).tolist()}")
    return seen


def check_one_new_row_per_step(case: CacheCase, seen: list[tuple[int, ...]],
                               layers: int) -> None:
    """Per layer, the query projection sees the prompt once (all at once or a row at a
    time) and then one row per new token: at most prompt + new rows in all, never the whole
    context again."""
    length = case.prompt.shape[1]
    rows = [shape[-2] if len(shape) >= 3 else 1 for shape in seen]
    per_layer = [rows[i::layers] for i in range(layers)] if layers else []
    for layer, calls in enumerate(per_layer):
        later = calls[1:] if calls and calls[0] == length else calls
        if sum(calls) > length + case.new_tokens or any(r != 1 for r in later):
            fail("kv_cache", "O(1) rows per cached step", f"block {layer}'s query projection "
                 f"saw rows {calls} for a prompt of {length} and {case.new_tokens} new tokens "
                 f"(at most {length + case.new_tokens} in all, one per step after the prompt)",
                 case.sample())


@dataclass(frozen=True)
class ProtocolCase:
    batch: int
    heads: int
    head_dim: int
    layers: int
    max_seq_len: int
    keys: np.ndarray  # (positions, layers, batch, heads, 1, head_dim)
    values: np.ndarray

    def sample(self) -> Sample:
        return Sample((self.keys, self.values), {"max_seq_len": self.max_seq_len})


@st.composite
def protocol_cases(draw: st.DrawFn) -> ProtocolCase:
    batch, heads, dim, layers = (draw(st.integers(1, 3)) for _ in range(4))
    max_len = draw(st.integers(1, 5))
    positions = draw(st.integers(0, max_len))
    shape = (positions, layers, batch, heads, 1, dim)
    keys = draw(hnp.arrays(np.float32, shape, elements=st.floats(-4, 4, width=32)))
    values = draw(hnp.arrays(np.float32, shape, elements=st.floats(-4, 4, width=32)))
    return ProtocolCase(batch, heads, dim, layers, max_len, keys, values)


@replayable
def check_cache_returns_what_was_stored(case: ProtocolCase) -> None:
    """``update`` every layer, ``advance``, repeated: ``get(layer)`` then holds exactly the
    keys and values of positions 0 .. seq_pos - 1, in order; ``reset`` empties it."""
    tt = target.get()
    cache = tt.make("KVCache", case.batch, case.max_seq_len, case.layers, case.heads,
                    case.head_dim)
    for pos in range(case.keys.shape[0]):
        for layer in range(case.layers):
            cache.update(layer, tt.tensor(case.keys[pos, layer]),
                         tt.tensor(case.values[pos, layer]))
        cache.advance()
        for layer in range(case.layers):
            got = [np.asarray(tt.array(t)) for t in cache.get(layer)]
            want = [np.concatenate(list(a[:pos + 1, layer]), axis=2)
                    for a in (case.keys, case.values)]
            for what, g, w in zip(("keys", "values"), got, want):
                if g.shape != w.shape or not np.array_equal(g, w):
                    fail("KVCache", "get returns what was stored", f"after {pos + 1} "
                         f"positions, get({layer}) {what} have shape {g.shape} and differ "
                         f"from the stored ones {w.shape}", case.sample(),
                         f"  got:\n{g}\n  stored:\n{w}")
    cache.reset()
    if int(cache.seq_pos) != 0 or any(np.asarray(tt.array(t)).shape[2] != 0
                                      for t in cache.get(0)):
        fail("KVCache", "reset", f"after reset(), seq_pos is {cache.seq_pos} and get(0) is "
             "not empty", case.sample())
