"""Torch twins of the activations, layers and losses, and builders of whole torch modules.

Layout conversions live here: TinyTorch's ``Linear.weight`` is (in, out), torch's is (out, in).
A network twin is built from a plain description plus a parameter dict (name -> NumPy array, as
``state_dict()`` gives), so the oracle never needs the implementation under test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf

from oracles.autodiff import REFERENCE_DTYPE

# ----------------------------------------------------------------------------- activations


def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x)


def leaky_relu(x: torch.Tensor, *, negative_slope: float = 0.01) -> torch.Tensor:
    return tf.leaky_relu(x, negative_slope)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


def gelu(x: torch.Tensor, *, approximate: str = "none") -> torch.Tensor:
    return tf.gelu(x, approximate=approximate)


def softmax(x: torch.Tensor, *, dim: int = -1) -> torch.Tensor:
    return torch.softmax(x, dim=dim)


def log_softmax(x: torch.Tensor, *, dim: int = -1) -> torch.Tensor:
    return torch.log_softmax(x, dim=dim)


# ----------------------------------------------------------------------------- layers


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """TinyTorch layout: ``weight`` is (in, out), so torch's F.linear gets its transpose."""
    return tf.linear(x, weight.T, bias)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               eps: float = 1e-5) -> torch.Tensor:
    """Normalised over the trailing dims of ``weight``'s shape, as ``nn.LayerNorm``."""
    return tf.layer_norm(x, tuple(weight.shape), weight, bias, eps)


def embedding(weight: torch.Tensor, ids: np.ndarray) -> torch.Tensor:
    """``weight[ids]`` as ``nn.Embedding`` (ids are plain integers, not a differentiable input)."""
    return tf.embedding(torch.as_tensor(np.asarray(ids), dtype=torch.long), weight)


def linear_twin(params: Mapping[str, np.ndarray]) -> torch.nn.Linear:
    """A float64 ``torch.nn.Linear`` holding a copy of TinyTorch Linear parameters."""
    weight = np.asarray(params["weight"])
    layer = torch.nn.Linear(*weight.shape, bias="bias" in params and params["bias"] is not None)
    layer = layer.to(REFERENCE_DTYPE)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight.T.copy()))
        if layer.bias is not None:
            layer.bias.copy_(torch.from_numpy(np.asarray(params["bias"]).copy()))
    return layer


_ACTIVATION_TWINS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU,
    "identity": torch.nn.Identity,
}


def sequential_twin(
    layout: Sequence[str], state: Mapping[str, np.ndarray], prefix: str = "layers"
) -> torch.nn.Sequential:
    """A torch Sequential from a layout such as ``["linear", "relu", "linear"]`` and a state dict
    whose keys are ``f"{prefix}.{i}.weight"`` / ``.bias`` (TinyTorch's Sequential naming)."""
    modules: list[torch.nn.Module] = []
    for i, kind in enumerate(layout):
        if kind == "linear":
            params = {k.rsplit(".", 1)[1]: v for k, v in state.items()
                      if k.startswith(f"{prefix}.{i}.")}
            modules.append(linear_twin(params))
        else:
            modules.append(_ACTIVATION_TWINS[kind]())
    return torch.nn.Sequential(*modules)


def tinytorch_layout(name: str, array: np.ndarray) -> np.ndarray:
    """A torch parameter-shaped array (or its gradient or optimizer buffer) in TinyTorch's
    layout: Linear weights are (in, out) there, (out, in) in torch."""
    return array.T if name.endswith("weight") and array.ndim == 2 else array


def parameter_grads(module: torch.nn.Module, layout_of: Mapping[str, str] | None = None,
                    prefix: str = "layers") -> dict[str, np.ndarray]:
    """Gradients of a twin's parameters, named and laid out as TinyTorch names them."""
    grads: dict[str, np.ndarray] = {}
    for name, p in module.named_parameters():
        g = np.zeros(tuple(p.shape)) if p.grad is None else p.grad.detach().numpy()
        grads[f"{prefix}.{name}"] = tinytorch_layout(name, g)
    return grads


# ----------------------------------------------------------------------------- losses


def mse_loss(pred: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    return tf.mse_loss(pred, target, reduction=reduction)


def cross_entropy(
    logits: torch.Tensor, *, targets: np.ndarray, reduction: str = "mean"
) -> torch.Tensor:
    return tf.cross_entropy(logits, torch.from_numpy(np.asarray(targets, dtype=np.int64)),
                            reduction=reduction)


def binary_cross_entropy(
    p: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    return tf.binary_cross_entropy(p, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    logits: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    return tf.binary_cross_entropy_with_logits(logits, target, reduction=reduction)


def dropout_eval(x: torch.Tensor, *, p: float) -> torch.Tensor:
    """Dropout in eval mode is the identity, whatever ``p``."""
    return tf.dropout(x, p=p, training=False)


def apply_module(module: torch.nn.Module, x: np.ndarray) -> Any:
    """Run a twin on a NumPy input, with the input tracking its gradient."""
    inp = torch.from_numpy(np.asarray(x, dtype=np.float64).copy()).requires_grad_(True)
    return inp, module(inp)
