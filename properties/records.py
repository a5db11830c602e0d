"""What a run records, beyond pass and fail: each failure as data, and the accuracy profile.

* :class:`Failure`: the structured twin of a failure message (property, component, target,
  inputs, the worst differences and where, the repro script). :mod:`properties.report` notes
  one whenever it formats a failure; the pytest plugin ``plugins/failure_reports.py`` takes the
  last one of a failed test (the shrunk example: Hypothesis replays it last), adds what only
  pytest knows (test id, Hypothesis's reproduce blob, the replay command) and writes it as JSON.
  Formatting a message writes no file.
* The accuracy profile: for every op, dtype and check, the worst error relative to the
  tolerance the target showed on any example. :func:`observe` also hands that figure to
  ``hypothesis.target``, so generation climbs toward the inputs where target and torch disagree
  most. Workers dump their profile; the controller merges them (:func:`merge_accuracy`).

The JSON schema (``SCHEMA``) is documented in the README; add fields, never rename them.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "tinytorch-harness/failure/1"
SMALL = 64  # arrays up to this many elements are recorded in full


def small(value: Any) -> Any:
    """A JSON-ready value: arrays up to ``SMALL`` elements as nested lists, larger as None."""
    if value is None:
        return None
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size > SMALL:
        return None
    return [None if not np.isfinite(v) else v for v in array.astype(np.float64).ravel()
            ] if array.dtype.kind == "f" else array.ravel().tolist()


def describe_array(value: Any) -> dict[str, Any]:
    array = np.asarray(value)
    return {"shape": list(array.shape), "dtype": str(array.dtype), "values": small(array)}


@dataclass
class Failure:
    """One failing check, as data. ``worst`` is empty for failures that are not a numeric
    comparison (a wrong shape, an exception that should have been raised)."""

    property: str
    component: str
    what: str
    target: str
    inputs: list[dict[str, Any]]
    kwargs: dict[str, str]
    detail: str
    script: str
    script_key: str
    worst: dict[str, Any] = field(default_factory=dict)
    upstream: dict[str, Any] | None = None
    # A series worth drawing: {"label": ..., "target": [...], "reference": [...]}
    curve: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    expected: dict[str, Any] | None = None

    def as_json(self, **pytest_fields: Any) -> dict[str, Any]:
        record = {"schema": SCHEMA, **asdict(self), **pytest_fields}
        record.pop("script")
        return record


_last: list[Failure] = []


def note_failure(failure: Failure) -> None:
    _last[:] = [failure]


def note_curve(label: str, target: Any, reference: Any) -> None:
    """Attach a series to the failure just noted (the report draws it)."""
    if _last:
        _last[0].curve = {"label": label, "target": _series(target),
                          "reference": _series(reference)}


def _series(values: Any) -> list[float | None]:
    """A 1-D series as JSON (NaN and inf as None), at most 1000 points."""
    return [float(v) if np.isfinite(v) else None
            for v in np.asarray(values, dtype=np.float64).ravel()[:1000]]


# What a plain unit test's checks are about, when they name no component: the running test
# file's subject (``layers`` for tests/test_layers.py), set by the plugin before each test.
_subject = ["test"]


def begin_test(subject: str) -> None:
    _subject[0] = subject


def current_subject() -> str:
    return _subject[0]


def take_last() -> Failure | None:
    """The last failure noted since the previous call (and forget it)."""
    found = _last[0] if _last else None
    _last.clear()
    return found


# ----------------------------------------------------------------------------- accuracy profile

_accuracy: dict[tuple[str, str, str], float] = {}


def observe(component: str, dtype: Any, check: str, ratio: float, label: str = "",
            steer: bool = False) -> None:
    """Record ``ratio`` = worst |difference| / allowed difference of one comparison made inside
    a Hypothesis test and, with ``steer`` (the op checks), steer generation toward inputs that
    make it larger (``hypothesis.target``). Not in stateful and training properties: there the
    climb would trade their spread of call sequences for one sequence's rounding. Comparisons
    outside ``@given`` (a harness test provoking a mutant on purpose) are not part of the
    target's profile."""
    from hypothesis import target
    from hypothesis.control import currently_in_test_context
    from hypothesis.errors import InvalidArgument

    if not currently_in_test_context():
        return
    ratio = float(ratio) if np.isfinite(ratio) else float(np.finfo(np.float64).max)
    key = (component, str(np.dtype(dtype)) if dtype is not None else "-", check)
    _accuracy[key] = max(_accuracy.get(key, 0.0), ratio)
    if steer:  # the same comparison twice in one example (InvalidArgument): the first steers
        with contextlib.suppress(InvalidArgument):
            target(ratio, label=f"{component} {check} {label} (error / tolerance)")


def accuracy() -> dict[tuple[str, str, str], float]:
    return dict(_accuracy)


def dump_accuracy(path: Path) -> None:
    rows = [{"component": c, "dtype": d, "check": k, "worst_ratio": r}
            for (c, d, k), r in sorted(_accuracy.items())]
    path.write_text(json.dumps(rows))


def merge_accuracy(paths: list[Path]) -> list[dict[str, Any]]:
    """The worst ratio per (component, dtype, check) over every worker's dump."""
    merged: dict[tuple[str, str, str], float] = {}
    for path in paths:
        for row in json.loads(path.read_text()):
            key = (row["component"], row["dtype"], row["check"])
            merged[key] = max(merged.get(key, 0.0), row["worst_ratio"])
    return [{"component": c, "dtype": d, "check": k, "worst_ratio": r}
            for (c, d, k), r in sorted(merged.items(), key=lambda kv: -kv[1])]
