"""Readable failures: what differs, where, by how much, and a script that reproduces it.

A maintainer reading a shrunk counterexample must see at once which op, which shapes and dtypes,
which argument's gradient, the largest absolute and relative differences with their positions,
both values there, and a command to replay it. :func:`assert_close` builds that message and
writes the replay script to ``.repro/`` (the last, shrunk, failure wins).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from properties import target
from properties.locate import TARGET_ENV
from properties.tolerances import Tolerance

REPRO_DIR = Path(os.environ.get("TINYTORCH_REPRO_DIR", ".repro"))


@dataclass
class Mismatch:
    """Elementwise comparison of ``actual`` against ``expected`` (the reference)."""

    actual: np.ndarray
    expected: np.ndarray
    tol: Tolerance

    def __post_init__(self) -> None:
        a = np.asarray(self.actual, dtype=np.float64)
        e = np.asarray(self.expected, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # inf - inf: handled just below
            self.abs_diff = np.abs(a - e)
        same_nonfinite = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
        self.abs_diff = np.where(same_nonfinite, 0.0, self.abs_diff)
        self.abs_diff = np.where(np.isnan(self.abs_diff), np.inf, self.abs_diff)
        with np.errstate(invalid="ignore"):  # NaN reference: its rel_diff is NaN, never worst
            self.rel_diff = self.abs_diff / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
        # Where the reference is NaN or inf only the same value is close: the budget is 0
        # there (``rtol * inf`` would accept anything, and comparisons with NaN are False).
        with np.errstate(invalid="ignore"):
            allowed = np.where(np.isfinite(e), self.tol.atol + self.tol.rtol * np.abs(e), 0.0)
        self.bad = self.abs_diff > allowed

    @property
    def ok(self) -> bool:
        return not self.bad.any()

    def _at(self, index: tuple[int, ...]) -> str:
        a, e = np.asarray(self.actual)[index].item(), np.asarray(self.expected)[index].item()
        return f"at index {index}: target={a!r}, reference={e!r}"

    def describe(self) -> str:
        worst_abs = np.unravel_index(np.argmax(self.abs_diff), self.abs_diff.shape)
        worst_rel = np.unravel_index(np.argmax(np.where(self.bad, self.rel_diff, -1)),
                                     self.abs_diff.shape)
        worst_abs = tuple(int(i) for i in worst_abs)
        worst_rel = tuple(int(i) for i in worst_rel)
        return "\n".join([
            f"  mismatched elements: {int(self.bad.sum())} / {self.bad.size} ({self.tol})",
            f"  greatest absolute difference: {self.abs_diff[worst_abs]:.6g} {self._at(worst_abs)}",
            f"  greatest relative difference: {self.rel_diff[worst_rel]:.6g} {self._at(worst_rel)}",
        ])


def literal(value: Any) -> str:
    """Python source that rebuilds ``value`` exactly (arrays at full precision)."""
    if isinstance(value, np.ndarray):
        body = np.array2string(value, separator=", ", threshold=sys.maxsize,
                               floatmode="unique", max_line_width=100)
        body = re.sub(r"\b(nan|inf)\b", r"np.\1", body)
        return f"np.array({body}, dtype=np.{value.dtype})"
    if isinstance(value, tuple):
        return "(" + "".join(literal(v) + ", " for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (np.floating, np.integer)):
        return repr(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"{type(value).__name__}(" + ", ".join(
            f"{f.name}={literal(getattr(value, f.name))}" for f in dataclasses.fields(value)) + ")"
    return repr(value)


def replayable(check: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a property ``check(*args)`` so that a failure inside it writes a repro script
    that calls it again with the same arguments (dataclasses rebuilt field by field)."""

    @functools.wraps(check)
    def wrapper(*args: Any) -> Any:
        imports = sorted({f"from {type(a).__module__} import {type(a).__name__}" for a in args
                          if dataclasses.is_dataclass(a) and not isinstance(a, type)})
        call = "\n".join([*imports, f"import {check.__module__} as P", f"P.{check.__name__}(",
                          *(f"    {literal(a)}," for a in args), ")"])
        with replay_as(call):
            return check(*args)

    return wrapper


