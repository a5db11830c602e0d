"""Memory laws, measured with ``tracemalloc`` (NumPy reports its array buffers to it), over
three models (an MLP, a CNN, a GPT) and the DataLoader:

* no growth: repeated training steps (forward, backward, optimizer step, zero_grad) end at
  the same allocated total (a graph kept alive by a global list, a gradient history, a cache
  without bound all grow);
* activation memory is linear in the batch: the peak a forward pass with autograd allocates
  grows by the same amount from batch B to 2B as from 2B to 4B (an engine that keeps a copy
  per node, or allocates batch-squared buffers, does not);
* the graph is freed: once the loss is dropped after backward, every intermediate tensor of
  the graph is gone;
* a DataLoader streams: one shuffled epoch allocates a few batches, never a copy of the
  dataset.

Sizes are fixed and deterministic (these are measurements, not searches), large enough that
one activation dwarfs Python's own bookkeeping.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracles import models as twins
from properties import target
from properties.models import GPTCase, build_gpt
from properties.networks import build_mlp
from properties.report import fail

GROWTH_SLACK_BYTES = 16 * 1024  # Python's free lists and caches settle within this


@dataclass(frozen=True)
class Workload:
    """A model and its input at a given batch size (inputs scale with the batch only)."""

    name: str
    build: Callable[[Any], Any]
    make_input: Callable[[int, Any], np.ndarray]
    batches: tuple[int, int, int]


def _mlp(dtype: Any) -> Any:
    widths = (64, 128, 128, 10)
    rng = np.random.default_rng(0)  # fixed weights: a measurement, not a search
    weights = [(rng.uniform(-0.1, 0.1, (a, b)).astype(dtype), np.zeros(b, dtype))
               for a, b in zip(widths[:-1], widths[1:])]
    return build_mlp(widths, "tanh", weights)


def _cnn(dtype: Any) -> Any:
    tt = target.get()
    return tt.sequential(tt.make("Conv2d", 3, 8, 3), tt.make("Tanh"), tt.make("AvgPool2d", 2),
                         tt.make("Flatten"), tt.make("Linear", 8 * 7 * 7, 10))


def _gpt(dtype: Any) -> Any:
    vocab, embed, layers, heads, seq = 32, 32, 2, 4, 16
    rng = np.random.default_rng(0)
    params = {n: rng.uniform(-0.2, 0.2, s) + (1.0 if n.endswith("weight") and "ln" in n
                                              else 0.0)
              for n, s in twins.gpt_parameter_shapes(vocab, embed, layers, seq).items()}
    return build_gpt(GPTCase(vocab, embed, layers, heads, seq, params, np.zeros((1, seq)),
                             np.zeros((1, seq, vocab))), dtype)


def _values(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.linspace(-1, 1, int(np.prod(shape))).reshape(shape).astype(dtype)


WORKLOADS = {
    "mlp": Workload("mlp", _mlp, lambda b, d: _values((b, 64), d), (32, 64, 128)),
    "cnn": Workload("cnn", _cnn, lambda b, d: _values((b, 3, 16, 16), d), (8, 16, 32)),
    "gpt": Workload("gpt", _gpt, lambda b, d: np.arange(b * 16).reshape(b, 16) % 32,
                    (4, 8, 16)),
}


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


def _setup(name: str) -> tuple[Any, Workload, Any]:
    tt = target.get()
    dtype = np.dtype(np.float32) if name == "gpt" else tt.compute_dtype()
    work = WORKLOADS[name]
    return work.build(dtype), work, dtype


def check_no_growth_across_steps(name: str, steps: int = 6, warmup: int = 3) -> None:
    tt = target.get()
    model, work, dtype = _setup(name)
    x = tt.tensor(work.make_input(work.batches[0], dtype))
    opt = tt.make("Adam", model.parameters(), lr=1e-3)
    totals = []
    with traced():
        for i in range(warmup + steps):
            tt.zero_grads(opt)
            tt.backward(model(x).sum())
            opt.step()
            gc.collect()
            if i >= warmup:
                totals.append(tracemalloc.get_traced_memory()[0])
    growth = totals[-1] - totals[0]
    if growth > GROWTH_SLACK_BYTES:
        fail(name, "no growth", f"allocated memory grows by {growth} bytes over {steps} "
             f"training steps (more than {GROWTH_SLACK_BYTES}): something keeps every "
             "step's graph or gradients", None, f"  allocated after each step: {totals}")


def check_activation_memory_linear_in_batch(name: str) -> None:
    tt = target.get()
    model, work, dtype = _setup(name)
    peaks = []
    for batch in work.batches:
        x = tt.tensor(work.make_input(batch, dtype))
        peak_bytes(lambda x=x: model(x))  # warm caches at this size
        peaks.append(peak_bytes(lambda x=x: model(x)))
    first, second = peaks[1] - peaks[0], peaks[2] - peaks[1]
    ratio = second / first if first > 0 else float("inf")
    if not 1.8 <= ratio <= 2.2:
        b = work.batches
        fail(name, "activation memory linear in batch", f"the forward's peak grows by "
             f"{first} bytes from batch {b[0]} to {b[1]} and by {second} from {b[1]} to "
             f"{b[2]} (ratio {ratio:.2f}; linear is 2)", None,
             f"  peaks: {dict(zip(b, peaks))}")


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


def check_graph_freed_after_backward(name: str) -> None:
    tt = target.get()
    model, work, dtype = _setup(name)
    loss = model(tt.tensor(work.make_input(work.batches[0], dtype))).sum()
    refs = [weakref.ref(t) for t in _graph_tensors(tt, loss)]
    if len(refs) < 2:
        raise tt.lacking("graph introspection (the nodes of a model's graph)")
    tt.backward(loss)
    del loss
    gc.collect()
    alive = sum(r() is not None for r in refs)
    if alive:
        fail(name, "graph freed", f"{alive} of {len(refs)} intermediate tensors of the graph "
             "are still alive after backward and after dropping the loss (something keeps a "
             "reference to the graph)", None)


def check_data_loader_streams(samples: int = 2048, width: int = 256, batch: int = 32) -> None:
    """One shuffled epoch's peak allocation is a few batches (gathering one, wrapping it,
    the previous one still held by the loop), far below the dataset's size."""
    tt = target.get()
    x = _values((samples, width), np.float64)
    y = np.arange(samples, dtype=np.float64)
    loader = tt.make("DataLoader", tt.TensorDataset(tt.tensor(x), tt.tensor(y)),
                     batch_size=batch, shuffle=True)

    def epoch() -> None:
        for _ in loader:
            pass

    epoch()
    peak = peak_bytes(epoch)
    batch_bytes = batch * width * 8
    if peak > min(8 * batch_bytes, x.nbytes // 4):
        fail("DataLoader", "streams", f"one epoch allocates {peak} bytes at its peak: more than "
             f"8 batches ({batch_bytes} bytes each) of the {x.nbytes}-byte dataset: the loader "
             "copies the data", None)
