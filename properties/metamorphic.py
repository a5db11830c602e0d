"""Laws no oracle states: what must *not* change. Causal attention ignores the future;
unmasked attention commutes with permuting the sequence; LayerNorm ignores a row's shift and
scale; a GPT's logits at position t ignore the tokens after t. Each law is checked on the
target alone, so it holds whatever mask convention or parameter names the target uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from properties import target
from properties.report import expect_close
from properties.tolerances import tolerance_for


def attention_module(embed: int, heads: int) -> Any:
    return target.get().make("MultiHeadAttention", embed, heads)


def self_attend(mha: Any, x: np.ndarray, causal: bool) -> np.ndarray:
    tt = target.get()
    seq = x.shape[1]
    mask = tt.attention_mask(np.tril(np.ones((seq, seq), dtype=bool))) if causal else None
    xt = tt.tensor(x)
    return tt.array(mha(xt) if mask is None else mha(xt, mask))


def check_causal_attention_ignores_the_future(mha: Any, x: np.ndarray, other: np.ndarray,
                                              t: int) -> None:
    """Changing the inputs after position t leaves the outputs up to t as they were."""
    changed = x.copy()
    changed[:, t + 1:] = other[:, t + 1:]
    before, after = self_attend(mha, x, True), self_attend(mha, changed, True)
    expect_close(after[:, : t + 1], before[:, : t + 1], tolerance_for(x.dtype),
                 component="attention", check="causality",
                 what=f"causal attention output at positions <= {t} changed when only the "
                      f"inputs after {t} changed: the future leaks into the past")


def check_attention_commutes_with_permutations(mha: Any, x: np.ndarray,
                                               order: np.ndarray) -> None:
    """Unmasked self-attention of the permuted sequence is the permuted output."""
    out = self_attend(mha, x, False)
    permuted = self_attend(mha, x[:, order], False)
    expect_close(permuted, out[:, order], tolerance_for(x.dtype), component="attention",
                 check="permutation equivariance",
                 what=f"attention of the sequence permuted by {order.tolist()} is not the "
                      f"permuted attention")


def check_layer_norm_ignores_shift_and_scale(x: np.ndarray, shift: np.ndarray,
                                             scale: float) -> None:
    """LayerNorm(scale * x + shift per row) == LayerNorm(x) for scale > 0 (eps 1e-12, so
    the law is exact up to rounding)."""
    tt = target.get()
    layer = tt.shortest("LayerNorm", x.shape[-1], eps=1e-12)
    moved = (x * x.dtype.type(scale) + shift[..., None]).astype(x.dtype)
    expect_close(tt.array(layer(tt.tensor(moved))), tt.array(layer(tt.tensor(x))),
                 tolerance_for(x.dtype), component="layer_norm", check="shift and scale",
                 what=f"LayerNorm changed when each row was scaled by {scale} and shifted")


def check_gpt_ignores_later_tokens(model: Any, ids: np.ndarray, other: np.ndarray,
                                   t: int) -> None:
    tt = target.get()
    changed = ids.copy()
    changed[:, t + 1:] = other[:, t + 1:]
    before = tt.array(model(tt.tensor(ids.astype(np.float32))))
    after = tt.array(model(tt.tensor(changed.astype(np.float32))))
    expect_close(after[:, : t + 1], before[:, : t + 1], tolerance_for(before.dtype),
                 component="gpt", check="causality",
                 what=f"GPT logits at positions <= {t} changed when only tokens after {t} "
                      f"changed ({ids.tolist()} -> {changed.tolist()})")
