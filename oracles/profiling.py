"""FLOP counts from ``torch.utils.flop_counter.FlopCounterMode``: the torch twin of a layer
runs once on zeros of the given shape and torch counts its matrix products (2 FLOPs per
multiply-add; bias additions and elementwise work are not counted).

Attention is written out as its two batched products (scores, then weights times values):
torch's fused ``scaled_dot_product_attention`` is not counted on the CPU math path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as tf
from torch.utils.flop_counter import FlopCounterMode


def _count(fn) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def linear_flops(input_shape: tuple[int, ...], in_features: int, out_features: int,
                 bias: bool = True) -> int:
    layer = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch.float64)
    return _count(lambda: layer(torch.zeros(input_shape, dtype=torch.float64)))


def conv2d_flops(input_shape: tuple[int, ...], out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, bias: bool = True) -> int:
    layer = torch.nn.Conv2d(input_shape[1], out_channels, kernel_size, stride=stride,
                            padding=padding, bias=bias, dtype=torch.float64)
    return _count(lambda: layer(torch.zeros(input_shape, dtype=torch.float64)))


def multi_head_attention_flops(input_shape: tuple[int, int, int], num_heads: int) -> int:
    """Self-attention on (batch, seq, embed): four projections, scores, weighted values."""
    batch, seq, embed = input_shape
    proj = [torch.nn.Linear(embed, embed, dtype=torch.float64) for _ in range(4)]

    def run() -> None:
        x = torch.zeros(input_shape, dtype=torch.float64)

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, seq, num_heads, embed // num_heads).transpose(1, 2)

        q, k, v = (heads(p(x)) for p in proj[:3])
        weights = tf.softmax(q @ k.transpose(-1, -2) / math.sqrt(embed // num_heads), dim=-1)
        proj[3]((weights @ v).transpose(1, 2).reshape(batch, seq, embed))

    return _count(run)


def gpt_flops(vocab: int, embed: int, num_layers: int, num_heads: int, seq: int) -> int:
    """A GPT forward on (1, seq) ids, counted part by part by torch: per block the attention
    and the MLP (embed -> 4 embed -> embed), then the bias-free head (lookups are free)."""
    block = (multi_head_attention_flops((1, seq, embed), num_heads)
             + linear_flops((1, seq, embed), embed, 4 * embed)
             + linear_flops((1, seq, 4 * embed), 4 * embed, embed))
    return num_layers * block + linear_flops((1, seq, embed), embed, vocab, bias=False)
