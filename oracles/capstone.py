"""The torch side of the capstone scenarios: a twin model trained on the same batches with the
same optimizer, step by step, reporting its loss at every step.

The twin is any module of :mod:`oracles.models` (a GPT, or a chain of layers in TinyTorch's
layout), built by the caller from the very weights the target starts from. Logits of any rank
are flattened to (rows, classes) before the loss, as a language model's next-token loss is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from oracles.autodiff import to_torch
from oracles.optim import make_optimizer
from oracles.training import loss_value

Batch = tuple[np.ndarray, np.ndarray]


def loss_curve(twin: torch.nn.Module, loss: str, optimizer: str, hyper: Mapping[str, Any],
               batches: Sequence[Batch]) -> list[float]:
    """zero_grad, forward, loss, backward, step on each batch in turn; the loss of each step
    (before its update), in float64."""
    twin = twin.to(torch.float64).train()
    opt = make_optimizer(optimizer, twin.parameters(), hyper)
    curve = []
    for x, y in batches:
        opt.zero_grad()
        out = twin(to_torch(x))
        value = loss_value(loss, out.reshape(-1, out.shape[-1]), np.asarray(y).reshape(-1))
        value.backward()
        opt.step()
        curve.append(value.item())
    return curve
