"""Data-loading laws: what a DataLoader owes a training loop, whatever its batch size and flags.

Every epoch yields each sample exactly once (minus the short tail with ``drop_last``), in
``len(loader)`` batches of ``batch_size`` rows (the last may be short), as tensors of the
dataset's dtypes that no autograd graph can reach. Shuffled orders are a function of
(seed, epoch): reproducible, replayable with ``set_epoch``, and different from one epoch to the
next.

Samples identify themselves: row ``i`` of tensor ``k`` holds ``i * K + j + k / 4`` at flat
position ``j`` (``K`` the row size), exact in float16 at these sizes. So a batch's first tensor
names its sample ids, and every tensor of the batch must then equal the dataset rows with those
ids: order, alignment between tensors and contents are checked at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from properties import target
from properties.report import fail

DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
MAX_SAMPLES = 40
MAX_BATCH = 50
# How each dataset tensor is handed to TensorDataset: a plain array or a target tensor.
FORMS = ("array", "tensor", "tensor requiring grad")
EPOCHS = 3
# Shuffled orders are compared only when an epoch yields at least this many samples: two epochs
# of a correct loader then coincide with probability <= 1/8!, three with <= (1/8!)^2 ~ 6e-10.
MIN_SHUFFLED = 8
LOADER_KEYS = ("batch_size", "shuffle", "drop_last", "seed")


@dataclass
class LoaderCase:
    """A dataset (``arrays``, one per tensor) and the loader's arguments; quacks like
    :class:`properties.strategies.Sample` so :mod:`properties.report` can print and replay it."""

    arrays: tuple[np.ndarray, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.arrays[0].shape[0]

    @property
    def loader_kwargs(self) -> dict[str, Any]:
        return {k: self.kwargs[k] for k in LOADER_KEYS}

    def describe(self) -> str:
        forms = self.kwargs.get("forms", ("array",) * len(self.arrays))
        tensors = ", ".join(f"{a.dtype} {a.shape} as {f}" for a, f in zip(self.arrays, forms))
        flags = ", ".join(f"{k}={self.kwargs[k]!r}" for k in LOADER_KEYS)
        count = len(self.arrays)
        return (f"{self.n} sample{'s' * (self.n != 1)} in {count} tensor{'s' * (count != 1)} "
                f"({tensors}); {flags}")

    def __repr__(self) -> str:
        return f"LoaderCase({self.describe()})"


def encode(n: int, trailing: tuple[int, ...], dtype: np.dtype, k: int) -> np.ndarray:
    """Tensor ``k`` of a dataset of ``n`` samples whose every value names its sample."""
    size = math.prod(trailing)
    rows = np.arange(n)[:, None] * size + np.arange(size)[None, :] + k / 4
    return rows.reshape((n, *trailing)).astype(dtype)


# ----------------------------------------------------------------------------- strategies


def trailing_shapes() -> st.SearchStrategy:
    """Per-sample shapes: scalars (labels), vectors (features), small matrices (images)."""
    return hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)


@st.composite
def loader_cases(draw: st.DrawFn, max_samples: int = MAX_SAMPLES,
                 oversized: bool = False) -> LoaderCase:
    """A dataset of 0..max_samples samples in 1-3 tensors, and loader arguments. With
    ``oversized`` the batch size is at least the dataset's size."""
    n = draw(st.integers(0, max_samples), label="samples")
    count = draw(st.integers(1, 3), label="tensors")
    arrays = tuple(
        encode(n, draw(trailing_shapes(), label=f"tensor {k} row shape"),
               draw(st.sampled_from(DTYPES), label=f"tensor {k} dtype"), k)
        for k in range(count)
    )
    forms = tuple(draw(st.sampled_from(FORMS), label=f"tensor {k} form") for k in range(count))
    return LoaderCase(arrays, {
        "batch_size": draw(st.integers(max(n, 1) if oversized else 1, MAX_BATCH),
                           label="batch_size"),
        "shuffle": draw(st.booleans(), label="shuffle"),
        "drop_last": draw(st.booleans(), label="drop_last"),
        "seed": draw(st.integers(0, 2**32 - 1), label="seed"),
        "forms": forms,
    })


# ----------------------------------------------------------------------------- running a loader


def _fail(law: str, what: str, case: LoaderCase, problems: list[str]) -> None:
    """Raise the report of law ``law`` (a ``check_*`` name minus the prefix) failing."""
    fail("dataloader", law, what, case, "\n".join(f"  {p}" for p in problems),
         replay_call=f"from properties.data import replay\nreplay({law!r}, arrays, kwargs)")


def build(case: LoaderCase, law: str, **overrides: Any) -> Any:
    """The target's DataLoader over the case's dataset; ``None`` for an empty dataset, after
    checking that constructing it raised a ValueError."""
    tt = target.get()
    tensors = [a if form == "array" else tt.tensor(a, requires_grad=form != "tensor")
               for a, form in zip(case.arrays, case.kwargs["forms"])]
    dataset = tt.TensorDataset(*tensors)
    kwargs = {**case.loader_kwargs, **overrides}
    if case.n == 0:
        try:
            loader = tt.make("DataLoader", dataset, **kwargs)
        except ValueError:
            return None
        _fail(law, "a DataLoader over an empty dataset was built without a ValueError",
              case, [f"got {loader!r}"])
    return tt.make("DataLoader", dataset, **kwargs)


