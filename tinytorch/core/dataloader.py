"""Data loading (TinyTorch Module 08): datasets and the mini-batch loader.

A :class:`DataLoader` turns a :class:`Dataset` of samples into mini-batches: each epoch visits
every sample exactly once (the last, short, batch kept unless ``drop_last``), rows stacked along
a new axis 0 with their dtype kept. Batches are plain data, never part of an autograd graph.

Shuffling is reproducible: the order of epoch ``e`` is a permutation drawn from
``np.random.default_rng((seed, epoch))``, so it depends only on the seed and the epoch number,
not on how many epochs ran before. ``epoch`` advances after each full pass, and
:meth:`DataLoader.set_epoch` (as torch's ``DistributedSampler``) replays or skips to any epoch,
which is what resuming a run from a checkpoint needs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["DataLoader", "Dataset", "TensorDataset", "batch_slices", "epoch_order"]


class Dataset(ABC):
    """A sized collection of samples; ``dataset[i]`` is one sample (a tuple of tensors)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __getitem__(self, index: int) -> Any: ...


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class TensorDataset(Dataset):
    """Samples are the rows of one or more tensors that share their first dimension
    (e.g. features and labels): ``dataset[i] == (t0[i], t1[i], ...)``."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        # The arrays, not the tensors: rows must not carry a caller's requires_grad or graph.
        self.arrays = tuple(t.data if isinstance(t, Tensor) else Tensor(t).data for t in tensors)
        if any(a.ndim == 0 for a in self.arrays):
            raise ValueError(
                "TensorDataset: tensors need a first (sample) dimension, got shapes "
                f"{[a.shape for a in self.arrays]}"
            )
        lengths = [a.shape[0] for a in self.arrays]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"TensorDataset: all tensors must have the same first dimension, got lengths "
                f"{lengths} (shapes {[a.shape for a in self.arrays]})"
            )

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        if not _is_int(index):
            raise TypeError(f"TensorDataset indices must be integers, not {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"TensorDataset index {index} is out of range for {n} samples")
        return tuple(Tensor(a[index]) for a in self.arrays)


def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """The sample order of one epoch: 0..n-1, or a permutation fixed by (seed, epoch)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng((seed, epoch)).permutation(n)


def batch_slices(n: int, batch_size: int, drop_last: bool) -> list[slice]:
    """Consecutive slices of an epoch's order, one per batch."""
    stop = n - n % batch_size if drop_last else n
    return [slice(start, min(start + batch_size, n)) for start in range(0, stop, batch_size)]


def _collate(samples: Sequence[Any]) -> tuple[Tensor, ...] | Tensor:
    """Stack field ``k`` of every sample into one tensor (new axis 0, dtype kept): samples of
    fields (tuples, lists) give a tuple of tensors; bare samples (a tensor, an array, a number)
    give one tensor, as torch's default_collate does."""
    if not isinstance(samples[0], (tuple, list)):
        return _stack(0, samples)
    return tuple(_stack(k, field) for k, field in enumerate(zip(*samples)))


def _stack(k: int, field: Sequence[Any]) -> Tensor:
    arrays = [f.data if isinstance(f, Tensor) else Tensor(f).data for f in field]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"DataLoader: field {k} of the samples has different shapes {sorted(shapes)}; "
            "samples in one batch must have one shape"
        )
    return Tensor(np.stack(arrays))


class DataLoader:
    """Iterate over ``dataset`` in mini-batches: ``for x, y in DataLoader(ds, 32, shuffle=True)``.

    ``len(loader)`` is the number of batches per epoch. ``seed=None`` draws a seed once, at
    construction, so a loader is reproducible through ``set_epoch`` even then.
    """

    def __init__(self, dataset: Any, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None) -> None:
        if not _is_int(batch_size):
            raise TypeError(f"DataLoader: batch_size must be an integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)
        elif not _is_int(seed):
            raise TypeError(f"DataLoader: seed must be an integer or None, got {seed!r}")
        elif seed < 0:
            raise ValueError(f"DataLoader: seed must be non-negative, got {seed}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty (0 samples): nothing to batch")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use epoch ``epoch``'s order (to replay or resume a run)."""
        if not _is_int(epoch):
            raise TypeError(f"DataLoader.set_epoch: epoch must be an integer, got {epoch!r}")
        if epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be non-negative, got {epoch}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...] | Tensor]:
        # The order is fixed now, not at the first next(): set_epoch after iter() is too late.
        epoch = self.epoch
        order = epoch_order(len(self.dataset), self.shuffle, self.seed, epoch)
        return self._batches(order, epoch)

    def _batches(self, order: np.ndarray, epoch: int) -> Iterator[tuple[Tensor, ...] | Tensor]:
        for part in batch_slices(len(order), self.batch_size, self.drop_last):
            yield _collate([self.dataset[int(i)] for i in order[part]])
        self.epoch = epoch + 1  # only after a full pass: a `break` does not advance it
