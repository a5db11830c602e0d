"""The attention and model catalog: masks, scaling, softmax axes, head layout, and a bug
hidden in one module of a deep model (the divergence report must name that module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant


def _mask_allowing_the_future(orig: Any) -> Any:
    def create(seq_len: int) -> Any:
        return orig(seq_len) * 0 + 1  # every key open: the future leaks into the past

    return create


mutant("causal_mask_allows_the_future", "models",
       "create_causal_mask opens every key, so position t attends to tokens after t",
       transformer__create_causal_mask=_mask_allowing_the_future)  # what GPT calls


def _mask_blocking_the_present(orig: Any) -> Any:
    def create(seq_len: int) -> Any:
        mask = orig(seq_len)
        strict = np.tril(np.ones((1, seq_len, seq_len), np.float32), k=-1)
        strict[..., 0, 0] = 1.0  # the first query keeps one key (else its row has no softmax)
        return type(mask)(strict)

    return create


mutant("causal_mask_blocks_the_present", "models",
       "create_causal_mask blocks the diagonal: position t attends only to tokens before t",
       transformer__create_causal_mask=_mask_blocking_the_present)


def _softmax_over_queries(orig: Any) -> Any:
    def softmax(x: Any, dim: int = -1) -> Any:
        return orig(x, -2)  # normalises each key's column, not each query's row

    return softmax


mutant("attention_softmax_wrong_axis", "op:attention or multi_head_attention",
       "attention normalises its scores over the queries (dim -2) instead of the keys",
       attention__softmax=_softmax_over_queries)


def _unscaled(orig: Any) -> Any:
    def attend(Q: Any, K: Any, V: Any, mask: Any = None, causal: bool = False) -> Any:
        return orig(Q * float(np.sqrt(Q.shape[-1])), K, V, mask, causal)  # cancels 1/sqrt(d)

    return attend


mutant("attention_without_scaling", "op:attention or multi_head_attention",
       "attention scores are Q K^T, without the 1/sqrt(d) scaling",
       attention__scaled_dot_product_attention=_unscaled)


def _split_heads_transposed(orig: Any) -> Any:
    def split(self: Any, x: Any) -> Any:
        batch, seq, _ = x.shape  # (B, T, d, H): heads interleaved, merged back as (B, T, H, d)
        return x.reshape(batch, seq, self.head_dim, self.num_heads).permute(0, 3, 1, 2)

    return split


mutant("heads_split_and_merged_differently", "op:multi_head_attention",
       "MultiHeadAttention splits the embedding as (d, heads) but merges it as (heads, d)",
       attention__MultiHeadAttention___split=_split_heads_transposed)


def _one_layer_norm_broken(orig: Any) -> Any:
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        if len(self.blocks) >= 2:
            norm = self.blocks[1].ln1
            function = _m("transformer").LayerNormFunction

            class ConstantStats(function):  # type: ignore[misc, valid-type]
                def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
                    _, grad_w, grad_b = super().backward(grad)
                    return grad * self.weight * self.inv_std, grad_w, grad_b

            norm.forward = lambda x: ConstantStats.apply(x, norm.weight, norm.bias,
                                                         eps=norm.eps)

    return init


mutant("layer_norm_backward_bug_in_block_2", "models",
       "in block 2 of a GPT only, ln1's backward treats the mean and variance as constants",
       **{"transformer.GPT.__init__": _one_layer_norm_broken})


def _masked_by_default(orig: Any) -> Any:
    def forward(self: Any, x: Any, mask: Any = None, causal: bool = False) -> Any:
        return orig(self, x, mask, causal=causal or mask is None)  # no mask means causal

    return forward


mutant("attention_causal_by_default", "models",
       "MultiHeadAttention without a mask attends causally instead of to every position",
       attention__MultiHeadAttention__forward=_masked_by_default)


def _layer_norm_uncentred(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        out = orig(self, x, weight, bias)
        axes = self.axes  # RMS normalisation: the row's mean is never subtracted
        self.normed = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + self.params["eps"])
        return (self.normed * weight + bias).astype(out.dtype)

    return forward


mutant("layer_norm_without_centering", "models",
       "LayerNorm divides by the root mean square without subtracting the row's mean",
       transformer__LayerNormFunction__forward=_layer_norm_uncentred)


def _sin_cos_swapped(orig: Any) -> Any:
    def create(max_seq_len: int, embed_dim: int) -> Any:
        table = orig(max_seq_len, embed_dim)
        data = table.data.copy()
        pairs = embed_dim // 2 * 2  # each (sin, cos) pair written the other way round
        data[:, 0:pairs:2], data[:, 1:pairs:2] = table.data[:, 1:pairs:2], table.data[:, 0:pairs:2]
        return type(table)(data)

    return create


mutant("sinusoidal_sin_cos_swapped", "models",
       "create_sinusoidal_embeddings puts cos on the even dims and sin on the odd ones",
       embeddings__create_sinusoidal_embeddings=_sin_cos_swapped)


def _positions_shifted(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        seq = x.shape[1]  # rows 1..seq instead of 0..seq-1 (wraps to row 0 at the end)
        rows = [(t + 1) % self.max_seq_len for t in range(seq)]
        return x + self.position_embeddings[rows]

    return forward


mutant("positional_encoding_off_by_one", "op:positional_encoding",
       "learned positional encoding adds row t + 1 at position t",
       embeddings__PositionalEncoding__forward=_positions_shifted)


def _generate_from_the_first_position(orig: Any) -> Any:
    def generate(self: Any, prompt_tokens: Any, max_new_tokens: int = 50,
                 temperature: float = 1.0) -> Any:
        forward = self.forward

        def first_position_last(tokens: Any) -> Any:  # logits[:, 0] read as the last position
            logits = forward(tokens)
            return logits[:, :1] if logits.shape[1] > 1 else logits

        self.forward = first_position_last
        try:
            return orig(self, prompt_tokens, max_new_tokens, temperature)
        finally:
            del self.forward

    return generate


mutant("generate_reads_the_first_position", "models",
       "GPT.generate picks the next token from the first position's logits, not the last",
       transformer__GPT__generate=_generate_from_the_first_position)