def _batch_ids(case: LoaderCase, batch: Any, where: str) -> tuple[np.ndarray | None, list[str]]:
    """The sample ids of one batch, and what is wrong with it (type, grad, dtype, shape, rows)."""
    tt = target.get()
    if not isinstance(batch, tuple) or len(batch) != len(case.arrays):
        return None, [f"{where}: expected a tuple of {len(case.arrays)} tensors, got {batch!r}"]
    problems = []
    rows = batch[0].shape[0] if getattr(batch[0], "ndim", 0) else 0
    if rows == 0:
        return None, [f"{where}: an empty batch (tensor 0 has shape "
                      f"{getattr(batch[0], 'shape', '?')})"]
    for k, (t, a) in enumerate(zip(batch, case.arrays)):
        if not isinstance(t, tt.Tensor):
            problems.append(f"{where}, tensor {k}: a {type(t).__name__}, not a Tensor")
            continue
        if t.requires_grad or tt.graph_node(t) is not None:
            problems.append(f"{where}, tensor {k}: requires_grad={t.requires_grad}, a batch "
                            "must not be connected to an autograd graph")
        if t.dtype != a.dtype:
            problems.append(f"{where}, tensor {k}: dtype {t.dtype}, the dataset's is {a.dtype}")
        if t.shape != (rows, *a.shape[1:]):
            problems.append(f"{where}, tensor {k}: shape {t.shape}, expected "
                            f"{(rows, *a.shape[1:])} (tensor 0's rows, the dataset's row shape)")
    if problems:
        return None, problems
    first = tt.array(batch[0]).astype(np.float64).reshape(rows, -1)[:, 0]
    ids = first / math.prod(case.arrays[0].shape[1:])
    if not np.all((ids == np.round(ids)) & (ids >= 0) & (ids < case.n)):
        return None, [f"{where}: rows {first.tolist()} are not rows of the dataset"]
    ids = ids.astype(np.int64)
    for k, (t, a) in enumerate(zip(batch, case.arrays)):
        if not np.array_equal(tt.array(t), a[ids]):
            problems.append(f"{where}, tensor {k}: rows differ from the dataset's rows of "
                            f"samples {ids.tolist()} (tensors misaligned or values altered)")
    return ids, problems


def run_epoch(case: LoaderCase, loader: Any, epoch: int, law: str) -> list[np.ndarray]:
    """One full pass: the sample ids of each batch, every batch checked on the way."""
    batches, problems = [], []
    for b, batch in enumerate(loader):
        ids, wrong = _batch_ids(case, batch, f"epoch {epoch}, batch {b}")
        problems += wrong
        if ids is not None:
            batches.append(ids)
    if problems:
        _fail(law, "batches are not stacked rows of the dataset", case, problems)
    return batches


def _ids_list(ids: np.ndarray, limit: int = 12) -> str:
    items = ids.tolist()
    return str(items[:limit])[:-1] + (", ...]" if len(items) > limit else "]")


# ----------------------------------------------------------------------------- laws


def check_epochs(case: LoaderCase, epochs: int = 2) -> None:
    """Each epoch: ``len(loader)`` batches of ``batch_size`` rows (the last possibly short,
    dropped with ``drop_last``), covering every sample exactly once (but the dropped tail)."""
    loader = build(case, "epochs")
    if loader is None:
        return
    n, size, drop_last = case.n, case.kwargs["batch_size"], case.kwargs["drop_last"]
    full, rest = divmod(n, size)
    want_sizes = [size] * full + ([rest] if rest and not drop_last else [])
    for epoch in range(epochs):
        batches = run_epoch(case, loader, epoch, "epochs")
        problems = []
        seen = np.concatenate(batches) if batches else np.zeros(0, np.int64)
        counts = np.bincount(seen, minlength=n)
        repeated = np.flatnonzero(counts > 1)
        if repeated.size:
            problems.append(f"samples yielded more than once: {_ids_list(repeated)} "
                            f"(counts {_ids_list(counts[repeated])})")
        missing = np.flatnonzero(counts == 0)
        if drop_last and missing.size != rest:
            problems.append(f"drop_last=True should leave out exactly n % batch_size = {rest} "
                            f"samples, {missing.size} were left out: {_ids_list(missing)}")
        if not drop_last and missing.size:
            problems.append(f"samples never yielded: {_ids_list(missing)}")
        sizes = [len(ids) for ids in batches]
        if sizes != want_sizes:
            problems.append(f"batch sizes {sizes}, expected {want_sizes}")
        if len(loader) != len(want_sizes):
            problems.append(f"len(loader) = {len(loader)}, expected {len(want_sizes)} "
                            f"({'floor' if drop_last else 'ceil'}({n} / {size}))")
        if problems:
            _fail("epochs", f"epoch {epoch} does not yield each sample once", case, problems)


