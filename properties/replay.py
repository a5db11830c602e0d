"""Replay one case outside pytest: what the repro scripts written by ``report`` call."""

from __future__ import annotations

import numpy as np

from oracles import autodiff
from properties import checks
from properties.registry import op_named
from properties.report import Mismatch
from properties.strategies import Sample


def replay(op_name: str, sample: Sample, upstream: np.ndarray | None = None) -> bool:
    """Print target and torch results side by side; returns True when everything matches."""
    op = op_named(op_name)
    tol = op.tolerance(sample.arrays[0].dtype)
    print(f"op {op_name}: {sample.describe()}")
    ok = True
    out, _ = checks.run(op, sample, requires_grad=False)
    ok &= _show("forward", checks.target.get().array(out), checks.oracle_forward(op, sample), tol)
    if upstream is not None:
        wrt = op.wrt(len(sample.arrays))
        _, grads = checks.target_vjp(op, sample, upstream)
        _, expected = autodiff.vjp(op.oracle, sample.arrays, upstream, wrt, **sample.kwargs)
        for i, got, want in zip(wrt, grads, expected):
            ok &= _show(f"gradient of input {i}", got, want, tol)
    print("all match" if ok else "MISMATCH")
    return ok


def _show(what: str, got: np.ndarray | None, want: np.ndarray, tol) -> bool:
    print(f"\n{what}:\n  target:    {got!r}\n  reference: {want!r}")
    if got is None or np.shape(got) != np.shape(want):
        print("  shapes differ" if got is not None else "  no gradient")
        return False
    m = Mismatch(got, want, tol)
    if not m.ok:
        print(m.describe())
    return m.ok
