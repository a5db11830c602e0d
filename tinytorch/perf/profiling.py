"""Profiling (upstream module 14, ``tinytorch.perf.profiling``): parameters, FLOPs, memory and
time of a model.

FLOPs are counted the way ``torch.utils.flop_counter`` counts them, so they can be checked
against it: a multiply-add is 2 FLOPs, only matrix products count (bias additions,
activations and normalisation are free), and the count is for the whole input shape, batch
included. ``count_flops`` runs one forward pass on zeros, records the shapes every Linear,
Conv2d and MultiHeadAttention sees, and sums each one's closed form, so any composition of
them is counted without a formula for the composition.
"""

from __future__ import annotations

import functools
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinytorch.core.attention import MultiHeadAttention
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear, Module
from tinytorch.core.spatial import Conv2d
from tinytorch.core.tensor import Tensor

BYTES_PER_FLOAT32 = 4
KB_TO_BYTES = 1024
MB_TO_BYTES = 1024 * 1024


def linear_flops(input_shape: tuple[int, ...], out_features: int) -> int:
    """``x @ W``: 2 FLOPs per multiply-add, ``in_features`` of them per output element."""
    return 2 * int(np.prod(input_shape)) * int(out_features)


def conv2d_flops(output_shape: tuple[int, ...], weight_shape: tuple[int, ...]) -> int:
    """Each output element is a dot product over ``in_channels x kh x kw`` inputs."""
    _, in_channels, kh, kw = weight_shape
    return 2 * int(np.prod(output_shape)) * int(in_channels) * int(kh) * int(kw)


def attention_core_flops(batch: int, queries: int, keys: int, embed_dim: int) -> int:
    """``Q K^T`` and ``weights @ V`` over all heads (heads x head_dim = embed_dim); the four
    projections are Linear layers, counted as such."""
    return 2 * 2 * int(batch) * int(queries) * int(keys) * int(embed_dim)


def _flops_of_call(module: Any, args: tuple, output: Any) -> int:
    x = np.shape(args[0].data if isinstance(args[0], Tensor) else args[0])
    if isinstance(module, Linear):
        return linear_flops(x, module.weight.shape[1])
    if isinstance(module, Conv2d):
        return conv2d_flops(np.shape(output.data), module.weight.shape)
    if isinstance(module, MultiHeadAttention):
        batch, seq, dim = x
        return attention_core_flops(batch, seq, seq, dim)
    return 0


@contextmanager
def _recording(model: Any, record: Callable[[Any, tuple, Any], None]) -> Iterator[None]:
    """Every Linear, Conv2d and MultiHeadAttention of ``model`` reports each call to
    ``record(module, args, output)`` (an instance-level ``forward``, removed afterwards)."""
    counted = (Linear, Conv2d, MultiHeadAttention)
    found = [m for m in _modules(model) if isinstance(m, counted)]

    def wrap(module: Any) -> Callable[..., Any]:
        plain = module.forward  # bound: its signature is what callers inspect

        @functools.wraps(plain)
        def forward(*args: Any, **kwargs: Any) -> Any:
            out = plain(*args, **kwargs)
            record(module, args, out)
            return out

        return forward

    for module in found:
        module.forward = wrap(module)
    try:
        yield
    finally:
        for module in found:
            vars(module).pop("forward", None)


def _modules(model: Any) -> list[Any]:
    if isinstance(model, Module):
        return list(model.modules())
    layers = getattr(model, "layers", None)
    return [m for layer in layers or () for m in _modules(layer)]


def _zeros(input_shape: tuple[int, ...], model: Any) -> Tensor:
    params = parameters_of(model)
    dtype = params[0].dtype if params else np.float32
    return Tensor(np.zeros(tuple(input_shape), dtype=dtype))


def parameters_of(model: Any) -> list[Tensor]:
    if hasattr(model, "parameters"):
        return list(model.parameters())
    return [p for layer in getattr(model, "layers", ()) for p in parameters_of(layer)]


