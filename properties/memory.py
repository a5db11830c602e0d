"""Memory laws, measured with ``tracemalloc`` (NumPy reports its array buffers to it):

* no growth: repeated forward/backward/zero_grad iterations end at the same allocated total
  (a graph kept alive by a global list, a gradient history, a cache without bound all grow);
* activation memory is linear in the batch: the peak a forward pass with autograd allocates
  grows by the same amount from batch B to 2B as from 2B to 4B (an engine that keeps a copy
  per node, or allocates batch-squared buffers, does not);
* the graph is freed: once the output and the loss are dropped after backward, every
  intermediate tensor of the graph is gone.

Sizes are fixed and deterministic (these are measurements, not searches), large enough that
one activation (batch x width x 8 bytes) dwarfs Python's own bookkeeping.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from properties import target
from properties.networks import build_mlp
from properties.report import fail

WIDTHS = (64, 128, 128, 10)
GROWTH_SLACK_BYTES = 16 * 1024  # Python's free lists and caches settle within this


def _model(dtype: Any) -> Any:
    rng = np.random.default_rng(0)  # fixed weights: a measurement, not a search
    weights = [(rng.uniform(-0.1, 0.1, (a, b)).astype(dtype), np.zeros(b, dtype))
               for a, b in zip(WIDTHS[:-1], WIDTHS[1:])]
    return build_mlp(WIDTHS, "tanh", weights)


def _input(batch: int, dtype: Any) -> np.ndarray:
    return np.linspace(-1, 1, batch * WIDTHS[0]).reshape(batch, WIDTHS[0]).astype(dtype)


@contextmanager
def traced() -> Iterator[None]:
    running = tracemalloc.is_tracing()
    if not running:
        tracemalloc.start()
    try:
        yield
    finally:
        if not running:
            tracemalloc.stop()


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated while ``fn()`` runs above the total when it started; its result
    stays alive until the peak is read."""
    with traced():
        gc.collect()
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - start
        del result
        return peak


def check_no_growth_across_iterations(iterations: int = 6, warmup: int = 3) -> None:
    tt = target.get()
    dtype = tt.compute_dtype()
    model = _model(dtype)
    x = tt.tensor(_input(32, dtype))
    totals = []
    with traced():
        for i in range(warmup + iterations):
            for p in model.parameters():
                tt.set_grad(p, None)
            tt.backward(model(x).sum())
            gc.collect()
            if i >= warmup:
                totals.append(tracemalloc.get_traced_memory()[0])
    growth = totals[-1] - totals[0]
    if growth > GROWTH_SLACK_BYTES:
        fail("autograd", "no growth", f"allocated memory grows by {growth} bytes over "
             f"{iterations} forward/backward iterations (more than {GROWTH_SLACK_BYTES}): "
             "something keeps every iteration's graph or gradients", None,
             f"  allocated after each iteration: {totals}")


def check_activation_memory_linear_in_batch(batches: tuple[int, int, int] = (32, 64, 128)
                                            ) -> None:
    tt = target.get()
    dtype = tt.compute_dtype()
    model = _model(dtype)
    peaks = []
    for batch in batches:
        x = tt.tensor(_input(batch, dtype))
        peak_bytes(lambda x=x: model(x))  # warm caches at this size
        peaks.append(peak_bytes(lambda x=x: model(x)))
    first, second = peaks[1] - peaks[0], peaks[2] - peaks[1]
    ratio = second / first if first > 0 else float("inf")
    if not 1.8 <= ratio <= 2.2:
        fail("autograd", "activation memory linear in batch", f"the forward's peak grows by "
             f"{first} bytes from batch {batches[0]} to {batches[1]} and by {second} from "
             f"{batches[1]} to {batches[2]} (ratio {ratio:.2f}; linear is 2)", None,
             f"  peaks: {dict(zip(batches, peaks))}")


def _graph_tensors(tt: Any, out: Any) -> list[Any]:
    """Every non-leaf tensor reachable from ``out`` through the graph's nodes."""
    found, stack, seen = [], [out], set()
    while stack:
        t = stack.pop()
        node = tt.graph_node(t)
        if node is None or id(t) in seen:
            continue
        seen.add(id(t))
        found.append(t)
        stack.extend(tt.node_inputs(node))
    return found


def check_graph_freed_after_backward() -> None:
    tt = target.get()
    dtype = tt.compute_dtype()
    model = _model(dtype)
    loss = model(tt.tensor(_input(8, dtype))).sum()
    refs = [weakref.ref(t) for t in _graph_tensors(tt, loss)]
    if len(refs) < 2:
        raise tt.lacking("graph introspection (the nodes of an MLP's graph)")
    tt.backward(loss)
    del loss
    gc.collect()
    alive = sum(r() is not None for r in refs)
    if alive:
        fail("autograd", "graph freed", f"{alive} of {len(refs)} intermediate tensors of the "
             "graph are still alive after backward and after dropping the loss (something "
             "keeps a reference to the graph)", None)