_REPLAY: contextvars.ContextVar[str | None] = contextvars.ContextVar("replay", default=None)


@contextlib.contextmanager
def replay_as(call: str) -> Iterator[None]:
    """Within the block, failures that name no ``replay_call`` replay with ``call`` (Python
    source that re-runs the whole property, e.g. ``training.check_x(case)``)."""
    token = _REPLAY.set(call)
    try:
        yield
    finally:
        _REPLAY.reset(token)


def repro_script(op_name: str, sample: Any, upstream: np.ndarray | None,
                 replay_call: str | None = None) -> str:
    """A standalone script. By default it replays a registry op (target vs torch, forward and
    gradients); laws that are not registry ops pass their own ``replay_call``, which may use
    ``arrays`` and ``kwargs``."""
    call = (replay_call or _REPLAY.get()
            or f"raise SystemExit(0 if replay({op_name!r}, sample, upstream) else 1)")
    return "\n".join([
        f'"""Replay of a failing {op_name!r} case against the target it failed on.',
        "",
        "Exits 1 while the mismatch reproduces, 0 once target and torch agree (git bisect run).",
        '"""',
        "import os",
        "",
        "import numpy as np",
        "",
        f"os.environ.setdefault({TARGET_ENV!r}, {_target_name()!r})",
        "from properties import target  # noqa: E402",
        "",
        'print(f"replaying against {target.get().describe()}")',
        "from properties import laws  # noqa: E402,F401",
        "from properties.replay import replay  # noqa: E402,F401",
        "from properties.strategies import Sample  # noqa: E402",
        "",
        f"sample = Sample(\n    arrays={literal(tuple(sample.arrays))},\n"
        f"    kwargs={literal(sample.kwargs)},\n)",
        "arrays, kwargs = sample.arrays, sample.kwargs",
        f"upstream = {literal(upstream) if upstream is not None else None}",
        call,
        "",
    ])


def _target_name() -> str:
    """The target as the script must name it: a directory target by its absolute path."""
    spec = target.get().spec
    return str(spec.directory) if spec.directory is not None else spec.package


def write_repro(key: str, script: str) -> Path | None:
    """Write the script under ``.repro/``; returns its path (None if the disk refuses)."""
    try:
        REPRO_DIR.mkdir(parents=True, exist_ok=True)
        path = REPRO_DIR / (re.sub(r"[^A-Za-z0-9_.-]+", "_", key) + ".py")
        path.write_text(script)
        return path
    except OSError:
        return None


def failure_message(*, op_name: str, check: str, what: str, sample: Any, detail: str,
                    upstream: np.ndarray | None = None, replay_call: str | None = None) -> str:
    script = repro_script(op_name, sample, upstream, replay_call)
    dtype = sample.arrays[0].dtype if sample.arrays else "?"
    path = write_repro(f"{op_name}-{check}-{dtype}", script)
    where = f"python {path}" if path else "(could not write the script; it follows)"
    return "\n".join([
        f"[{op_name}] {check}: {what}",
        f"  {sample.describe()}",
        detail,
        f"  reproduce: {where}",
        "  --- repro script ---",
        script,
    ])


def fail(op_name: str, check: str, what: str, sample: Any, detail: str = "",
         upstream: np.ndarray | None = None, replay_call: str | None = None) -> NoReturn:
    """Raise the standard failure report for a law that is not a closeness comparison."""
    raise AssertionError(failure_message(op_name=op_name, check=check, what=what, sample=sample,
                                         detail=detail, upstream=upstream,
                                         replay_call=replay_call))


def assert_close(actual: Any, expected: Any, tol: Tolerance, *, op_name: str, check: str,
                 what: str, sample: Any, upstream: np.ndarray | None = None,
                 replay_call: str | None = None) -> None:
    """Fail with a full report unless ``actual`` matches ``expected`` in shape and value."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        detail = f"  shape: target {actual.shape}, reference {expected.shape}"
    else:
        m = Mismatch(actual, expected, tol)
        if m.ok:
            return
        detail = m.describe()
    raise AssertionError(failure_message(op_name=op_name, check=check, what=what, sample=sample,
                                         detail=detail, upstream=upstream,
                                         replay_call=replay_call))
