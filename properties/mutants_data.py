"""Data-loading mutants: the batching and shuffling bugs that ``tests/test_dataloader.py`` must
catch. Importing this module adds them to :data:`properties.mutation.CATALOG`.

They patch the two module-level helpers of ``<target>.core.dataloader`` that every epoch goes
through: ``epoch_order`` (which samples, in which order) and ``batch_slices`` (how the order is
cut into batches). ``DataLoader`` looks both up at call time, so a patch takes effect at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import mutant


def _off_by_one(orig: Any) -> Any:
    def batch_slices(n: int, batch_size: int, drop_last: bool) -> list[slice]:
        return orig(n - 1, batch_size, drop_last)  # range(0, n - 1, ...): the last sample lost

    return batch_slices


mutant("dataloader_drops_last_sample", "data",
       "batches cover range(n - 1): the last sample of every epoch's order is never yielded",
       dataloader__batch_slices=_off_by_one)


def _with_replacement(orig: Any) -> Any:
    def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
        if not shuffle:
            return orig(n, shuffle, seed, epoch)
        return np.random.default_rng((seed, epoch)).integers(0, n, size=n)

    return epoch_order


mutant("dataloader_repeats_a_sample", "data",
       "shuffling draws n indices with replacement instead of a permutation: repeats, omissions",
       dataloader__epoch_order=_with_replacement)

mutant("dataloader_ignores_drop_last", "data",
       "drop_last=True still yields the last short batch",
       dataloader__batch_slices=lambda orig: lambda n, batch_size, drop_last: orig(
           n, batch_size, False))

mutant("dataloader_same_order_every_epoch", "data",
       "the shuffle is seeded by the seed alone: every epoch repeats epoch 0's order",
       dataloader__epoch_order=lambda orig: lambda n, shuffle, seed, epoch: orig(
           n, shuffle, seed, 0))


def _first_by_negative_index_missing(orig: Any) -> Any:
    def __getitem__(self: Any, index: int) -> Any:
        if index == -len(self):
            raise IndexError(f"index {index} out of range")
        return orig(self, index)

    return __getitem__


mutant("dataset_rejects_minus_n", "data",
       "TensorDataset[-n] raises IndexError (the range check is -n < i < n, not -n <= i < n)",
       **{"dataloader.TensorDataset.__getitem__": _first_by_negative_index_missing})
