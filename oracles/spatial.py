"""Torch twins of the spatial layers (NCHW): ``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``
and ``torch.flatten``, with torch's own conventions (zero padding on both sides, a pool's
stride defaulting to its kernel, average pools counting the padding)."""

from __future__ import annotations

import torch
import torch.nn.functional as tf


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
           dilation: int | tuple[int, int] = 1) -> torch.Tensor:
    return tf.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)


def max_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> torch.Tensor:
    return tf.max_pool2d(x, kernel_size, stride=stride, padding=padding)


def avg_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> torch.Tensor:
    return tf.avg_pool2d(x, kernel_size, stride=stride, padding=padding)


def flatten(x: torch.Tensor, start_dim: int = 1, end_dim: int = -1) -> torch.Tensor:
    return torch.flatten(x, start_dim, end_dim)
