"""torch's side of the speed benchmarks: the same workloads as the target's, from the same
weights and data (float32, CPU, torch's default threads), each as a closure that runs one
step. ``properties.benchmarks`` times them next to the target's in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as tf

from oracles.models import GPT


def _f32(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(array, dtype=np.float32))


def mlp_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray,
             lr: float) -> Callable[[], None]:
    """One SGD step of Linear-ReLU-...-Linear on cross-entropy (weights in (in, out))."""
    layers: list[torch.nn.Module] = []
    for k, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(_f32(w).T)
            lin.bias.copy_(_f32(b))
        layers += [lin] + ([torch.nn.ReLU()] if k < len(weights) - 1 else [])
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xs, ys = _f32(x), torch.from_numpy(np.asarray(y, dtype=np.int64))

    def step() -> None:
        opt.zero_grad()
        tf.cross_entropy(model(xs), ys).backward()
        opt.step()

    return step


def conv2d_pass(weight: np.ndarray, bias: np.ndarray, x: np.ndarray) -> Callable[[], None]:
    """Conv2d forward and backward (of the output's sum) with respect to input and weights."""
    conv = torch.nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:])
    with torch.no_grad():
        conv.weight.copy_(_f32(weight))
        conv.bias.copy_(_f32(bias))
    xs = _f32(x)

    def run() -> None:
        conv.zero_grad()
        inp = xs.clone().requires_grad_(True)
        conv(inp).sum().backward()

    return run


def gpt_step(params: Mapping[str, np.ndarray], num_layers: int, num_heads: int,
             ids: np.ndarray, targets: np.ndarray, lr: float) -> Callable[[], None]:
    """One Adam step of the GPT twin on next-token cross-entropy."""
    model = GPT({k: np.asarray(v, dtype=np.float32) for k, v in params.items()}, num_layers,
                num_heads).float()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    inp = torch.from_numpy(np.asarray(ids, dtype=np.int64))
    tgt = torch.from_numpy(np.asarray(targets, dtype=np.int64)).reshape(-1)

    def step() -> None:
        opt.zero_grad()
        logits = model(inp)
        tf.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt).backward()
        opt.step()

    return step


def threads() -> int:
    return torch.get_num_threads()


def set_threads(n: int) -> None:
    torch.set_num_threads(n)
