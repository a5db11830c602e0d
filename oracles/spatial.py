"""Torch twins of the spatial layers (NCHW): ``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``
``torch.flatten`` and ``F.batch_norm``, with torch's own conventions (zero padding on
both sides, a pool's stride defaulting to its kernel, average pools counting the padding)."""

from __future__ import annotations

from typing import Any

import numpy as np
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


def batch_norm2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, *, training: bool,
                 running_mean: Any, running_var: Any, eps: float = 1e-5,
                 momentum: float = 0.1) -> torch.Tensor:
    """``nn.BatchNorm2d``'s forward: batch statistics in training, running ones in evaluation
    (the running statistics are copies: their update is read off :func:`batch_norm2d_stats`)."""
    mean = torch.as_tensor(np.array(running_mean, dtype=np.float64)).to(x.dtype)
    var = torch.as_tensor(np.array(running_var, dtype=np.float64)).to(x.dtype)
    return tf.batch_norm(x, mean, var, weight, bias, training=training, momentum=momentum,
                         eps=eps)


def batch_norm2d_stats(batches: list[np.ndarray], *, running_mean: Any, running_var: Any,
                       momentum: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The running mean and variance after ``nn.BatchNorm2d`` in training mode has seen
    ``batches`` in turn, starting from the given statistics."""
    mean = torch.as_tensor(np.array(running_mean, dtype=np.float64))
    var = torch.as_tensor(np.array(running_var, dtype=np.float64))
    for batch in batches:
        tf.batch_norm(torch.as_tensor(np.asarray(batch, dtype=np.float64)), mean, var,
                      training=True, momentum=momentum)
    return mean.numpy(), var.numpy()
