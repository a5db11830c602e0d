"""A call that fails changes nothing: ``optimizer.step()`` with one bad gradient, and
``load_state_dict`` with a bad state (see :mod:`properties.optimizers`), leave every parameter
and all optimizer state exactly as they were, so the caller can fix the input and go on.

A step that updates parameter 0 and then raises on parameter 1 leaves the model half-stepped:
momentum advanced for some parameters, not others, and no error message can say which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from properties import target
from properties.optimizers import make_target_optimizer
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import EXACT


@replayable
def check_failing_step_changes_nothing(kind: str, hyper: dict[str, Any],
                                       initial: Sequence[np.ndarray],
                                       warm_grads: Sequence[np.ndarray], bad_at: int) -> None:
    """One good step (so there is state), then a step where parameter ``bad_at``'s gradient
    has the wrong shape: it must raise, and parameters and ``state_dict()`` must be unchanged."""
    tt = target.get()
    sample = Sample(tuple(initial), {"optimizer": kind, "hyper": hyper, "bad_at": bad_at})
    dtype = tt.compute_dtype()
    params = [tt.tensor(np.array(a, dtype=dtype), requires_grad=True) for a in initial]
    optimizer = make_target_optimizer(kind, params, hyper)
    for p, g in zip(params, warm_grads):
        tt.set_grad(p, np.array(g, dtype=dtype))
    optimizer.step()
    before = [tt.array(p).copy() for p in params]
    state = optimizer.state_dict() if hasattr(optimizer, "state_dict") else None
    for i, (p, g) in enumerate(zip(params, warm_grads)):
        bad = np.zeros((*np.shape(g), 2), dtype=dtype)  # one axis too many
        tt.set_grad(p, bad if i == bad_at else np.array(g, dtype=dtype))
    try:
        optimizer.step()
    except Exception:  # noqa: BLE001 - any error will do; what matters is what it left behind
        pass
    else:
        fail(kind, "failing step", f"step() accepted a gradient of shape "
             f"{(*np.shape(warm_grads[bad_at]), 2)} for parameter {bad_at} of shape "
             f"{np.shape(initial[bad_at])}", sample)
    assert_close([tt.array(p) for p in params], before, EXACT, check_dtype=True, op_name=kind,
                 check="failing step", sample=sample,
                 what="a step() that raised still changed the parameters")
    if state is not None:
        assert_close(optimizer.state_dict(), state, EXACT, check_dtype=True, op_name=kind,
                     check="failing step", sample=sample,
                     what="a step() that raised still changed the optimizer's state")