def check_oversized_batch(case: LoaderCase) -> None:
    """A batch size of at least the dataset's size gives one batch of every sample, or none
    when ``drop_last`` and the batch cannot be filled."""
    loader = build(case, "oversized_batch")
    if loader is None:
        return
    batches = run_epoch(case, loader, 0, "oversized_batch")
    n, size = case.n, case.kwargs["batch_size"]
    want = 0 if case.kwargs["drop_last"] and size > n else 1
    problems = []
    if len(batches) != want or len(loader) != want:
        problems.append(f"{len(batches)} batches (len(loader) = {len(loader)}), expected {want}")
    elif want and sorted(batches[0].tolist()) != list(range(n)):
        problems.append(f"the one batch holds samples {_ids_list(batches[0])}, not all {n}")
    if problems:
        _fail("oversized_batch", "a batch larger than the dataset", case, problems)


def _orders(case: LoaderCase, loader: Any, law: str, epochs: int = EPOCHS) -> list[list[int]]:
    """The flat sample order of each of the next ``epochs`` passes."""
    out = []
    for epoch in range(epochs):
        batches = run_epoch(case, loader, getattr(loader, "epoch", epoch), law)
        out.append(np.concatenate(batches).tolist() if batches else [])
    return out


def check_order(case: LoaderCase) -> None:
    """Orders are a function of (seed, epoch): two loaders with one seed agree epoch by epoch;
    without shuffle the order is 0..n-1; with it, epochs differ, and so do seeds."""
    first = build(case, "order")
    if first is None:
        return
    orders = _orders(case, first, "order")
    again = _orders(case, build(case, "order"), "order")
    problems = [f"epoch {e}: {_ids_list(np.array(a))} then {_ids_list(np.array(b))}"
                for e, (a, b) in enumerate(zip(orders, again)) if a != b]
    if problems:
        _fail("order", "two loaders with the same seed yield different orders", case, problems)
    yielded = len(orders[0])
    if not case.kwargs["shuffle"]:
        if any(o != list(range(yielded)) for o in orders):
            _fail("order", "shuffle=False must yield samples in dataset order", case,
                  [f"epoch {e}: {_ids_list(np.array(o))}" for e, o in enumerate(orders)])
        return
    if yielded < MIN_SHUFFLED:
        return
    if all(o == orders[0] for o in orders):
        _fail("order", f"shuffle=True yields the same order in epochs 0..{EPOCHS - 1}", case,
              [f"every epoch: {_ids_list(np.array(orders[0]))}"])
    other = _orders(case, build(case, "order", seed=case.kwargs["seed"] ^ 1), "order")
    if other == orders:
        _fail("order", "another seed yields the same orders: the seed is ignored", case,
              [f"seed {case.kwargs['seed'] ^ 1}, epoch 0: {_ids_list(np.array(other[0]))}"])


def check_set_epoch(case: LoaderCase) -> None:
    """``epoch`` counts full passes; ``set_epoch(e)`` replays epoch ``e`` exactly, on this loader
    or a fresh one, whatever ran before."""
    loader = build(case, "set_epoch")
    if loader is None:
        return
    problems = []
    if loader.epoch != 0:
        problems.append(f"a new loader has epoch = {loader.epoch}, expected 0")
    orders = []
    for e in range(EPOCHS):
        orders += _orders(case, loader, "set_epoch", 1)
        if loader.epoch != e + 1:
            problems.append(f"after {e + 1} full passes epoch = {loader.epoch}")
    for e in (1, 0, EPOCHS - 1):
        loader.set_epoch(e)
        replay = _orders(case, loader, "set_epoch", 1)[0]
        if replay != orders[e]:
            problems.append(f"set_epoch({e}) then a pass: {_ids_list(np.array(replay))}, "
                            f"epoch {e} was {_ids_list(np.array(orders[e]))}")
        if loader.epoch != e + 1:
            problems.append(f"set_epoch({e}) then a pass: epoch = {loader.epoch}, not {e + 1}")
    fresh = build(case, "set_epoch")
    fresh.set_epoch(EPOCHS - 1)
    if (got := _orders(case, fresh, "set_epoch", 1)[0]) != orders[-1]:
        problems.append(f"a fresh loader after set_epoch({EPOCHS - 1}): "
                        f"{_ids_list(np.array(got))}, expected {_ids_list(np.array(orders[-1]))}")
    if problems:
        _fail("set_epoch", "epochs are not replayable", case, problems)


LAWS: dict[str, Callable[[LoaderCase], None]] = {
    "epochs": check_epochs, "oversized_batch": check_oversized_batch, "order": check_order,
    "set_epoch": check_set_epoch,
}


def replay(law: str, arrays: tuple[np.ndarray, ...], kwargs: dict[str, Any]) -> None:
    """Entry point of the repro scripts: rerun the failing law on the recorded case."""
    LAWS[law](LoaderCase(tuple(arrays), dict(kwargs)))
    print(f"{law}: passed")
