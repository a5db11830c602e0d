"""Readable failures: what differs, where, by how much, and a script that reproduces it.

A maintainer reading a shrunk counterexample must see at once which op, which shapes and dtypes,
which argument's gradient, the largest absolute and relative differences with their positions,
both values there, and a command to replay it. :func:`assert_close` builds that message for
arrays and nested containers of them; building it writes nothing: when the test fails, the
pytest plugin (``plugins/failure_reports.py``) writes the replay script to ``.repro/`` and the
failure as JSON (the last, shrunk, failure wins).
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

from properties import records, target
from properties.locate import TARGET_ENV
from properties.tolerances import EXACT, Tolerance

REPRO_DIR = Path(os.environ.get("TINYTORCH_REPRO_DIR", ".repro"))


@dataclass
class Mismatch:
    """Elementwise comparison of ``actual`` against ``expected`` (the reference)."""

    actual: np.ndarray
    expected: np.ndarray
    tol: Tolerance
    # The magnitude rtol applies to, where it is not each reference element's own: a tensor's
    # largest entry, or the largest value a buffer held so far (rounding in a trajectory is
    # relative to the largest terms that went through the arithmetic). Scalar or elementwise.
    scale: Any = 0.0
    # An absolute allowance per element measured elsewhere (e.g. 4x what float32 rounding does
    # to torch's own run of the same trajectory); an element within it is close.
    slack: Any = None

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
            magnitude = np.maximum(np.abs(e), np.asarray(self.scale, dtype=np.float64))
            self.allowed = np.where(np.isfinite(e), self.tol.atol + self.tol.rtol * magnitude,
                                    0.0)
            if self.slack is not None:
                self.allowed = np.maximum(self.allowed, np.asarray(self.slack, np.float64))
        self.bad = self.abs_diff > self.allowed

    @property
    def ratio(self) -> float:
        """The worst |difference| as a fraction of what the tolerance allows there (> 1 fails;
        inf where a NaN or inf reference is missed)."""
        if self.abs_diff.size == 0:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(self.abs_diff == 0, 0.0, self.abs_diff / self.allowed)
        return float(np.nanmax(r))

    def worst(self) -> dict[str, Any]:
        """The worst absolute and relative differences, where, and both values there."""
        if self.abs_diff.size == 0:
            return {}
        found = {}
        for kind, diffs in (("absolute", self.abs_diff),
                            ("relative", np.where(self.bad, self.rel_diff, -1))):
            i = tuple(int(k) for k in np.unravel_index(np.argmax(diffs), diffs.shape))
            a, e = np.asarray(self.actual)[i].item(), np.asarray(self.expected)[i].item()
            found[kind] = {"difference": float(diffs[i]), "index": list(i),
                           "target": a, "reference": e}
        found.update(mismatched=int(self.bad.sum()), elements=int(self.bad.size),
                     rtol=self.tol.rtol, atol=self.tol.atol, ratio=self.ratio)
        return found

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
        budget = str(self.tol)
        if np.any(np.asarray(self.scale) > 0):
            budget += ", rtol applied to max(|reference|, the magnitude the values reached)"
        if self.slack is not None:
            budget += ", or within float32 torch's own drift x4"
        return "\n".join([
            f"  mismatched elements: {int(self.bad.sum())} / {self.bad.size} ({budget})",
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
        path = REPRO_DIR / (slug(key) + ".py")
        path.write_text(script)
        return path
    except OSError:
        return None


def slug(text: str) -> str:
    """``text`` as a file name: runs of anything but letters, digits, ``_.-`` become ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def repro_key(op_name: str, check: str, sample: Any) -> str:
    dtype = sample.arrays[0].dtype if getattr(sample, "arrays", None) else "_"
    return slug(f"{op_name}-{check}-{dtype}")


def failure_message(*, op_name: str, check: str, what: str, sample: Any, detail: str,
                    upstream: np.ndarray | None = None, replay_call: str | None = None,
                    mismatch: Mismatch | None = None) -> str:
    """The report of one failure; also noted as data (:mod:`properties.records`) for the JSON
    report. Writes nothing: the pytest plugin writes the script when the test fails."""
    script = repro_script(op_name, sample, upstream, replay_call) if sample is not None else ""
    key = repro_key(op_name, check, sample)
    arrays = list(getattr(sample, "arrays", ()))
    records.note_failure(records.Failure(
        property=check, component=op_name, what=what, target=target.get().describe(),
        inputs=[records.describe_array(a) for a in arrays if a is not None],
        kwargs={k: literal(v) for k, v in getattr(sample, "kwargs", {}).items()},
        detail=detail.strip(), script=script, script_key=key,
        worst=mismatch.worst() if mismatch is not None else {},
        upstream=records.describe_array(upstream) if upstream is not None else None,
        actual=records.describe_array(mismatch.actual) if mismatch is not None else None,
        expected=records.describe_array(mismatch.expected) if mismatch is not None else None))
    if sample is None:  # a plain unit test: the test itself is the reproduction
        return "\n".join([f"[{op_name}] {check}: {what}", detail])
    return "\n".join([
        f"[{op_name}] {check}: {what}",
        f"  {sample.describe()}",
        detail,
        f"  reproduce: python {REPRO_DIR / (key + '.py')}",
        "  --- repro script ---",
        script,
    ])


