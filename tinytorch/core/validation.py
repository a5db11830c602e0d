"""Argument checks shared by the optimizers, clipping and schedules: one wording everywhere."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def real_number(label: str, value: Any, finite: bool = True) -> float:
    """``value`` as a float; bools and non-numbers are a TypeError (``lr=True`` is a bug), and
    NaN/inf a ValueError unless ``finite`` is False."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{label} must be a real number, not {type(value).__name__}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{label} must be finite, got {value}")
    return value
