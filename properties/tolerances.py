"""Comparison tolerances, stated once, by dtype (the style of ``torch.testing.assert_close``).

``|actual - expected| <= atol + rtol * |expected|`` elementwise, where ``expected`` is always the
float64 oracle evaluated on the very values the target received. So the float32 budget is the
float32 rounding of the target's own arithmetic on inputs of the harness's scale (|x| <= ~10,
reductions over <= ~100 terms), not a torch-vs-torch same-dtype budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"

    def scaled(self, scale: float) -> Tolerance:
        """``atol`` in units of ``scale``: for quantities far from the harness's unit scale
        (learning rates of 1e-5, gradients of 1e30), whose rounding is relative to their size."""
        return Tolerance(self.rtol, self.atol * scale)


EXACT = Tolerance(rtol=0.0, atol=0.0)  # for laws that promise bit-for-bit equality

TOLERANCES: dict[np.dtype, Tolerance] = {
    np.dtype(np.float64): Tolerance(rtol=1e-7, atol=1e-7),
    np.dtype(np.float32): Tolerance(rtol=2e-5, atol=2e-5),
}

# Central differences in float64 with step h: truncation error O(h^2 f'''), rounding O(eps/h).
FINITE_DIFFERENCE_STEP = 1e-6
FINITE_DIFFERENCE = Tolerance(rtol=1e-4, atol=1e-6)


# Several optimizer steps compound rounding (Adam divides by sqrt(v) + eps): a few hundred ulps
# after a handful of steps is the honest budget, still far below any real bug. In float32 a
# trajectory computed by the target drifts from the float64 twin by ~1e-6 relative per step,
# and a parameter near zero carries the absolute error of the terms that cancelled there.
TRAINING: dict[np.dtype, Tolerance] = {
    np.dtype(np.float64): Tolerance(rtol=1e-6, atol=1e-9),
    np.dtype(np.float32): Tolerance(rtol=1e-4, atol=1e-6),
}


# A float32 trajectory is held to float64 torch within SLACK_FACTOR x the drift torch's own
# float32 run of the same trajectory shows (momentum and large steps amplify rounding).
SLACK_FACTOR = 4
# Order laws of a schedule (monotone, bounded): a few ulps of max_lr.
ORDER_SLACK_ULPS = 8
# Values the bundled reference computes in two float64 evaluation orders (clipping's norms).
FEW_ULPS_F64 = Tolerance(rtol=1e-12, atol=0.0)
# A value a training run learns (w = 2 in y = 2x + 1): close, not exact.
LEARNED = Tolerance(rtol=1e-7, atol=1e-2)


def rounding(dtype: np.dtype | type, operations: int = 4) -> Tolerance:
    """The relative rounding of ``operations`` roundings in ``dtype`` (no absolute slack)."""
    return Tolerance(rtol=operations * float(np.finfo(np.dtype(dtype)).eps), atol=0.0)


def tolerance_for(dtype: np.dtype | type) -> Tolerance:
    return TOLERANCES[np.dtype(dtype)]


def training_tolerance(dtype: np.dtype | type) -> Tolerance:
    """For multi-step training trajectories computed in ``dtype``."""
    return TRAINING[np.dtype(dtype)]



# A whole transformer block (or a model of them) chains two LayerNorms, a softmax, GELU and
# seven matmuls, and in float32 their rounding compounds. Measured on 300 blocks drawn by
# samples.multi_head_attention(block=True): torch's own float32 gradients stray from its
# float64 ones by up to 5.2x the float32 tolerance above. A float32 target's whole model is
# held to 5x (properties.models). A real bug is off by 1e-1, not 1e-4.
BLOCK_FLOAT32 = Tolerance(rtol=1e-4, atol=1e-4)