def fail(op_name: str, check: str, what: str, sample: Any, detail: str = "",
         upstream: np.ndarray | None = None, replay_call: str | None = None) -> NoReturn:
    """Raise the standard failure report for a law that is not a closeness comparison."""
    raise AssertionError(failure_message(op_name=op_name, check=check, what=what, sample=sample,
                                         detail=detail, upstream=upstream,
                                         replay_call=replay_call))


def expect_close(actual: Any, expected: Any, tol: Tolerance = EXACT, *,
                 what: str = "values differ", component: str | None = None,
                 check: str = "value", check_dtype: bool = False) -> None:
    """:func:`assert_close` for plain unit tests (no generated sample, so no repro script):
    arrays, numbers or nested dicts/lists of them; exact unless a tolerance is given. The
    component defaults to the running test file's subject (``layers``)."""
    assert_close(actual, expected, tol, op_name=component or records.current_subject(),
                 check=check, what=what, sample=None, check_dtype=check_dtype)


@dataclass(frozen=True)
class _Structure:
    """What one side has where two nested values differ in structure (keys, length)."""

    text: str


def _leaves(actual: Any, expected: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Pairs of leaves at the same place in two nested dicts/lists/tuples, with the place
    (``['state'][0]['exp_avg']``); a structural difference is yielded as :class:`_Structure`."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            keys = sorted(map(str, actual)) if isinstance(actual, dict) else type(actual).__name__
            yield path, _Structure(f"keys {keys}"), _Structure(f"keys {sorted(map(str, expected))}")
            return
        for k in expected:
            yield from _leaves(actual[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            n = len(actual) if isinstance(actual, (list, tuple)) else type(actual).__name__
            yield path, _Structure(f"length {n}"), _Structure(f"length {len(expected)}")
            return
        for k, (a, e) in enumerate(zip(actual, expected)):
            yield from _leaves(a, e, f"{path}[{k}]")
    else:
        yield path, actual, expected


def assert_close(actual: Any, expected: Any, tol: Tolerance, *, op_name: str, check: str,
                 what: str, sample: Any, upstream: np.ndarray | None = None,
                 replay_call: str | None = None, scale: Any = 0.0, slack: Any = None,
                 check_dtype: bool = False, steer: bool = False, curve: str | None = None) -> None:
    """Fail with a full report unless ``actual`` matches ``expected`` in structure, shape and
    value. Either may be an array, a number, None, or dicts/lists/tuples of them (parameters,
    optimizer state, histories): the report names the first item that differs, "The failure
    occurred for item ['state'][0]['exp_avg']", as ``torch.testing.assert_close`` does.
    ``scale`` and ``slack`` widen the budget as :class:`Mismatch` says; ``check_dtype`` also
    demands equal dtypes (state that must round-trip exactly). Every comparison also feeds the
    accuracy profile; with ``steer`` it also steers Hypothesis toward larger errors. ``curve``
    names a series (a learning rate by epoch, a loss history): the report draws target against
    torch, where a person sees at once at which step they part."""
    for path, a, e in _leaves(actual, expected):
        where = f"\n  The failure occurred for item {path}" if path else ""
        mismatch = None
        if isinstance(a, _Structure):
            detail = f"  structure: target has {a.text}, reference has {e.text}"
        elif (a is None) != (e is None):
            detail = f"  target {'is None' if a is None else 'has a value'}, reference " \
                     f"{'is None' if e is None else 'has a value'}"
        elif a is None:
            continue
        else:
            a, e = np.asarray(a), np.asarray(e)
            if a.shape != e.shape:
                detail = f"  shape: target {a.shape}, reference {e.shape}"
            elif check_dtype and a.dtype != e.dtype:
                detail = f"  dtype: target {a.dtype}, reference {e.dtype}"
            elif a.dtype.kind not in "biuf" or e.dtype.kind not in "biuf":
                if a.tolist() == e.tolist():
                    continue
                detail = f"  value: target {a.tolist()!r}, reference {e.tolist()!r}"
            else:
                mismatch = Mismatch(a, e, tol, scale, slack)
                records.observe(op_name, a.dtype if a.dtype.kind == "f" else None, check,
                                mismatch.ratio, label=f"{what}{path}", steer=steer)
                if mismatch.ok:
                    continue
                detail = mismatch.describe()
        message = failure_message(
            op_name=op_name, check=check, what=what + (f" (item {path})" if path else ""),
            sample=sample, detail=detail + where, upstream=upstream, replay_call=replay_call,
            mismatch=mismatch)
        if curve is not None and mismatch is not None and np.ndim(a) == 1:
            records.note_curve(curve, a, e)
        raise AssertionError(message)