class Profiler:
    """Counts and measures one model at a time; every measurement leaves the model as it was:
    outputs, parameters and gradients are what they would have been without profiling."""

    def __init__(self) -> None:
        self.measurements: dict[str, Any] = {}

    # ------------------------------------------------------------------ counts
    def count_parameters(self, model: Any) -> int:
        """Number of scalars in the model's parameters (a shared parameter counts once)."""
        seen: dict[int, int] = {}
        for p in parameters_of(model):
            seen[id(p)] = int(p.data.size)
        return sum(seen.values())

    def count_flops(self, model: Any, input_shape: tuple[int, ...]) -> int:
        """FLOPs of one forward pass on an input of ``input_shape`` (batch included)."""
        total = 0

        def record(module: Any, args: tuple, output: Any) -> None:
            nonlocal total
            total += _flops_of_call(module, args, output)

        with no_grad(), _recording(model, record):
            model(_zeros(input_shape, model))
        return total

    # ------------------------------------------------------------------ memory
    def measure_memory(self, model: Any, input_shape: tuple[int, ...]) -> dict[str, float]:
        """Parameter bytes, and the peak bytes a forward pass with autograd allocates on top
        of what existed before it (its activations and graph), in MB (1024^2 bytes)."""
        param_bytes = sum(p.data.nbytes for p in parameters_of(model))
        x = _zeros(input_shape, model)
        peak = peak_bytes(lambda: model(x))
        return {"parameter_memory_mb": param_bytes / MB_TO_BYTES,
                "activation_memory_mb": peak / MB_TO_BYTES,
                "peak_memory_mb": (param_bytes + peak) / MB_TO_BYTES}

    # ------------------------------------------------------------------ time
    def measure_latency(self, model: Any, input_tensor: Tensor, warmup: int = 10,
                        iterations: int = 100) -> float:
        """Median milliseconds of ``model(input_tensor)`` without autograd."""
        with no_grad():
            return float(np.median(_times(lambda: model(input_tensor), warmup, iterations)))

    def profile_forward_pass(self, model: Any, input_tensor: Tensor, warmup: int = 5,
                             iterations: int = 20) -> dict[str, Any]:
        latency = self.measure_latency(model, input_tensor, warmup, iterations)
        flops = self.count_flops(model, input_tensor.shape)
        result = {"parameters": self.count_parameters(model), "flops": flops,
                  "latency_ms": latency,
                  "gflops_per_second": flops / (latency * 1e6) if latency > 0 else 0.0,
                  **self.measure_memory(model, input_tensor.shape)}
        self.measurements["forward"] = result
        return result

    def profile_backward_pass(self, model: Any, input_tensor: Tensor,
                              loss_fn: Callable[[Any], Any] | None = None, warmup: int = 2,
                              iterations: int = 10) -> dict[str, Any]:
        """Times forward + backward of ``loss_fn(model(x))`` (default: the output's sum). The
        gradients it makes are discarded: every parameter's ``.grad`` is restored after."""
        loss_fn = loss_fn or (lambda out: out.sum())
        params = parameters_of(model)
        saved = [p.grad for p in params]

        def step() -> None:
            for p in params:
                p.grad = None
            loss_fn(model(input_tensor)).backward()

        try:
            times = _times(step, warmup, iterations)
        finally:
            for p, grad in zip(params, saved):
                p.grad = grad
        flops = self.count_flops(model, input_tensor.shape)
        result = {"forward_flops": flops, "backward_flops": 2 * flops,
                  "total_flops": 3 * flops, "total_latency_ms": float(np.median(times)),
                  "gradient_memory_mb": sum(p.data.nbytes for p in params) / MB_TO_BYTES}
        self.measurements["backward"] = result
        return result


def _times(fn: Callable[[], Any], warmup: int, iterations: int) -> list[float]:
    if iterations < 1:
        raise ValueError(f"Profiler: iterations must be >= 1, got {iterations}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated while ``fn()`` runs, above what was allocated when it started
    (``tracemalloc``; NumPy reports its buffers to it). What ``fn`` returns is kept alive
    until the peak is read, so the activations it holds count."""
    running = tracemalloc.is_tracing()
    if not running:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        del result
        return max(int(peak), 0)
    finally:
        if not running:
            tracemalloc.stop()


def quick_profile(model: Any, input_tensor: Tensor, profiler: Profiler | None = None
                  ) -> dict[str, Any]:
    return (profiler or Profiler()).profile_forward_pass(model, input_tensor)
