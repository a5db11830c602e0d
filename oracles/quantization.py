"""Torch twins of INT8 quantization: ``torch.quantize_per_tensor`` / ``quantize_per_channel``
(then ``int_repr`` and ``dequantize``) for given quantization parameters, and torch's min/max
observers for the parameters themselves.

Why both: handing the target's own scale and zero point to torch checks the rounding and the
clamping; the observers check how the scale and zero point were chosen. torch quantizes only
float32 tensors, and it deprecates the quantized-tensor constructors (its warning is silenced
here, where we call them on purpose, not in the harness at large).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

QMIN, QMAX = -128, 127  # torch.qint8


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        yield


def _float32(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(x, dtype=np.float32))


def quantize_per_tensor(x: np.ndarray, scale: float, zero_point: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, dequantized float32 values) of ``x`` with one scale and zero point."""
    with _quiet():
        q = torch.quantize_per_tensor(_float32(x), float(scale), int(zero_point), torch.qint8)
        return q.int_repr().numpy(), q.dequantize().numpy()


def quantize_per_channel(x: np.ndarray, scales: np.ndarray, zero_points: np.ndarray,
                         axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, dequantized float32 values) with one scale and zero point per slice of
    ``axis``."""
    with _quiet():
        q = torch.quantize_per_channel(
            _float32(x), torch.from_numpy(np.asarray(scales, dtype=np.float64).ravel()),
            torch.from_numpy(np.asarray(zero_points, dtype=np.int64).ravel()), axis,
            torch.qint8)
        return q.int_repr().numpy(), q.dequantize().numpy()


def observed_qparams(x: np.ndarray, symmetric: bool, axis: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The (scale, zero point) torch's min/max observer chooses for qint8: the range always
    contains 0, affine spreads [min, max] over 255 steps, symmetric spreads [-a, a] over 255
    steps about zero point 0 (a = max |x|). Per channel when ``axis`` is given."""
    if axis is None:
        scheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
        observer = MinMaxObserver(dtype=torch.qint8, qscheme=scheme)
    else:
        scheme = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
        observer = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.qint8, qscheme=scheme)
    observer(_float32(x))
    scale, zero_point = observer.calculate_qparams()
    return scale.numpy().astype(np.float64), zero_point.numpy().astype(np.int64)
